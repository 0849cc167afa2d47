/* blkcheck: vmm-try's block workload: patterned O_DIRECT I/O, flush, discard, zeroes, random IOPS.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define ALIGN 4096
#define MAX_IO (1u << 20)

struct disk {
	int fd;
	uint64_t bytes;
	unsigned lbs;
	unsigned char *buf, *back;
};

/* The pattern byte at disk offset off, seeded so that a stale block never matches. */
static unsigned char pattern_byte(uint64_t off, unsigned seed)
{
	uint64_t x = (off + 1) * 0x9e3779b97f4a7c15ull ^ seed;

	return (unsigned char)(x >> 56);
}

static void fill(unsigned char *p, uint64_t off, size_t len, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = pattern_byte(off + i, seed);
}

/* A short transfer counts as an I/O error (errno stays 0 otherwise). */
static int full_pwrite(int fd, const void *p, size_t len, uint64_t off)
{
	errno = EIO;
	return pwrite(fd, p, len, (off_t)off) == (ssize_t)len ? 0 : -1;
}

static int full_pread(int fd, void *p, size_t len, uint64_t off)
{
	errno = EIO;
	return pread(fd, p, len, (off_t)off) == (ssize_t)len ? 0 : -1;
}

/* Opens dev with O_DIRECT and learns its size and logical block size. */
static int disk_open(struct disk *d, const char *dev)
{
	int lbs = 512;

	d->fd = open(dev, O_RDWR | O_DIRECT);
	if (d->fd < 0 || ioctl(d->fd, BLKGETSIZE64, &d->bytes) < 0 ||
	    ioctl(d->fd, BLKSSZGET, &lbs) < 0) {
		printf("error: %s: %s\n", dev, strerror(errno));
		return -1;
	}
	d->lbs = (unsigned)lbs;
	if (posix_memalign((void **)&d->buf, ALIGN, MAX_IO) ||
	    posix_memalign((void **)&d->back, ALIGN, MAX_IO))
		return -1;
	return 0;
}

/* Writes len bytes of pattern at off, reads them back and compares; 0 when equal. */
static int pattern_at(struct disk *d, uint64_t off, size_t len, unsigned seed)
{
	fill(d->buf, off, len, seed);
	if (full_pwrite(d->fd, d->buf, len, off) < 0) {
		printf("error: write %zu@%llu: %s\n", len, (unsigned long long)off,
		       strerror(errno));
		return -1;
	}
	memset(d->back, 0xa5, len);
	if (full_pread(d->fd, d->back, len, off) < 0) {
		printf("error: read %zu@%llu: %s\n", len, (unsigned long long)off, strerror(errno));
		return -1;
	}
	for (size_t i = 0; i < len; i++) {
		if (d->back[i] != d->buf[i]) {
			printf("error: %zu@%llu: byte %zu reads 0x%02x, wrote 0x%02x\n", len,
			       (unsigned long long)off, i, d->back[i], d->buf[i]);
			return -1;
		}
	}
	return 0;
}

/* Sizes and places across the disk: start, odd block offsets, middle, last blocks. */
static int cmd_pattern(struct disk *d)
{
	const size_t sizes[] = {d->lbs, 4096, 3 * (size_t)d->lbs, 65536, MAX_IO};
	unsigned n = 0;

	for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t len = sizes[i];
		uint64_t places[] = {0, (uint64_t)d->lbs * (7 + i),
				     (d->bytes / 2) / d->lbs * d->lbs, d->bytes - len};

		if (len > d->bytes)
			continue;
		for (unsigned p = 0; p < 4; p++) {
			if (places[p] + len > d->bytes)
				continue;
			if (pattern_at(d, places[p], len, 0x51 + i * 4 + p) < 0)
				return 1;
			n++;
		}
	}
	printf("ok: %u patterned writes read back (sizes %u B..1 MiB, start, odd blocks, middle, "
	       "end)\n",
	       n, d->lbs);
	return 0;
}

/* One 4 KiB patterned write read back at the start, the middle and the end: a quick health check.
 */
static int cmd_quick(struct disk *d, unsigned seed)
{
	uint64_t places[] = {0, d->bytes / 2 / 4096 * 4096, d->bytes - 4096};

	for (unsigned p = 0; p < 3; p++)
		if (d->bytes < 4096 || pattern_at(d, places[p], 4096, seed + p) < 0)
			return 1;
	printf("ok: 3 writes of 4 KiB read back\n");
	return 0;
}

static int cmd_flush(struct disk *d)
{
	if (fsync(d->fd) < 0) {
		printf("error: fsync: %s\n", strerror(errno));
		return 1;
	}
	printf("ok: flush completed\n");
	return 0;
}

/* Discards (BLKDISCARD) or zeroes (BLKZEROOUT) 64 KiB at 1 MiB; zeroes must read back as 0. */
static int cmd_range(struct disk *d, int zero)
{
	uint64_t range[2] = {1u << 20, 65536};

	if (range[0] + range[1] > d->bytes)
		range[0] = 0;
	if (pattern_at(d, range[0], range[1], 0x77) < 0)
		return 1;
	if (ioctl(d->fd, zero ? BLKZEROOUT : BLKDISCARD, range) < 0) {
		printf("error: %s: %s\n", zero ? "BLKZEROOUT" : "BLKDISCARD", strerror(errno));
		return 1;
	}
	if (zero) {
		if (full_pread(d->fd, d->back, range[1], range[0]) < 0)
			return printf("error: read: %s\n", strerror(errno)), 1;
		for (size_t i = 0; i < range[1]; i++)
			if (d->back[i])
				return printf("error: byte %zu reads 0x%02x after write-zeroes\n",
					      i, d->back[i]),
				       1;
	}
	printf("ok: %s of 64 KiB at %llu\n", zero ? "write-zeroes" : "discard",
	       (unsigned long long)range[0]);
	return 0;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Random 4 KiB reads and verified writes for secs seconds over the first 64 MiB; prints IOPS. */
static int cmd_randio(struct disk *d, double secs)
{
	uint64_t span = d->bytes < (64u << 20) ? d->bytes : (64u << 20);
	uint64_t blocks = span / 4096, ops = 0, seed = 12345;
	double start = now_s(), took;

	if (!blocks)
		return printf("error: disk smaller than 4 KiB\n"), 1;
	do {
		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		uint64_t off = (seed >> 33) % blocks * 4096;
		int rc = (seed & 1) ? pattern_at(d, off, 4096, (unsigned)ops)
				    : full_pread(d->fd, d->back, 4096, off);
		if (rc < 0)
			return printf("error: random I/O at %llu\n", (unsigned long long)off), 1;
		ops++;
	} while ((took = now_s() - start) < secs);
	printf("ok: %llu random 4 KiB requests in %.1f s: %.0f IOPS\n", (unsigned long long)ops,
	       took, (double)ops / took);
	return 0;
}

int main(int argc, char **argv)
{
	struct disk d;

	if (argc < 3) {
		fprintf(
		    stderr,
		    "usage: blkcheck pattern|quick|flush|discard|zeroes|randio DEV [SECONDS]\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (disk_open(&d, argv[2]) < 0)
		return 1;
	if (!strcmp(argv[1], "pattern"))
		return cmd_pattern(&d);
	if (!strcmp(argv[1], "quick"))
		return cmd_quick(&d, (unsigned)getpid());
	if (!strcmp(argv[1], "flush"))
		return cmd_flush(&d);
	if (!strcmp(argv[1], "discard"))
		return cmd_range(&d, 0);
	if (!strcmp(argv[1], "zeroes"))
		return cmd_range(&d, 1);
	if (!strcmp(argv[1], "randio"))
		return cmd_randio(&d, argc > 3 ? atof(argv[3]) : 3.0);
	fprintf(stderr, "blkcheck: unknown command %s\n", argv[1]);
	return 2;
}
