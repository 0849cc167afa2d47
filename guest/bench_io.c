/* bench_io: guest side of tools/bench: timed /dev/hwrng reads and O_DIRECT disk I/O, with rates. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/fs.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

/*
 * Window markers: one byte written to port 0x80 (the POST port, which both
 * monitors accept) is one userspace exit the host sees in the kvm:kvm_pio
 * trace event; it counts the exits strictly between a start and an end mark.
 */
#define MARK_PORT 0x80
#define MARK_RNG_START 0xb1
#define MARK_RNG_END 0xb2
#define MARK_BLK_START 0xb3
#define MARK_BLK_END 0xb4

#define IO_SIZE 4096
/* Reads from /dev/hwrng in these chunks; the driver asks the device for 64 bytes at a time. */
#define RNG_READ_SIZE 4096
/* I/O stays within the first 64 MiB of the disk (or the whole disk when smaller). */
#define BLK_REGION_BYTES (64ull << 20)

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * Writes the marker byte through /dev/port, so the kernel executes the
 * `out` (user-mode ioperm faults under QEMU TCG's nested SVM).
 */
static int mark(unsigned char value)
{
	int fd = open("/dev/port", O_WRONLY | O_CLOEXEC);
	int err = 0;

	if (fd < 0)
		return -errno;
	if (pwrite(fd, &value, 1, MARK_PORT) != 1)
		err = -errno;
	close(fd);
	return err;
}

/* Finds the virtio device the driver $driver is bound to, e.g. "virtio0"; 0 or -errno. */
static int bound_virtio_device(const char *driver, char *name, size_t size)
{
	char path[128];
	struct dirent *entry;
	DIR *dir;
	int err = -ENODEV;

	snprintf(path, sizeof(path), "/sys/bus/virtio/drivers/%s", driver);
	dir = opendir(path);
	if (!dir)
		return -errno;
	while ((entry = readdir(dir)) != NULL) {
		if (strncmp(entry->d_name, "virtio", 6) == 0 && entry->d_name[6] >= '0' &&
		    entry->d_name[6] <= '9') {
			snprintf(name, size, "%s", entry->d_name);
			err = 0;
			break;
		}
	}
	closedir(dir);
	return err;
}

/* True when the interrupt name (last word of a /proc/interrupts line) belongs to device. */
static bool irq_name_matches(const char *line, const char *device)
{
	const char *name = strrchr(line, ' ');
	size_t len = strlen(device);

	name = name ? name + 1 : line;
	return strncmp(name, device, len) == 0 &&
	       (name[len] == '-' || name[len] == '\n' || name[len] == '\0');
}

/* Sums the per-CPU counts of device's interrupt lines; notes whether they are MSI. */
static long long count_irqs(const char *device, bool *msi)
{
	char line[512];
	long long total = 0;
	FILE *f = fopen("/proc/interrupts", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *p = strchr(line, ':'), *end;

		if (!p || !irq_name_matches(line, device))
			continue;
		*msi = *msi || strstr(line, "MSI") != NULL;
		for (p++;; p = end) {
			long long n = strtoll(p, &end, 10);
			if (end == p)
				break;
			total += n;
		}
	}
	fclose(f);
	return total;
}

/* Reads /dev/hwrng for `seconds`; prints bytes, time and the rng's interrupts. */
static int bench_rng(double seconds)
{
	static char buf[RNG_READ_SIZE];
	char device[NAME_MAX + 1];
	long long bytes = 0, irq_before, irq_after;
	bool msi = false;
	double start, elapsed;
	int fd;

	if (bound_virtio_device("virtio_rng", device, sizeof(device)) != 0) {
		fprintf(stderr, "bench_io: no device bound to virtio_rng\n");
		return 1;
	}
	fd = open("/dev/hwrng", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || read(fd, buf, sizeof(buf)) <= 0) { /* warm-up */
		perror("bench_io: /dev/hwrng");
		return 1;
	}
	irq_before = count_irqs(device, &msi);
	mark(MARK_RNG_START);
	start = now_s();
	do {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n <= 0) {
			perror("bench_io: read /dev/hwrng");
			return 1;
		}
		bytes += n;
		elapsed = now_s() - start;
	} while (elapsed < seconds);
	mark(MARK_RNG_END);
	irq_after = count_irqs(device, &msi);
	close(fd);
	printf("VMM-GUEST: bench: rng device=%s bytes=%lld seconds=%.3f irqs=%lld irq_mode=%s\n",
	       device, bytes, elapsed, irq_after - irq_before, msi ? "msi" : "intx");
	return 0;
}

/* xorshift64: a cheap, well-spread sequence of block numbers. */
static uint64_t next_random(uint64_t *state)
{
	*state ^= *state << 13;
	*state ^= *state >> 7;
	*state ^= *state << 17;
	return *state;
}

/* One timed I/O phase over the region's blocks, and what it achieved. */
struct phase {
	const char *name;
	bool write;
	bool random;
	long long ios;
	double seconds;
};

/*
 * Runs one phase for `seconds`; records I/Os and time in ph (printed later:
 * console output inside the measured window would add exits). 0 or -1.
 */
static int run_phase(int fd, struct phase *ph, char *buf, uint64_t blocks, double seconds)
{
	uint64_t block = 0, seed = 0x9e3779b97f4a7c15ull;
	long long ios = 0;
	double start = now_s(), elapsed;

	do {
		off_t offset;
		ssize_t n;

		block = ph->random ? next_random(&seed) % blocks : (block + 1) % blocks;
		offset = (off_t)(block * IO_SIZE);
		n = ph->write ? pwrite(fd, buf, IO_SIZE, offset) : pread(fd, buf, IO_SIZE, offset);
		if (n != IO_SIZE) {
			fprintf(stderr, "bench_io: %s at %lld: %s\n", ph->name, (long long)offset,
				n < 0 ? strerror(errno) : "short transfer");
			return -1;
		}
		ios++;
		elapsed = now_s() - start;
	} while (elapsed < seconds);
	ph->ios = ios;
	ph->seconds = elapsed;
	return 0;
}

static void print_phase(const struct phase *ph)
{
	printf("VMM-GUEST: bench: blk %s ios=%lld seconds=%.3f mbps=%.2f iops=%.0f\n", ph->name,
	       ph->ios, ph->seconds, (double)ph->ios * IO_SIZE / ph->seconds / 1e6,
	       (double)ph->ios / ph->seconds);
}

/* Sequential and random 4 KiB reads and writes with O_DIRECT, `seconds` each. */
static int bench_blk(const char *path, double seconds)
{
	struct phase phases[] = {
	    {.name = "seqread"},
	    {.name = "seqwrite", .write = true},
	    {.name = "randread", .random = true},
	    {.name = "randwrite", .write = true, .random = true},
	};
	const size_t nphases = sizeof(phases) / sizeof(phases[0]);
	uint64_t size = 0, blocks;
	long long total = 0;
	void *buf = NULL;
	int fd = open(path, O_RDWR | O_DIRECT | O_CLOEXEC), rc = 1;

	if (fd < 0 || ioctl(fd, BLKGETSIZE64, &size) != 0) {
		fprintf(stderr, "bench_io: %s: %s\n", path, strerror(errno));
		return 1;
	}
	blocks = (size < BLK_REGION_BYTES ? size : BLK_REGION_BYTES) / IO_SIZE;
	if (blocks == 0 || posix_memalign(&buf, IO_SIZE, IO_SIZE) != 0)
		goto out;
	memset(buf, 0x5a, IO_SIZE);
	mark(MARK_BLK_START);
	for (size_t i = 0; i < nphases; i++) {
		if (run_phase(fd, &phases[i], buf, blocks, seconds) != 0)
			goto out;
		total += phases[i].ios;
	}
	mark(MARK_BLK_END);
	for (size_t i = 0; i < nphases; i++)
		print_phase(&phases[i]);
	printf("VMM-GUEST: bench: blk total_ios=%lld\n", total);
	rc = 0;
out:
	free(buf);
	close(fd);
	return rc;
}

int main(int argc, char **argv)
{
	double seconds = argc > 2 ? strtod(argv[argc - 1], NULL) : 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 3 && strcmp(argv[1], "rng") == 0 && seconds > 0)
		return bench_rng(seconds);
	if (argc == 4 && strcmp(argv[1], "blk") == 0 && seconds > 0)
		return bench_blk(argv[2], seconds);
	fprintf(stderr, "usage: %s rng SECONDS | blk DEVICE SECONDS\n", argv[0]);
	return 2;
}
