/* The bzImage payload's cache key: a content hash, remembered per file identity. */
#include "arch/x86_64/payload_key.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vmm/file_io.h"

/* Small chunks: a large buffer would stay in the peak RSS of every boot. */
#define HASH_CHUNK (64u << 10)
#define HASH_SEED 0xcbf29ce484222325ull
#define HASH_MUL 0x9e3779b97f4a7c15ull

/*
 * One 64-bit word per step: xor, rotate and multiply by an odd constant are
 * each invertible, so changing any single word always changes the result.
 * Eight times fewer steps than byte-wise FNV, which mattered under emulation.
 */
static uint64_t hash_words(uint64_t h, const uint8_t *p, size_t n)
{
	uint64_t w;

	for (; n >= 8; p += 8, n -= 8) {
		memcpy(&w, p, 8);
		h ^= w;
		h = ((h << 29) | (h >> 35)) * HASH_MUL;
	}
	for (; n; p++, n--)
		h = ((h ^ *p) * HASH_MUL) ^ (h >> 32);
	return h;
}

static int hash_range(int fd, uint64_t offset, uint64_t len, uint8_t *buf, uint64_t *h)
{
	while (len) {
		size_t n = len < HASH_CHUNK ? (size_t)len : HASH_CHUNK;
		int r = read_exact_at(fd, buf, n, (off_t)offset);

		if (r)
			return r;
		*h = hash_words(*h, buf, n);
		offset += n;
		len -= n;
	}
	return 0;
}

int payload_content_hash(int fd, uint64_t offset, uint64_t len, uint64_t *out)
{
	uint8_t *buf = malloc(HASH_CHUNK);
	uint64_t h = HASH_SEED ^ len;
	int r;

	if (!buf)
		return -ENOMEM;
	r = hash_range(fd, offset, len, buf, &h);
	free(buf);
	*out = h;
	return r;
}

static uint64_t hash_stat(const struct stat *st)
{
	const uint64_t f[] = {
	    (uint64_t)st->st_dev,	   (uint64_t)st->st_ino,
	    (uint64_t)st->st_size,	   (uint64_t)st->st_mtim.tv_sec,
	    (uint64_t)st->st_mtim.tv_nsec, (uint64_t)st->st_ctim.tv_sec,
	    (uint64_t)st->st_ctim.tv_nsec,
	};

	return hash_words(HASH_SEED, (const uint8_t *)f, sizeof(f));
}

int payload_identity(int fd, const struct stat *st, uint64_t offset, uint64_t len, uint64_t *out)
{
	uint8_t buf[PAYLOAD_SAMPLE_SIZE];
	uint64_t h = hash_stat(st), first = (uint64_t)st->st_size, block = PAYLOAD_SAMPLE_SIZE;
	int r = hash_range(fd, 0, first < block ? first : block, buf, &h);

	if (len < block)
		block = len;
	/* Sample i starts i/(N) of the way in; one more covers the payload's end. */
	for (unsigned i = 0; !r && i <= PAYLOAD_SAMPLES; i++) {
		uint64_t at =
		    i == PAYLOAD_SAMPLES ? len - block : (len - block) / PAYLOAD_SAMPLES * i;
		r = hash_range(fd, offset + at, block, buf, &h);
	}
	*out = h;
	return r;
}

/* True when st's ctime is at least min_age_ns in the past (a future ctime is never trusted). */
static int identity_trusted(const struct stat *st, uint64_t min_age_ns)
{
	struct timespec now;
	int64_t age;

	clock_gettime(CLOCK_REALTIME, &now);
	age = (int64_t)(now.tv_sec - st->st_ctim.tv_sec) * 1000000000ll +
	      (now.tv_nsec - st->st_ctim.tv_nsec);
	return age >= 0 && (uint64_t)age >= min_age_ns;
}

static int index_read(const char *path, uint64_t *key)
{
	char text[32] = "";
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;
	char *end;

	if (fd < 0)
		return -errno;
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n != 17 || text[16] != '\n')
		return -EINVAL;
	text[16] = '\0';
	*key = strtoull(text, &end, 16);
	return *end ? -EINVAL : 0;
}

/* Atomically (write, then rename), so a reader sees a whole entry or none. */
static void index_write(const char *path, uint64_t key)
{
	char tmp[4200], text[32];
	int fd, n = snprintf(text, sizeof(text), "%016llx\n", (unsigned long long)key);

	snprintf(tmp, sizeof(tmp), "%s.%d.tmp", path, (int)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	if (write(fd, text, (size_t)n) != n || close(fd) < 0 || rename(tmp, path) < 0)
		unlink(tmp);
}

int payload_cache_key(int fd, uint64_t offset, uint64_t len, const char *dir, uint64_t min_age_ns,
		      uint64_t *key)
{
	struct stat st;
	char path[4200] = "";
	uint64_t id;
	int trusted, r;

	if (fstat(fd, &st) < 0)
		return -errno;
	trusted = dir && identity_trusted(&st, min_age_ns);
	if (trusted) {
		r = payload_identity(fd, &st, offset, len, &id);
		if (r)
			return r;
		snprintf(path, sizeof(path), "%s/id-%016llx", dir, (unsigned long long)id);
		if (index_read(path, key) == 0)
			return 0;
	}
	r = payload_content_hash(fd, offset, len, key);
	if (!r && trusted)
		index_write(path, *key);
	return r;
}
