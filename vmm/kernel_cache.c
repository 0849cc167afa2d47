/* Decompressed kernels cached on the host by content hash (see kernel_cache.h). */
#include "vmm/kernel_cache.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmm/file_io.h"
#include "vmm/log.h"

/* FNV-1a over the payload: names the cache entry by content, not by path. */
static int payload_hash(int fd, uint64_t offset, uint64_t len, uint64_t *hash_out)
{
	uint8_t *buf = malloc(KERNEL_CACHE_IO_CHUNK);
	uint64_t hash = 0xcbf29ce484222325ull;

	if (!buf)
		return -ENOMEM;
	while (len) {
		size_t n = len < KERNEL_CACHE_IO_CHUNK ? (size_t)len : KERNEL_CACHE_IO_CHUNK;
		int r = read_exact_at(fd, buf, n, (off_t)offset);
		if (r) {
			free(buf);
			return r;
		}
		for (size_t i = 0; i < n; i++)
			hash = (hash ^ buf[i]) * 0x100000001b3ull;
		offset += n;
		len -= n;
	}
	free(buf);
	*hash_out = hash;
	return 0;
}

int kernel_cache_write_all(int fd, const uint8_t *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static int cache_dir(char *path, size_t size)
{
	const char *dir = getenv("VMM_CACHE_DIR");
	const char *base;

	if (dir && *dir)
		return snprintf(path, size, "%s", dir) < (int)size ? 0 : -ENAMETOOLONG;
	base = getenv("XDG_CACHE_HOME");
	if (base && *base)
		return snprintf(path, size, "%s/vmm", base) < (int)size ? 0 : -ENAMETOOLONG;
	base = getenv("HOME");
	if (!base || !*base)
		return -ENOENT;
	return snprintf(path, size, "%s/.cache/vmm", base) < (int)size ? 0 : -ENAMETOOLONG;
}

/* Decompresses into the cache (atomically, via rename) or, failing that, into a memfd. */
static int decompress_to_fd(int fd, uint64_t offset, uint64_t len, const char *dir,
			    const char *cached, kernel_decompress_fn fn)
{
	char tmp[4300];
	int out = -1, r;

	if (dir) {
		char parent[4200];
		snprintf(parent, sizeof(parent), "%s", dir);
		for (char *p = parent + 1; *p; p++)
			if (*p == '/') {
				*p = '\0';
				mkdir(parent, 0755);
				*p = '/';
			}
		mkdir(parent, 0755);
		snprintf(tmp, sizeof(tmp), "%s.%d.tmp", cached, (int)getpid());
		out = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	}
	if (out < 0) {
		dir = NULL;
		out = memfd_create("kernel", MFD_CLOEXEC);
		if (out < 0)
			return -errno;
	}
	r = fn(fd, offset, len, out);
	if (r == 0 && dir && rename(tmp, cached) < 0)
		r = -errno;
	if (r) {
		if (dir)
			unlink(tmp);
		close(out);
		return r;
	}
	return out;
}

int kernel_cache_fd(int fd, uint64_t offset, uint64_t len, const char *prefix,
		    kernel_decompress_fn fn)
{
	char dir[4096], cached[4200];
	uint64_t hash;
	int r, cfd;
	bool have_dir = cache_dir(dir, sizeof(dir)) == 0;

	r = payload_hash(fd, offset, len, &hash);
	if (r)
		return r;
	if (have_dir) {
		snprintf(cached, sizeof(cached), "%s/%s-%016llx", dir, prefix,
			 (unsigned long long)hash);
		cfd = open(cached, O_RDONLY | O_CLOEXEC);
		if (cfd >= 0)
			return cfd;
	}
	log_info("boot", "decompressing the kernel once on the host (cached for later boots)");
	return decompress_to_fd(fd, offset, len, have_dir ? dir : NULL, cached, fn);
}

int kernel_cache_copy_to_path(int in, const char *out_path)
{
	uint8_t *buf = malloc(KERNEL_CACHE_IO_CHUNK);
	int out = open(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	off_t offset = 0;
	int r = 0;

	if (!buf || out < 0) {
		r = out < 0 ? -errno : -ENOMEM;
		goto done;
	}
	for (;;) {
		ssize_t n = pread(in, buf, KERNEL_CACHE_IO_CHUNK, offset);
		if (n <= 0) {
			r = n < 0 ? -errno : 0;
			break;
		}
		r = kernel_cache_write_all(out, buf, (size_t)n);
		if (r)
			break;
		offset += n;
	}
done:
	if (out >= 0)
		close(out);
	free(buf);
	return r;
}
