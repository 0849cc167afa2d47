/* bzImage setup-header parsing and cached host-side decompression of its XZ payload. */
#include "arch/x86_64/bzimage.h"

#include <errno.h>
#include <fcntl.h>
#include <lzma.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmm/file_io.h"
#include "vmm/kernel_cache.h"
#include "vmm/log.h"

#define SETUP_HEADER_OFFSET 0x1f1
#define BOOT_FLAG 0xaa55
#define HDRS_MAGIC 0x53726448 /* "HdrS" */
#define MIN_BOOT_PROTOCOL 0x020c
#define IO_CHUNK KERNEL_CACHE_IO_CHUNK
#define MAX_VMLINUX_SIZE KERNEL_CACHE_MAX_SIZE

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

struct xz_job {
	int in_fd, out_fd;
	uint64_t in_offset, in_len;
	uint8_t *in_buf, *out_buf;
};

static int xz_pump(struct xz_job *job, lzma_stream *strm)
{
	lzma_ret ret = LZMA_OK;
	uint64_t written = 0;

	while (ret == LZMA_OK) {
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
		if (kernel_cache_write_all(job->out_fd, job->out_buf, IO_CHUNK - strm->avail_out))
			return -EIO;
		written += IO_CHUNK - strm->avail_out;
		if (written > MAX_VMLINUX_SIZE)
			return -EFBIG;
	}
	return ret == LZMA_STREAM_END ? 0 : -EBADMSG;
}

static int xz_decompress(int in_fd, uint64_t offset, uint64_t len, int out_fd)
{
	lzma_stream strm = LZMA_STREAM_INIT;
	struct xz_job job = {in_fd, out_fd, offset, len, malloc(IO_CHUNK), malloc(IO_CHUNK)};
	int r = -ENOMEM;

	/* The kernel's payload is one XZ stream followed by its 4-byte size. */
	if (job.in_buf && job.out_buf && lzma_stream_decoder(&strm, UINT64_MAX, 0) == LZMA_OK)
		r = xz_pump(&job, &strm);
	lzma_end(&strm);
	free(job.in_buf);
	free(job.out_buf);
	return r;
}

int bzimage_vmlinux_fd(int fd, const struct bzimage *bz, char *err, unsigned err_size)
{
	uint64_t offset = bz->setup_size + bz->hdr.payload_offset;
	uint64_t len = bz->hdr.payload_length;
	uint8_t magic[sizeof(xz_magic)];
	int cfd;

	if (offset > bz->file_size || len > bz->file_size - offset || len < sizeof(magic) ||
	    read_exact_at(fd, magic, sizeof(magic), (off_t)offset) ||
	    memcmp(magic, xz_magic, sizeof(magic)) != 0)
		return -ENOTSUP;
	cfd = kernel_cache_fd(fd, offset, len, "vmlinux", xz_decompress);
	if (cfd < 0)
		snprintf(err, err_size, "cannot decompress the XZ payload: %s", strerror(-cfd));
	return cfd;
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
	r = kernel_cache_copy_to_path(vmlinux, out_path);
	close(vmlinux);
	if (r)
		log_error("boot", "cannot write '%s': %s", out_path, strerror(-r));
	return r;
}
