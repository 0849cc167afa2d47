/*
 * Guest side of the shared-memory test: finds the vhost-user shmem device
 * (virtio type 63, PCI 1af4:107f), locates region 0 through its virtio
 * shared-memory capability (cfg_type 8: BAR, offset, length), maps the BAR
 * via sysfs and checks the back-end's pattern at MAP_OFFSET. Then, by mode:
 *   shmem-bar            writes the value the back-end waits for, then waits
 *                        until the back-end's SHMEM_UNMAP makes it read 0
 *   shmem-bar reset      unbinds virtio-pci, drives the device to DRIVER_OK
 *                        through its common config (BAR 0), resets it, and
 *                        wants the region to read 0 (reset unmaps everything)
 * Exit 0 when every check held.
 */
#include <dirent.h>
#include <stdbool.h>
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
#define CAP_COMMON_CFG 1
#define COMMON_DRIVER_FEATURE_SELECT 8
#define COMMON_DRIVER_FEATURE 12
#define COMMON_STATUS 20
#define STATUS_ACK_DRIVER 3
#define STATUS_FEATURES_OK 8
#define STATUS_DRIVER_OK 4
#define STATUS_NEEDS_RESET 0x40
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

/* Walks the capability list for a virtio capability of cfg_type (and id, for shared memory). */
static int find_cap(const char *dev, unsigned cfg_type, unsigned shmid, struct shm_cap *cap)
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
		if (cfg[pos] != CAP_VENDOR || cfg[pos + 3] != cfg_type ||
		    (cfg_type == CAP_SHARED_MEMORY && cfg[pos + 5] != shmid))
			continue;
		cap->bar = cfg[pos + 4];
		cap->id = cfg[pos + 5];
		cap->offset = le32(cfg + pos + 8);
		cap->length = le32(cfg + pos + 12);
		if (cfg_type == CAP_SHARED_MEMORY) {
			cap->offset |= (uint64_t)le32(cfg + pos + 16) << 32;
			cap->length |= (uint64_t)le32(cfg + pos + 20) << 32;
		}
		return 0;
	}
	return -1;
}

static void *map_bar(const char *dev, unsigned bar, uint64_t offset, uint64_t length)
{
	char path[700];
	void *p;
	int fd;

	snprintf(path, sizeof(path), "%s/resource%u", dev, bar);
	fd = open(path, O_RDWR | O_SYNC);
	p = fd < 0 ? MAP_FAILED
		   : mmap(NULL, length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)offset);
	if (p == MAP_FAILED)
		perror(path);
	if (fd >= 0)
		close(fd);
	return p == MAP_FAILED ? NULL : p;
}

/* Counts words of the mapping that are not 0 (the region reads 0 where nothing is mapped). */
static unsigned nonzero_words(volatile uint32_t *words)
{
	unsigned i, n = 0;

	for (i = 0; i < MAP_LEN / 4; i++)
		n += words[i] != 0;
	return n;
}

static int wait_for_zero(volatile uint32_t *words, const char *why)
{
	unsigned i, left = 0;

	for (i = 0; i < 100 && (left = nonzero_words(words)); i++)
		usleep(100000);
	printf("VMM-GUEST: shmem: after %s: %u non-zero words\n", why, left);
	return left ? 1 : 0;
}

static int write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	int ok = f && fputs(text, f) >= 0;

	if (f && fclose(f))
		ok = 0;
	return ok ? 0 : -1;
}

/* Frees BAR 0 from virtio-pci (strict devmem forbids mapping a claimed BAR). */
static int unbind_driver(const char *dev)
{
	char path[700];

	snprintf(path, sizeof(path), "%s/driver/unbind", dev);
	if (access(path, F_OK) == 0 && write_file(path, strrchr(dev, '/') + 1) < 0) {
		perror(path);
		return -1;
	}
	snprintf(path, sizeof(path), "%s/enable", dev);
	return write_file(path, "1");
}

/* Drives the device to DRIVER_OK (no queues) and resets it through common config. */
static int activate_and_reset(const char *dev)
{
	struct shm_cap common;
	volatile uint8_t *cfg;
	uint8_t status;

	if (unbind_driver(dev) < 0 || find_cap(dev, CAP_COMMON_CFG, 0, &common) < 0)
		return -1;
	cfg = map_bar(dev, common.bar, 0, 0x4000);
	if (!cfg)
		return -1;
	cfg += common.offset;
	cfg[COMMON_STATUS] = 0;
	cfg[COMMON_STATUS] = STATUS_ACK_DRIVER;
	*(volatile uint32_t *)(cfg + COMMON_DRIVER_FEATURE_SELECT) = 1;
	*(volatile uint32_t *)(cfg + COMMON_DRIVER_FEATURE) = 1; /* VERSION_1 */
	cfg[COMMON_STATUS] = STATUS_ACK_DRIVER | STATUS_FEATURES_OK;
	cfg[COMMON_STATUS] = STATUS_ACK_DRIVER | STATUS_FEATURES_OK | STATUS_DRIVER_OK;
	status = cfg[COMMON_STATUS];
	printf("VMM-GUEST: shmem: device status after DRIVER_OK: 0x%x\n", status);
	if (!(status & STATUS_DRIVER_OK) || (status & STATUS_NEEDS_RESET))
		return -1;
	cfg[COMMON_STATUS] = 0;
	printf("VMM-GUEST: shmem: device reset, status 0x%x\n", cfg[COMMON_STATUS]);
	return 0;
}

int main(int argc, char **argv)
{
	bool reset = argc > 1 && !strcmp(argv[1], "reset");
	char dev[300];
	struct shm_cap cap;
	volatile uint32_t *words;
	uint8_t *bar;
	unsigned i, bad = 0;

	if (find_device(dev, sizeof(dev)) < 0 || find_cap(dev, CAP_SHARED_MEMORY, 0, &cap) < 0) {
		printf("VMM-GUEST: shmem: no device %s with a shared-memory capability\n",
		       DEVICE_ID);
		return 1;
	}
	printf("VMM-GUEST: shmem: region 0 in BAR %u at +0x%llx, 0x%llx bytes\n", cap.bar,
	       (unsigned long long)cap.offset, (unsigned long long)cap.length);
	if (cap.length < MAP_OFFSET + MAP_LEN || cap.offset % 4096)
		return 1;
	bar = map_bar(dev, cap.bar, cap.offset, cap.length);
	if (!bar)
		return 1;
	words = (volatile uint32_t *)(bar + MAP_OFFSET);
	for (i = 0; i < MAP_LEN / 4; i++)
		bad += words[i] != 0x53480000u + i;
	printf("VMM-GUEST: shmem: pattern check: %u bad words of %u (first 0x%08x)\n", bad,
	       MAP_LEN / 4, words[0]);
	if (bad)
		return 1;
	if (reset)
		return activate_and_reset(dev) < 0 ? 1 : wait_for_zero(words, "device reset");
	words[CHECK_OFFSET / 4] = GUEST_MAGIC;
	printf("VMM-GUEST: shmem: wrote 0x%x for the back-end\n", GUEST_MAGIC);
	return wait_for_zero(words, "the back-end's unmap");
}
