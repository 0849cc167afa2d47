/*
 * Guest side of the shared-memory test: finds the vhost-user shmem device
 * (virtio type 63, PCI 1af4:107f), locates region 0 through its virtio
 * shared-memory capability (cfg_type 8: BAR, offset, length), maps the BAR
 * via sysfs, checks the back-end's pattern at MAP_OFFSET and writes the
 * value the back-end waits for. Exit 0 when the pattern was right.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define DEVICE_ID "0x107f"
#define CAP_VENDOR 0x09
#define CAP_SHARED_MEMORY 8
#define MAP_OFFSET 0x100000u
#define MAP_LEN 0x10000u
#define CHECK_OFFSET 0x8000u
#define GUEST_MAGIC 0x600df00du

struct shm_cap {
	unsigned bar, id;
	uint64_t offset, length;
};

static int read_attr(const char *dev, const char *name, char *buf, size_t len)
{
	char path[700];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dev, name);
	f = fopen(path, "r");
	if (!f || !fgets(buf, (int)len, f)) {
		if (f)
			fclose(f);
		return -1;
	}
	fclose(f);
	buf[strcspn(buf, "\n")] = 0;
	return 0;
}

static int find_device(char *dev, size_t len)
{
	DIR *dir = opendir("/sys/bus/pci/devices");
	struct dirent *e;
	char v[32], d[32];

	while (dir && (e = readdir(dir))) {
		snprintf(dev, len, "/sys/bus/pci/devices/%s", e->d_name);
		if (read_attr(dev, "vendor", v, sizeof(v)) == 0 && !strcmp(v, "0x1af4") &&
		    read_attr(dev, "device", d, sizeof(d)) == 0 && !strcmp(d, DEVICE_ID)) {
			closedir(dir);
			return 0;
		}
	}
	if (dir)
		closedir(dir);
	return -1;
}

static uint32_t le32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Walks the capability list for a shared-memory capability with id shmid. */
static int find_cap(const char *dev, unsigned shmid, struct shm_cap *cap)
{
	uint8_t cfg[256] = {0};
	char path[700];
	unsigned pos, hops = 0;
	int fd;

	snprintf(path, sizeof(path), "%s/config", dev);
	fd = open(path, O_RDONLY);
	if (fd < 0 || read(fd, cfg, sizeof(cfg)) < 64)
		return -1;
	close(fd);
	for (pos = cfg[0x34] & ~3u; pos >= 0x40 && pos < 0xec && hops++ < 48;
	     pos = cfg[pos + 1] & ~3u) {
		if (cfg[pos] != CAP_VENDOR || cfg[pos + 3] != CAP_SHARED_MEMORY ||
		    cfg[pos + 5] != shmid)
			continue;
		cap->bar = cfg[pos + 4];
		cap->id = cfg[pos + 5];
		cap->offset = le32(cfg + pos + 8) | (uint64_t)le32(cfg + pos + 16) << 32;
		cap->length = le32(cfg + pos + 12) | (uint64_t)le32(cfg + pos + 20) << 32;
		return 0;
	}
	return -1;
}

int main(void)
{
	char dev[300], path[700];
	struct shm_cap cap;
	volatile uint32_t *words;
	uint8_t *bar;
	unsigned i, bad = 0;
	int fd;

	if (find_device(dev, sizeof(dev)) < 0 || find_cap(dev, 0, &cap) < 0) {
		printf("VMM-GUEST: shmem: no device %s with a shared-memory capability\n",
		       DEVICE_ID);
		return 1;
	}
	printf("VMM-GUEST: shmem: region 0 in BAR %u at +0x%llx, 0x%llx bytes\n", cap.bar,
	       (unsigned long long)cap.offset, (unsigned long long)cap.length);
	if (cap.length < MAP_OFFSET + MAP_LEN || cap.offset % 4096)
		return 1;
	snprintf(path, sizeof(path), "%s/resource%u", dev, cap.bar);
	fd = open(path, O_RDWR | O_SYNC);
	bar = fd < 0 ? MAP_FAILED
		     : mmap(NULL, cap.length, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
			    (off_t)cap.offset);
	if (bar == MAP_FAILED) {
		perror(path);
		return 1;
	}
	words = (volatile uint32_t *)(bar + MAP_OFFSET);
	for (i = 0; i < MAP_LEN / 4; i++)
		bad += words[i] != 0x53480000u + i;
	printf("VMM-GUEST: shmem: pattern check: %u bad words of %u (first 0x%08x)\n", bad,
	       MAP_LEN / 4, words[0]);
	words[CHECK_OFFSET / 4] = GUEST_MAGIC;
	printf("VMM-GUEST: shmem: wrote 0x%x for the back-end\n", GUEST_MAGIC);
	return bad ? 1 : 0;
}
