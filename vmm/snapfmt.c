/* The snapshot format: state-part fields, part files, sparse RAM and the manifest. */
#include "vmm/snapfmt.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define SNAP_IO_CHUNK (8u << 20) /* bounds one write or checksum step */

void snap_buf_free(struct snap_buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

void snap_put_bytes(struct snap_buf *b, const void *p, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		uint8_t *data;

		while (cap < b->len + n)
			cap *= 2;
		data = realloc(b->data, cap);
		if (!data) {
			b->oom = true;
			return;
		}
		b->data = data;
		b->cap = cap;
	}
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
}

void snap_put_u8(struct snap_buf *b, uint8_t v)
{
	snap_put_bytes(b, &v, 1);
}

void snap_put_u16(struct snap_buf *b, uint16_t v)
{
	snap_put_bytes(b, &v, 2); /* little-endian host (x86_64, aarch64) */
}

void snap_put_u32(struct snap_buf *b, uint32_t v)
{
	snap_put_bytes(b, &v, 4);
}

void snap_put_u64(struct snap_buf *b, uint64_t v)
{
	snap_put_bytes(b, &v, 8);
}

void snap_put_blob(struct snap_buf *b, const void *p, uint32_t n)
{
	snap_put_u32(b, n);
	snap_put_bytes(b, p, n);
}

void snap_reader_init(struct snap_reader *rd, const char *part, const void *p, size_t len)
{
	memset(rd, 0, sizeof(*rd));
	snprintf(rd->part, sizeof(rd->part), "%s", part);
	rd->p = p;
	rd->len = len;
}

bool snap_fail(struct snap_reader *rd, const char *field, const char *fmt, ...)
{
	char why[160];
	va_list ap;

	if (rd->failed)
		return false;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	snprintf(rd->err, sizeof(rd->err), "part %s: field %s: %s", rd->part, field, why);
	rd->failed = true;
	return false;
}

bool snap_get_bytes(struct snap_reader *rd, const char *field, void *dst, size_t n)
{
	if (rd->failed)
		return false;
	if (n > rd->len - rd->off)
		return snap_fail(rd, field, "truncated (%zu bytes wanted, %zu left)", n,
				 rd->len - rd->off);
	memcpy(dst, rd->p + rd->off, n);
	rd->off += n;
	return true;
}

bool snap_get_u8(struct snap_reader *rd, const char *field, uint8_t *v)
{
	return snap_get_bytes(rd, field, v, 1);
}

bool snap_get_u16(struct snap_reader *rd, const char *field, uint16_t *v)
{
	return snap_get_bytes(rd, field, v, 2);
}

bool snap_get_u32(struct snap_reader *rd, const char *field, uint32_t *v)
{
	return snap_get_bytes(rd, field, v, 4);
}

bool snap_get_u64(struct snap_reader *rd, const char *field, uint64_t *v)
{
	return snap_get_bytes(rd, field, v, 8);
}

bool snap_get_blob_max(struct snap_reader *rd, const char *field, void *dst, uint32_t max,
		       uint32_t *n)
{
	if (!snap_get_u32(rd, field, n))
		return false;
	if (*n > max)
		return snap_fail(rd, field, "%u bytes, at most %u fit", *n, max);
	return snap_get_bytes(rd, field, dst, *n);
}

bool snap_get_blob(struct snap_reader *rd, const char *field, void *dst, uint32_t n)
{
	uint32_t got = 0;

	if (!snap_get_u32(rd, field, &got))
		return false;
	if (got != n)
		return snap_fail(rd, field, "%u bytes in the snapshot, %u here", got, n);
	return snap_get_bytes(rd, field, dst, n);
}

bool snap_expect_u32(struct snap_reader *rd, const char *field, uint32_t here)
{
	uint32_t saved = 0;

	if (!snap_get_u32(rd, field, &saved))
		return false;
	if (saved != here)
		return snap_fail(rd, field, "is %u in the snapshot, %u here", saved, here);
	return true;
}

bool snap_expect_u64(struct snap_reader *rd, const char *field, uint64_t here)
{
	uint64_t saved = 0;

	if (!snap_get_u64(rd, field, &saved))
		return false;
	if (saved != here)
		return snap_fail(rd, field, "is %llu in the snapshot, %llu here",
				 (unsigned long long)saved, (unsigned long long)here);
	return true;
}

bool snap_reader_done(struct snap_reader *rd)
{
	if (!rd->failed && rd->off != rd->len)
		snap_fail(rd, "end", "%zu trailing bytes", rd->len - rd->off);
	return !rd->failed;
}

static uint32_t crc_of(uint32_t crc, const uint8_t *p, uint64_t n)
{
	while (n) {
		uInt step = n > SNAP_IO_CHUNK ? SNAP_IO_CHUNK : (uInt)n;

		crc = (uint32_t)crc32(crc, p, step);
		p += step;
		n -= step;
	}
	return crc;
}

static int fail(struct snap_dir *d, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(struct snap_dir *d, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(d->err, sizeof(d->err), fmt, ap);
	va_end(ap);
	return err;
}

static int write_all(int fd, const void *p, uint64_t n, uint64_t off)
{
	const uint8_t *c = p;

	while (n) {
		size_t step = n > SNAP_IO_CHUNK ? SNAP_IO_CHUNK : (size_t)n;
		ssize_t w = pwrite(fd, c, step, (off_t)off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -EIO;
		c += w;
		off += (uint64_t)w;
		n -= (uint64_t)w;
	}
	return 0;
}

static int read_all(int fd, void *p, uint64_t n, uint64_t off)
{
	uint8_t *c = p;

	while (n) {
		size_t step = n > SNAP_IO_CHUNK ? SNAP_IO_CHUNK : (size_t)n;
		ssize_t r = pread(fd, c, step, (off_t)off);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r < 0 ? -errno : -ENODATA;
		c += r;
		off += (uint64_t)r;
		n -= (uint64_t)r;
	}
	return 0;
}

int snap_dir_create(struct snap_dir *d, const char *path)
{
	memset(d, 0, sizeof(*d));
	d->dirfd = -1;
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		return fail(d, -errno, "cannot create %s: %s", path, strerror(errno));
	d->dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (d->dirfd < 0)
		return fail(d, -errno, "cannot open %s: %s", path, strerror(errno));
	if (faccessat(d->dirfd, "manifest", F_OK, 0) == 0)
		return fail(d, -EEXIST, "%s already holds a snapshot", path);
	return 0;
}

static struct snap_part *add_part(struct snap_dir *d, const char *name, uint32_t kind)
{
	struct snap_part *p;

	if (d->nparts == SNAP_MAX_PARTS || strlen(name) >= SNAP_NAME_MAX ||
	    !strcmp(name, "manifest"))
		return NULL;
	p = &d->parts[d->nparts++];
	memset(p, 0, sizeof(*p));
	strcpy(p->name, name);
	p->kind = kind;
	return p;
}

static int create_file(struct snap_dir *d, const char *name)
{
	int fd = openat(d->dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0)
		return fail(d, -errno, "part %s: cannot create: %s", name, strerror(errno));
	return fd;
}

int snap_dir_put(struct snap_dir *d, const char *name, const struct snap_buf *b)
{
	struct snap_part *p = add_part(d, name, SNAP_PART_STATE);
	int fd, err;

	if (!p || b->oom)
		return fail(d, -ENOMEM, "part %s: %s", name, b->oom ? "out of memory" : "bad name");
	fd = create_file(d, name);
	if (fd < 0)
		return fd;
	err = write_all(fd, b->data, b->len, 0);
	close(fd);
	if (err)
		return fail(d, err, "part %s: write: %s", name, strerror(-err));
	p->size = b->len;
	p->crc = crc_of((uint32_t)crc32(0, NULL, 0), b->data, b->len);
	return 0;
}

/* The next data extent of fd at or after *off: [*off, *end); false at the end. */
static bool next_extent(int fd, uint64_t size, uint64_t *off, uint64_t *end)
{
	off_t data = lseek(fd, (off_t)*off, SEEK_DATA);
	off_t hole;

	if (data < 0 || (uint64_t)data >= size)
		return false;
	hole = lseek(fd, data, SEEK_HOLE);
	*off = (uint64_t)data;
	*end = hole < 0 || (uint64_t)hole > size ? size : (uint64_t)hole;
	return true;
}

#define SNAP_PAGE 4096u

static bool page_is_zero(const uint8_t *p, uint64_t n)
{
	return p[0] == 0 && !memcmp(p, p + 1, n - 1);
}

/*
 * Within the data extent [*off, end): the next run of pages not all zero,
 * as [*off, *run_end); false when only zero pages are left. A page the
 * guest touched but left zero (freed memory, a kernel's .bss) is a hole in
 * the file too: a restore reads fewer bytes into RAM that starts zeroed.
 */
static bool next_nonzero_run(const uint8_t *host, uint64_t *off, uint64_t end, uint64_t *run_end)
{
	uint64_t o = *off;

	while (o < end && page_is_zero(host + o, end - o < SNAP_PAGE ? end - o : SNAP_PAGE))
		o += SNAP_PAGE;
	if (o >= end)
		return false;
	*off = o;
	while (o < end && !page_is_zero(host + o, end - o < SNAP_PAGE ? end - o : SNAP_PAGE))
		o += SNAP_PAGE;
	*run_end = o < end ? o : end;
	return true;
}

int snap_dir_put_ram(struct snap_dir *d, const char *name, const struct mem_region *r,
		     struct snap_buf *extents)
{
	struct snap_part *p = add_part(d, name, SNAP_PART_RAM);
	uint64_t off = 0, end, count_at = extents->len;
	uint32_t crc = (uint32_t)crc32(0, NULL, 0), n = 0;
	int fd, err = 0;

	if (!p)
		return fail(d, -EINVAL, "part %s: bad name", name);
	fd = create_file(d, name);
	if (fd < 0)
		return fd;
	snap_put_u32(extents, 0); /* the count, filled in below */
	if (ftruncate(fd, (off_t)r->size) < 0)
		err = -errno;
	while (!err && next_extent(r->fd, r->size, &off, &end)) {
		uint64_t run_end;

		while (!err && next_nonzero_run(r->host, &off, end, &run_end)) {
			err = write_all(fd, (uint8_t *)r->host + off, run_end - off, off);
			crc = crc_of(crc, (uint8_t *)r->host + off, run_end - off);
			snap_put_u64(extents, off);
			snap_put_u64(extents, run_end - off);
			n++;
			off = run_end;
		}
		off = end;
	}
	close(fd);
	if (err)
		return fail(d, err, "part %s: write: %s", name, strerror(-err));
	if (extents->oom)
		return fail(d, -ENOMEM, "part %s: out of memory", name);
	memcpy(extents->data + count_at, &n, 4);
	p->size = r->size;
	p->crc = crc;
	return 0;
}

int snap_dir_finish(struct snap_dir *d)
{
	struct snap_buf m = {0};
	uint32_t version = SNAP_VERSION, crc;
	int fd, err;

	snap_put_bytes(&m, SNAP_MAGIC, 8);
	snap_put_u32(&m, version);
	snap_put_u32(&m, d->nparts);
	for (unsigned i = 0; i < d->nparts; i++) {
		snap_put_bytes(&m, d->parts[i].name, SNAP_NAME_MAX);
		snap_put_u64(&m, d->parts[i].size);
		snap_put_u32(&m, d->parts[i].crc);
		snap_put_u32(&m, d->parts[i].kind);
	}
	crc = m.oom ? 0 : crc_of((uint32_t)crc32(0, NULL, 0), m.data, m.len);
	snap_put_u32(&m, crc);
	fd = m.oom ? -ENOMEM : create_file(d, "manifest");
	err = fd < 0 ? fd : write_all(fd, m.data, m.len, 0);
	if (fd >= 0 && !err && fsync(fd) < 0)
		err = -errno;
	if (fd >= 0)
		close(fd);
	snap_buf_free(&m);
	snap_dir_close(d);
	return err ? fail(d, err, "manifest: write: %s", strerror(-err)) : 0;
}

void snap_dir_close(struct snap_dir *d)
{
	if (d->dirfd >= 0)
		close(d->dirfd);
	d->dirfd = -1;
}

static int read_file(struct snap_dir *d, const char *name, uint8_t **data, size_t *len)
{
	int fd = openat(d->dirfd, name, O_RDONLY | O_CLOEXEC);
	struct stat st;
	int err;

	if (fd < 0)
		return fail(d, -errno, "part %s: cannot open: %s", name, strerror(errno));
	if (fstat(fd, &st) < 0 || st.st_size > (64 << 20)) {
		close(fd);
		return fail(d, -EFBIG, "part %s: unreadable or too large", name);
	}
	*len = (size_t)st.st_size;
	*data = malloc(*len ? *len : 1);
	err = *data ? read_all(fd, *data, *len, 0) : -ENOMEM;
	close(fd);
	if (err) {
		free(*data);
		*data = NULL;
		return fail(d, err, "part %s: read: %s", name, strerror(-err));
	}
	return 0;
}

static int parse_manifest(struct snap_dir *d, const uint8_t *m, size_t len)
{
	struct snap_reader rd;
	uint32_t version, n = 0, crc;
	char magic[8];

	if (len < 20 || memcmp(m, SNAP_MAGIC, 8))
		return fail(d, -EINVAL, "manifest: not a snapshot (bad magic)");
	memcpy(&version, m + 8, 4);
	if (version > SNAP_VERSION)
		return fail(d, -ENOTSUP, "manifest: snapshot format version %u is newer than %u",
			    version, SNAP_VERSION);
	memcpy(&crc, m + len - 4, 4);
	if (crc != crc_of((uint32_t)crc32(0, NULL, 0), m, len - 4))
		return fail(d, -EBADMSG, "manifest: checksum mismatch (corrupted)");
	snap_reader_init(&rd, "manifest", m, len - 4);
	snap_get_bytes(&rd, "magic", magic, 8);
	snap_get_u32(&rd, "version", &version);
	if (snap_get_u32(&rd, "nparts", &n) && n > SNAP_MAX_PARTS)
		snap_fail(&rd, "nparts", "%u parts, at most %u", n, SNAP_MAX_PARTS);
	for (unsigned i = 0; !rd.failed && i < n; i++) {
		struct snap_part *p = &d->parts[i];

		snap_get_bytes(&rd, "name", p->name, SNAP_NAME_MAX);
		snap_get_u64(&rd, "size", &p->size);
		snap_get_u32(&rd, "crc32", &p->crc);
		snap_get_u32(&rd, "kind", &p->kind);
		p->name[SNAP_NAME_MAX - 1] = 0;
		d->nparts = i + 1;
	}
	if (!snap_reader_done(&rd))
		return fail(d, -EINVAL, "%s", rd.err);
	return 0;
}

int snap_dir_open(struct snap_dir *d, const char *path)
{
	uint8_t *m;
	size_t len;
	int err;

	memset(d, 0, sizeof(*d));
	d->dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (d->dirfd < 0)
		return fail(d, -errno, "%s: %s", path, strerror(errno));
	err = read_file(d, "manifest", &m, &len);
	if (err)
		return err;
	err = parse_manifest(d, m, len);
	free(m);
	return err;
}

const struct snap_part *snap_dir_find(const struct snap_dir *d, const char *name)
{
	for (unsigned i = 0; i < d->nparts; i++)
		if (!strcmp(d->parts[i].name, name))
			return &d->parts[i];
	return NULL;
}

int snap_dir_read(struct snap_dir *d, const char *name, uint8_t **data, size_t *len)
{
	const struct snap_part *p = snap_dir_find(d, name);
	int err;

	*data = NULL;
	if (!p || p->kind != SNAP_PART_STATE)
		return fail(d, -ENOENT, "part %s: missing from the manifest", name);
	err = read_file(d, name, data, len);
	if (err)
		return err;
	if (*len != p->size || crc_of((uint32_t)crc32(0, NULL, 0), *data, *len) != p->crc) {
		free(*data);
		*data = NULL;
		return fail(d, -EBADMSG, "part %s: checksum mismatch (corrupted)", name);
	}
	return 0;
}

/* One share of a RAM part's extents, read into guest RAM and checksummed by one thread. */
struct ram_loader {
	int fd;
	uint8_t *host;
	const uint64_t *extents; /* offset, length pairs */
	uint32_t count;
	uint64_t bytes;
	uint32_t crc;
	int err;
};

static void *load_extents(void *arg)
{
	struct ram_loader *l = arg;

	l->crc = (uint32_t)crc32(0, NULL, 0);
	for (uint32_t i = 0; !l->err && i < l->count; i++) {
		uint64_t off = l->extents[2 * i], len = l->extents[2 * i + 1];

		l->err = read_all(l->fd, l->host + off, len, off);
		l->crc = crc_of(l->crc, l->host + off, len);
		l->bytes += len;
	}
	return NULL;
}

/* The extent list of a RAM part, each inside the region; NULL when rd failed. */
static uint64_t *read_extents(struct snap_reader *rd, uint64_t size, uint32_t *n, uint64_t *total)
{
	uint64_t *e;

	if (!snap_get_u32(rd, "extents", n))
		return NULL;
	if (*n > size / SNAP_PAGE + 1) {
		snap_fail(rd, "extents", "%u, more than the region has pages", *n);
		return NULL;
	}
	e = calloc(*n ? *n : 1, 2 * sizeof(*e));
	if (!e) {
		snap_fail(rd, "extents", "out of memory");
		return NULL;
	}
	*total = 0;
	for (uint32_t i = 0; !rd->failed && i < *n; i++) {
		snap_get_u64(rd, "extent offset", &e[2 * i]);
		if (snap_get_u64(rd, "extent length", &e[2 * i + 1]) &&
		    (e[2 * i] > size || e[2 * i + 1] > size - e[2 * i]))
			snap_fail(rd, "extent", "[%llu, +%llu) outside the region",
				  (unsigned long long)e[2 * i], (unsigned long long)e[2 * i + 1]);
		*total += e[2 * i + 1];
	}
	if (rd->failed) {
		free(e);
		return NULL;
	}
	return e;
}

/*
 * Two threads share the copy into guest RAM, the bulk of a restore (under
 * an emulated CPU, ~1 s per 100 MiB each): the first half of the bytes by a
 * helper, the second here; their checksums combine into the whole part's.
 */
static int load_extents_in_two(struct ram_loader *l, const uint64_t *e, uint32_t n, uint64_t total)
{
	struct ram_loader second = *l;
	uint64_t half = 0;
	uint32_t split = 0;
	pthread_t helper;
	bool threaded;

	while (split < n && half < total / 2)
		half += e[2 * split++ + 1];
	l->extents = e;
	l->count = split;
	second.extents = e + 2 * split;
	second.count = n - split;
	threaded = pthread_create(&helper, NULL, load_extents, l) == 0;
	if (!threaded)
		load_extents(l);
	load_extents(&second);
	if (threaded)
		pthread_join(helper, NULL);
	l->crc = (uint32_t)crc32_combine(l->crc, second.crc, (z_off_t)second.bytes);
	return l->err ? l->err : second.err;
}

int snap_dir_load_ram(struct snap_dir *d, const char *name, const struct mem_region *r,
		      struct snap_reader *rd)
{
	const struct snap_part *p = snap_dir_find(d, name);
	struct ram_loader l = {.host = r->host};
	uint64_t *e, total = 0;
	uint32_t n = 0;
	int err;

	if (!p || p->kind != SNAP_PART_RAM)
		return fail(d, -ENOENT, "part %s: missing from the manifest", name);
	if (p->size != r->size)
		return fail(d, -EINVAL,
			    "part %s: memory size is %llu bytes in the snapshot, %llu here", name,
			    (unsigned long long)p->size, (unsigned long long)r->size);
	e = read_extents(rd, r->size, &n, &total);
	if (!e)
		return fail(d, -EINVAL, "%s", rd->err);
	l.fd = openat(d->dirfd, name, O_RDONLY | O_CLOEXEC);
	if (l.fd < 0) {
		free(e);
		return fail(d, -errno, "part %s: cannot open: %s", name, strerror(errno));
	}
	err = load_extents_in_two(&l, e, n, total);
	close(l.fd);
	free(e);
	if (err)
		return fail(d, err, "part %s: read: %s", name, strerror(-err));
	if (l.crc != p->crc)
		return fail(d, -EBADMSG, "part %s: checksum mismatch (corrupted)", name);
	return 0;
}
