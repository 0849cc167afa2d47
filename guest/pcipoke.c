/*
 * Guest-side PCI fuzzer for boot tests: writes (and reads) seeded random
 * values across the config space and BARs of every PCI function, through
 * sysfs config/resourceN files and, on x86, raw 0xCF8/0xCFC port I/O.
 * The VMM must survive whatever this does; the guest may not.
 *
 *   pcipoke [-s SEED] [-n ITERATIONS] [-m sysfs|cf8|both] [-c] [-x BDF]... [-v]
 *     -c   config space only, never touch BARs
 *     -x   skip this device (e.g. 0000:00:02.0), may repeat
 * Prints "pcipoke: done" with counts on success; exit status 0.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#if defined(__x86_64__) || defined(__i386__)
#include <sys/io.h>
#define HAVE_PORT_IO 1
#else
#define HAVE_PORT_IO 0
#endif

#define MAX_DEVICES 64
#define MAX_EXCLUDES 16
#define NUM_BARS 6
#define IORESOURCE_IO 0x100
#define IORESOURCE_MEM 0x200

struct bar {
	uint64_t size;
	unsigned long flags;
	void *map; /* memory BARs only */
};

struct device {
	char name[32]; /* 0000:00:03.0 */
	int config_fd;
	off_t config_size;
	struct bar bars[NUM_BARS];
};

struct options {
	uint64_t seed;
	unsigned long iterations;
	int use_sysfs, use_cf8, config_only, verbose;
	const char *excludes[MAX_EXCLUDES];
	unsigned nexcludes;
};

struct stats {
	unsigned long config_writes, config_reads, bar_writes, bar_reads, cf8_accesses, errors;
};

static uint64_t next_random(uint64_t *state)
{
	/* xorshift64*: deterministic for a given seed, which is what a test needs. */
	*state ^= *state >> 12;
	*state ^= *state << 25;
	*state ^= *state >> 27;
	return *state * 0x2545f4914f6cdd1dull;
}

static int excluded(const struct options *o, const char *name)
{
	unsigned i;

	for (i = 0; i < o->nexcludes; i++)
		if (strcmp(o->excludes[i], name) == 0)
			return 1;
	return 0;
}

static void load_bars(struct device *d, const char *dir, int config_only)
{
	char path[300];
	unsigned long long start, end, flags;
	unsigned i;
	FILE *f;

	if (snprintf(path, sizeof(path), "%s/resource", dir) >= (int)sizeof(path))
		return;
	f = fopen(path, "r");
	if (!f)
		return;
	for (i = 0; i < NUM_BARS && fscanf(f, "%llx %llx %llx", &start, &end, &flags) == 3; i++) {
		struct bar *b = &d->bars[i];
		int fd;

		if (config_only || end <= start)
			continue;
		b->size = end - start + 1;
		b->flags = (unsigned long)flags;
		if (!(flags & IORESOURCE_MEM))
			continue;
		if (snprintf(path, sizeof(path), "%s/resource%u", dir, i) >= (int)sizeof(path))
			continue;
		fd = open(path, O_RDWR | O_SYNC);
		if (fd < 0)
			continue;
		b->map = mmap(NULL, b->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (b->map == MAP_FAILED)
			b->map = NULL;
		close(fd);
	}
	fclose(f);
}

static unsigned find_devices(struct device *devs, const struct options *o)
{
	const char *root = "/sys/bus/pci/devices";
	DIR *dir = opendir(root);
	struct dirent *e;
	unsigned n = 0;

	if (!dir)
		return 0;
	while ((e = readdir(dir)) && n < MAX_DEVICES) {
		char path[300];
		struct device *d = &devs[n];
		struct stat st;

		if (e->d_name[0] == '.' || excluded(o, e->d_name))
			continue;
		memset(d, 0, sizeof(*d));
		if (snprintf(d->name, sizeof(d->name), "%s", e->d_name) >= (int)sizeof(d->name) ||
		    snprintf(path, sizeof(path), "%s/%s/config", root, e->d_name) >=
			(int)sizeof(path))
			continue;
		d->config_fd = open(path, O_RDWR);
		if (d->config_fd < 0)
			continue;
		if (fstat(d->config_fd, &st) < 0 || st.st_size < 64) {
			close(d->config_fd);
			continue;
		}
		d->config_size = st.st_size;
		snprintf(path, sizeof(path), "%s/%s", root, d->name);
		load_bars(d, path, o->config_only);
		n++;
	}
	closedir(dir);
	return n;
}

/* 1, 2 or 4 bytes, naturally aligned inside [0, limit). */
static void pick_access(uint64_t *rng, uint64_t limit, unsigned max_len, uint64_t *off,
			unsigned *len)
{
	*len = 1u << (next_random(rng) % (max_len == 8 ? 4 : 3));
	if (*len > limit)
		*len = 1;
	*off = next_random(rng) % (limit - *len + 1);
	*off &= ~(uint64_t)(*len - 1);
}

static void poke_config(struct device *d, uint64_t *rng, struct stats *s, int verbose)
{
	uint64_t off, value = next_random(rng);
	unsigned len;
	int is_write = next_random(rng) % 4 != 0;
	ssize_t n;

	pick_access(rng, (uint64_t)d->config_size, 4, &off, &len);
	if (is_write)
		n = pwrite(d->config_fd, &value, len, (off_t)off);
	else
		n = pread(d->config_fd, &value, len, (off_t)off);
	if (n != (ssize_t)len)
		s->errors++;
	else if (is_write)
		s->config_writes++;
	else
		s->config_reads++;
	if (verbose)
		printf("%s config %s %u@0x%llx = 0x%llx\n", d->name, is_write ? "write" : "read",
		       len, (unsigned long long)off, (unsigned long long)value);
}

static void mmio_access(volatile uint8_t *p, unsigned len, uint64_t value, int is_write)
{
	switch (len) {
	case 1:
		if (is_write)
			*p = (uint8_t)value;
		else
			(void)*p;
		break;
	case 2:
		if (is_write)
			*(volatile uint16_t *)p = (uint16_t)value;
		else
			(void)*(volatile uint16_t *)p;
		break;
	case 4:
		if (is_write)
			*(volatile uint32_t *)p = (uint32_t)value;
		else
			(void)*(volatile uint32_t *)p;
		break;
	default:
		if (is_write)
			*(volatile uint64_t *)p = value;
		else
			(void)*(volatile uint64_t *)p;
	}
}

static int poke_bar(struct device *d, uint64_t *rng, struct stats *s, int verbose)
{
	struct bar *b = &d->bars[next_random(rng) % NUM_BARS];
	uint64_t off, value = next_random(rng);
	int is_write = next_random(rng) % 2;
	unsigned len;

	if (!b->map)
		return -1;
	pick_access(rng, b->size, 8, &off, &len);
	if (verbose) {
		printf("%s bar %s %u@0x%llx = 0x%llx\n", d->name, is_write ? "write" : "read", len,
		       (unsigned long long)off, (unsigned long long)value);
		fflush(stdout);
	}
	mmio_access((volatile uint8_t *)b->map + off, len, value, is_write);
	if (is_write)
		s->bar_writes++;
	else
		s->bar_reads++;
	return 0;
}

#if HAVE_PORT_IO
/* A random bus-0 slot whose function 0 was not excluded with -x. */
static uint32_t pick_cf8_slot(const struct options *o, uint64_t *rng)
{
	char name[16];
	uint32_t slot;

	do {
		slot = (uint32_t)(next_random(rng) % 32);
		snprintf(name, sizeof(name), "0000:00:%02x.0", slot);
	} while (excluded(o, name));
	return slot;
}

static void poke_cf8(const struct options *o, uint64_t *rng, struct stats *s)
{
	uint32_t slot = pick_cf8_slot(o, rng), reg = (uint32_t)(next_random(rng) % 256);
	uint32_t value = (uint32_t)next_random(rng);
	unsigned port = 0xcfc + (unsigned)(next_random(rng) % 4);

	outl(0x80000000u | slot << 11 | (reg & 0xfc), 0xcf8);
	switch (next_random(rng) % 6) {
	case 0:
		outb((uint8_t)value, port);
		break;
	case 1:
		outw((uint16_t)value, port & ~1u);
		break;
	case 2:
		outl(value, 0xcfc);
		break;
	case 3:
		(void)inb(port);
		break;
	case 4:
		(void)inw(port & ~1u);
		break;
	default:
		(void)inl(0xcfc);
	}
	s->cf8_accesses++;
}
#endif

static int parse_args(int argc, char **argv, struct options *o)
{
	int c;

	*o = (struct options){.seed = 1, .iterations = 10000, .use_sysfs = 1};
	while ((c = getopt(argc, argv, "s:n:m:cx:v")) != -1) {
		switch (c) {
		case 's':
			o->seed = strtoull(optarg, NULL, 0);
			break;
		case 'n':
			o->iterations = strtoul(optarg, NULL, 0);
			break;
		case 'm':
			o->use_sysfs = strcmp(optarg, "cf8") != 0;
			o->use_cf8 = strcmp(optarg, "sysfs") != 0;
			break;
		case 'c':
			o->config_only = 1;
			break;
		case 'x':
			if (o->nexcludes < MAX_EXCLUDES)
				o->excludes[o->nexcludes++] = optarg;
			break;
		case 'v':
			o->verbose = 1;
			break;
		default:
			return -1;
		}
	}
	if (o->seed == 0)
		o->seed = 1; /* xorshift state must be non-zero */
	return 0;
}

int main(int argc, char **argv)
{
	static struct device devs[MAX_DEVICES];
	struct options o;
	struct stats s = {0};
	uint64_t rng;
	unsigned long i;
	unsigned ndevs;

	if (parse_args(argc, argv, &o) < 0) {
		fprintf(stderr,
			"usage: %s [-s seed] [-n iterations] [-m sysfs|cf8|both] [-c] "
			"[-x bdf]... [-v]\n",
			argv[0]);
		return 2;
	}
	rng = o.seed;
	ndevs = find_devices(devs, &o);
	printf("pcipoke: seed %llu, %lu iterations, %u devices\n", (unsigned long long)o.seed,
	       o.iterations, ndevs);
#if HAVE_PORT_IO
	if (o.use_cf8 && iopl(3) < 0) {
		perror("pcipoke: iopl");
		o.use_cf8 = 0;
	}
#else
	o.use_cf8 = 0;
#endif
	if (!ndevs && !o.use_cf8) {
		fprintf(stderr, "pcipoke: no PCI devices found\n");
		return 1;
	}
	fflush(stdout);
	for (i = 0; i < o.iterations; i++) {
		unsigned pick = (unsigned)(next_random(&rng) % 4);
#if HAVE_PORT_IO
		if (o.use_cf8 && (!o.use_sysfs || !ndevs || pick == 0)) {
			poke_cf8(&o, &rng, &s);
			continue;
		}
#endif
		struct device *d = &devs[next_random(&rng) % ndevs];
		if (pick == 3 && !o.config_only && poke_bar(d, &rng, &s, o.verbose) == 0)
			continue;
		poke_config(d, &rng, &s, o.verbose);
	}
	printf("pcipoke: done: config %lu writes %lu reads, bar %lu writes %lu reads, "
	       "cf8 %lu, failed %lu\n",
	       s.config_writes, s.config_reads, s.bar_writes, s.bar_reads, s.cf8_accesses,
	       s.errors);
	return 0;
}
