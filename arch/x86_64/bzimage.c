/* bzImage setup-header parsing and cached host-side decompression of its XZ payload. */
#include "arch/x86_64/bzimage.h"
#include "arch/arch.h"

#include <errno.h>
#include <fcntl.h>
#include <lzma.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arch/x86_64/payload_key.h"
#include "vmm/file_io.h"
#include "vmm/log.h"

#define SETUP_HEADER_OFFSET 0x1f1
#define BOOT_FLAG 0xaa55
#define HDRS_MAGIC 0x53726448 /* "HdrS" */
#define MIN_BOOT_PROTOCOL 0x020c
/* Small chunks: a large buffer would stay in the peak RSS of every boot. */
#define IO_CHUNK (64u << 10)
#define MAX_VMLINUX_SIZE (1ull << 30)
/*
 * The decoder's memory is its dictionary, which the stream names: 32 MiB
 * for Linux's payloads (scripts/xz_wrap.sh). Refuse more than twice that
 * rather than let a payload ask for gigabytes.
 */
#define XZ_MEMLIMIT (64ull << 20)
/* Zero blocks of the decompressed vmlinux this size are left as holes in the cache file. */
#define SPARSE_BLOCK 4096u

static const uint8_t xz_magic[6] = {0xfd, '7', 'z', 'X', 'Z', 0x00};

bool bzimage_detect(int fd)
{
	struct setup_header hdr;

	if (read_exact_at(fd, &hdr, sizeof(hdr), SETUP_HEADER_OFFSET))
		return false;
	return hdr.boot_flag == BOOT_FLAG && hdr.header == HDRS_MAGIC;
}

int bzimage_parse(int fd, struct bzimage *bz, char *err, unsigned err_size)
{
	int64_t size = file_size(fd);
	struct setup_header *h = &bz->hdr;

	memset(bz, 0, sizeof(*bz));
	if (size < 0 || read_exact_at(fd, h, sizeof(*h), SETUP_HEADER_OFFSET) ||
	    h->boot_flag != BOOT_FLAG || h->header != HDRS_MAGIC) {
		snprintf(err, err_size, "not a Linux bzImage (no boot sector or HdrS header)");
		return -ENOEXEC;
	}
	if (h->version < MIN_BOOT_PROTOCOL || !(h->xloadflags & XLF_KERNEL_64) ||
	    !(h->loadflags & LOADED_HIGH)) {
		snprintf(err, err_size,
			 "boot protocol %u.%02u without a 64-bit entry point (need 2.12+ with "
			 "XLF_KERNEL_64)",
			 h->version >> 8, h->version & 0xff);
		return -ENOEXEC;
	}
	/* The header runs to the end of the jump target at 0x200 + jump[1]. */
	bz->hdr_len = 0x202 + ((h->jump >> 8) & 0xff) - SETUP_HEADER_OFFSET;
	if (bz->hdr_len > sizeof(*h))
		bz->hdr_len = sizeof(*h);
	bz->setup_size = ((uint64_t)(h->setup_sects ? h->setup_sects : 4) + 1) * 512;
	bz->file_size = (uint64_t)size;
	if (bz->setup_size >= bz->file_size) {
		snprintf(err, err_size, "file ends inside the setup code (%lld bytes)",
			 (long long)size);
		return -ENOEXEC;
	}
	bz->kernel_size = bz->file_size - bz->setup_size;
	return 0;
}

static int write_all(int fd, const uint8_t *buf, size_t len)
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

struct xz_job {
	const struct bzimage_fetch *fetch; /* cancel flag, or NULL */
	int in_fd, out_fd;
	uint64_t in_offset, in_len;
	uint64_t out_offset;
	uint8_t *in_buf, *out_buf;
};

static bool all_zero(const uint8_t *p, size_t n)
{
	return n == 0 || (p[0] == 0 && memcmp(p, p + 1, n - 1) == 0);
}

/*
 * Writes decompressed bytes at the job's output offset, skipping blocks of
 * zeros: the file is new, so they read back as zeros, they cost no space,
 * and the ELF loader skips them (a quarter of a Linux vmlinux is zeros:
 * .bss, .brk and padding, stored as file data).
 */
static int write_sparse(struct xz_job *job, const uint8_t *buf, size_t len)
{
	while (len) {
		size_t n = SPARSE_BLOCK - (size_t)(job->out_offset % SPARSE_BLOCK);
		if (n > len)
			n = len;
		if (!all_zero(buf, n)) {
			if (lseek(job->out_fd, (off_t)job->out_offset, SEEK_SET) < 0)
				return -errno;
			int r = write_all(job->out_fd, buf, n);
			if (r)
				return r;
		}
		job->out_offset += n;
		buf += n;
		len -= n;
	}
	return 0;
}

static int xz_pump(struct xz_job *job, lzma_stream *strm)
{
	lzma_ret ret = LZMA_OK;
	uint64_t written = 0;

	while (ret == LZMA_OK) {
		if (job->fetch && atomic_load(&job->fetch->cancel))
			return -ECANCELED;
		if (strm->avail_in == 0 && job->in_len) {
			size_t n = job->in_len < IO_CHUNK ? (size_t)job->in_len : IO_CHUNK;
			if (read_exact_at(job->in_fd, job->in_buf, n, (off_t)job->in_offset))
				return -EIO;
			job->in_offset += n;
			job->in_len -= n;
			strm->next_in = job->in_buf;
			strm->avail_in = n;
		}
		strm->next_out = job->out_buf;
		strm->avail_out = IO_CHUNK;
		ret = lzma_code(strm, job->in_len || strm->avail_in ? LZMA_RUN : LZMA_FINISH);
		if (write_sparse(job, job->out_buf, IO_CHUNK - strm->avail_out))
			return -EIO;
		written += IO_CHUNK - strm->avail_out;
		if (written > MAX_VMLINUX_SIZE)
			return -EFBIG;
	}
	if (ret == LZMA_MEMLIMIT_ERROR)
		return -ENOMEM;
	if (ret != LZMA_STREAM_END)
		return -EBADMSG;
	/* A trailing run of zeros was skipped: the size says where the file ends. */
	return ftruncate(job->out_fd, (off_t)job->out_offset) < 0 ? -errno : 0;
}

static int xz_decompress(int in_fd, uint64_t offset, uint64_t len, int out_fd,
			 const struct bzimage_fetch *fetch)
{
	lzma_stream strm = LZMA_STREAM_INIT;
	struct xz_job job = {.fetch = fetch,
			     .in_fd = in_fd,
			     .out_fd = out_fd,
			     .in_offset = offset,
			     .in_len = len,
			     .in_buf = malloc(IO_CHUNK),
			     .out_buf = malloc(IO_CHUNK)};
	int r = -ENOMEM;

	/* The kernel's payload is one XZ stream followed by its 4-byte size. */
	if (job.in_buf && job.out_buf && lzma_stream_decoder(&strm, XZ_MEMLIMIT, 0) == LZMA_OK)
		r = xz_pump(&job, &strm);
	lzma_end(&strm);
	free(job.in_buf);
	free(job.out_buf);
	return r;
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

/* mkdir -p; failures show later, when nothing can be written there. */
static void make_dirs(const char *dir)
{
	char parent[4200];

	snprintf(parent, sizeof(parent), "%s", dir);
	for (char *p = parent + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			mkdir(parent, 0755);
			*p = '/';
		}
	mkdir(parent, 0755);
}

/*
 * Decompresses into the cache entry cached (atomically, via rename) or,
 * when there is none ("") or it cannot be written, into a memfd.
 */
static int decompress_to_fd(int fd, uint64_t offset, uint64_t len, const char *cached,
			    const struct bzimage_fetch *fetch)
{
	char tmp[4300];
	bool to_cache = *cached;
	int out = -1, r;

	if (to_cache) {
		snprintf(tmp, sizeof(tmp), "%s.%d.tmp", cached, (int)getpid());
		out = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	}
	if (out < 0) {
		to_cache = false;
		out = memfd_create("vmlinux", MFD_CLOEXEC);
		if (out < 0)
			return -errno;
	}
	r = xz_decompress(fd, offset, len, out, fetch);
	if (r == 0 && to_cache && rename(tmp, cached) < 0)
		r = -errno;
	if (r) {
		if (to_cache)
			unlink(tmp);
		close(out);
		return r;
	}
	return out;
}

/*
 * Names the payload's cache entry in path ("" without a cache directory)
 * and opens it: its fd, -ENOENT when it does not exist yet, or -errno when
 * the payload cannot be read.
 */
static int cache_open(int fd, uint64_t offset, uint64_t len, char *path, size_t size)
{
	char dir[4096];
	bool have_dir = cache_dir(dir, sizeof(dir)) == 0;
	uint64_t key;
	int r;

	path[0] = '\0';
	if (have_dir)
		make_dirs(dir);
	r = payload_cache_key(fd, offset, len, have_dir ? dir : NULL, PAYLOAD_KEY_TRUST_AGE_NS,
			      &key);
	if (r || !have_dir)
		return r ? r : -ENOENT;
	snprintf(path, size, "%s/vmlinux-%016llx", dir, (unsigned long long)key);
	r = open(path, O_RDONLY | O_CLOEXEC);
	return r >= 0 ? r : -ENOENT;
}

int bzimage_vmlinux_fd_fetch(int fd, const struct bzimage *bz, struct bzimage_fetch *fetch,
			     char *err, unsigned err_size)
{
	uint64_t offset = bz->setup_size + bz->hdr.payload_offset;
	uint64_t len = bz->hdr.payload_length;
	uint8_t magic[sizeof(xz_magic)];
	char cached[4200];
	int cfd;

	if (offset > bz->file_size || len > bz->file_size - offset || len < sizeof(magic) ||
	    read_exact_at(fd, magic, sizeof(magic), (off_t)offset) ||
	    memcmp(magic, xz_magic, sizeof(magic)) != 0)
		return -ENOTSUP;
	cfd = cache_open(fd, offset, len, cached, sizeof(cached));
	if (cfd != -ENOENT) {
		if (cfd < 0)
			snprintf(err, err_size, "cannot read the payload: %s", strerror(-cfd));
		return cfd;
	}
	if (fetch)
		atomic_store(&fetch->decompressing, true);
	else
		log_info("boot",
			 "decompressing the kernel once on the host (cached for later boots)");
	cfd = decompress_to_fd(fd, offset, len, cached, fetch);
	if (cfd < 0)
		snprintf(err, err_size, "cannot decompress the XZ payload: %s", strerror(-cfd));
	return cfd;
}

int bzimage_vmlinux_fd(int fd, const struct bzimage *bz, char *err, unsigned err_size)
{
	return bzimage_vmlinux_fd_fetch(fd, bz, NULL, err, err_size);
}

static int copy_fd_to_path(int in, const char *out_path)
{
	uint8_t *buf = malloc(IO_CHUNK);
	int out = open(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	off_t offset = 0;
	int r = 0;

	if (!buf || out < 0) {
		r = out < 0 ? -errno : -ENOMEM;
		goto done;
	}
	for (;;) {
		ssize_t n = pread(in, buf, IO_CHUNK, offset);
		if (n <= 0) {
			r = n < 0 ? -errno : 0;
			break;
		}
		r = write_all(out, buf, (size_t)n);
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

int arch_extract_kernel(const char *kernel_path, const char *out_path)
{
	struct bzimage bz;
	char err[160] = "";
	int fd = open(kernel_path, O_RDONLY | O_CLOEXEC);
	int vmlinux, r;

	if (fd < 0) {
		log_error("boot", "cannot open kernel '%s': %s", kernel_path, strerror(errno));
		return -errno;
	}
	r = bzimage_parse(fd, &bz, err, sizeof(err));
	vmlinux = r ? r : bzimage_vmlinux_fd(fd, &bz, err, sizeof(err));
	close(fd);
	if (vmlinux < 0) {
		log_error("boot", "kernel '%s': %s", kernel_path,
			  vmlinux == -ENOTSUP ? "its payload is not XZ-compressed" : err);
		return vmlinux;
	}
	r = copy_fd_to_path(vmlinux, out_path);
	close(vmlinux);
	if (r)
		log_error("boot", "cannot write '%s': %s", out_path, strerror(-r));
	return r;
}
