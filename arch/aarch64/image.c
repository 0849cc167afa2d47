/* arm64 Image header parsing and cached host-side gunzip of Image.gz. */
#include "arch/aarch64/image.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "vmm/file_io.h"
#include "vmm/kernel_cache.h"

#define FLAG_BIG_ENDIAN 0x1ull
#define FLAG_PAGE_SIZE_SHIFT 1
#define FLAG_PAGE_SIZE_MASK 0x3ull
#define FLAG_PHYS_ANYWHERE 0x8ull
#define X86_HDRS_OFFSET 0x202
/* ID_AA64MMFR0_EL1 granule fields. */
#define MMFR0_TGRAN4_SHIFT 28
#define MMFR0_TGRAN64_SHIFT 24
#define MMFR0_TGRAN16_SHIFT 20

static uint64_t le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)le64((const uint8_t[8]){p[0], p[1], p[2], p[3]});
}

int arm64_image_parse(const uint8_t hdr[ARM64_IMAGE_HEADER_SIZE], uint64_t file_size,
		      struct arm64_image *img, char *err, unsigned err_size)
{
	uint64_t flags = le64(hdr + 0x18);
	static const unsigned shifts[] = {0, 12, 14, 16};

	memset(img, 0, sizeof(*img));
	if (le32(hdr + 0x38) != ARM64_IMAGE_MAGIC) {
		snprintf(err, err_size, "not an arm64 Linux Image (no ARM\\x64 magic)");
		return -ENOEXEC;
	}
	if (flags & FLAG_BIG_ENDIAN) {
		snprintf(err, err_size,
			 "big-endian arm64 kernel; KVM guests here are little-endian");
		return -ENOEXEC;
	}
	img->text_offset = le64(hdr + 0x08);
	img->image_size = le64(hdr + 0x10);
	img->file_size = file_size;
	img->page_shift = shifts[(flags >> FLAG_PAGE_SIZE_SHIFT) & FLAG_PAGE_SIZE_MASK];
	img->anywhere = flags & FLAG_PHYS_ANYWHERE;
	if (img->image_size == 0) {
		snprintf(err, err_size, "Image header has no image_size (a kernel before 3.17)");
		return -ENOEXEC;
	}
	if (img->image_size < file_size || (img->text_offset & 0xfff) ||
	    img->text_offset >= (2u << 20)) {
		snprintf(err, err_size,
			 "Image header is inconsistent (text_offset 0x%llx, image_size %llu, "
			 "file %llu bytes)",
			 (unsigned long long)img->text_offset, (unsigned long long)img->image_size,
			 (unsigned long long)file_size);
		return -ENOEXEC;
	}
	return 0;
}

bool arm64_image_page_size_ok(unsigned page_shift, uint64_t mmfr0)
{
	unsigned tgran4 = (mmfr0 >> MMFR0_TGRAN4_SHIFT) & 0xf;
	unsigned tgran64 = (mmfr0 >> MMFR0_TGRAN64_SHIFT) & 0xf;
	unsigned tgran16 = (mmfr0 >> MMFR0_TGRAN16_SHIFT) & 0xf;

	/* 4K and 64K: 0 (and 1 for 52-bit 4K) mean supported, 0xf not; 16K: 0 means not. */
	switch (page_shift) {
	case 0:
		return true;
	case 12:
		return tgran4 != 0xf;
	case 14:
		return tgran16 != 0;
	case 16:
		return tgran64 != 0xf;
	}
	return false;
}

/* kernel_decompress_fn for gzip: one member, output bounded by KERNEL_CACHE_MAX_SIZE. */
static int gunzip_into(int in_fd, uint64_t offset, uint64_t len, int out_fd)
{
	uint8_t *in = malloc(KERNEL_CACHE_IO_CHUNK), *out = malloc(KERNEL_CACHE_IO_CHUNK);
	z_stream z = {0};
	uint64_t written = 0;
	int ret = Z_OK, r = 0;

	if (!in || !out || inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) {
		free(in);
		free(out);
		return -ENOMEM;
	}
	while (ret != Z_STREAM_END && !r) {
		if (z.avail_in == 0) {
			size_t n =
			    len < KERNEL_CACHE_IO_CHUNK ? (size_t)len : KERNEL_CACHE_IO_CHUNK;
			if (n == 0 || read_exact_at(in_fd, in, n, (off_t)offset)) {
				r = -EBADMSG;
				break;
			}
			offset += n;
			len -= n;
			z.next_in = in;
			z.avail_in = (uInt)n;
		}
		z.next_out = out;
		z.avail_out = KERNEL_CACHE_IO_CHUNK;
		ret = inflate(&z, Z_NO_FLUSH);
		if (ret != Z_OK && ret != Z_STREAM_END)
			r = -EBADMSG;
		else if ((written += KERNEL_CACHE_IO_CHUNK - z.avail_out) > KERNEL_CACHE_MAX_SIZE)
			r = -EFBIG;
		else
			r = kernel_cache_write_all(out_fd, out,
						   KERNEL_CACHE_IO_CHUNK - z.avail_out);
	}
	inflateEnd(&z);
	free(in);
	free(out);
	return r;
}

/* One line for the files people give by mistake. */
static int explain_not_image(int fd, char *err, unsigned err_size)
{
	uint8_t b[4] = {0};

	if (read_exact_at(fd, b, 4, X86_HDRS_OFFSET) == 0 && memcmp(b, "HdrS", 4) == 0) {
		snprintf(err, err_size,
			 "an x86 bzImage; this VMM is built for aarch64 and boots "
			 "an arm64 Image");
		return -ENOEXEC;
	}
	if (read_exact_at(fd, b, 4, 0) == 0 && memcmp(b, "\177ELF", 4) == 0) {
		snprintf(err, err_size,
			 "an ELF file; on aarch64 give the kernel's Image (vmlinuz)");
		return -ENOEXEC;
	}
	return 0;
}

/* For a gzip file, the fd of its cached contents; else fd itself. */
static int maybe_gunzip(int fd, char *err, unsigned err_size)
{
	uint8_t magic[2] = {0};
	int64_t size = file_size(fd);
	int out;

	if (size < 0 || read_exact_at(fd, magic, 2, 0) || magic[0] != 0x1f || magic[1] != 0x8b)
		return fd;
	out = kernel_cache_fd(fd, 0, (uint64_t)size, "Image", gunzip_into);
	close(fd);
	if (out < 0)
		snprintf(err, err_size, "cannot gunzip the kernel: %s", strerror(-out));
	return out;
}

int arm64_image_open(const char *path, struct arm64_image *img, char *err, unsigned err_size)
{
	uint8_t hdr[ARM64_IMAGE_HEADER_SIZE];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int64_t size;
	int r;

	if (fd < 0) {
		snprintf(err, err_size, "cannot open '%s': %s", path, strerror(errno));
		return -errno;
	}
	r = explain_not_image(fd, err, err_size);
	if (!r)
		fd = maybe_gunzip(fd, err, err_size);
	if (r || fd < 0) {
		if (r)
			close(fd);
		return r ? r : fd;
	}
	size = file_size(fd);
	r = size < ARM64_IMAGE_HEADER_SIZE ? -ENOEXEC : read_exact_at(fd, hdr, sizeof(hdr), 0);
	if (r)
		snprintf(err, err_size, "too short for an arm64 Image (%lld bytes)",
			 (long long)size);
	else
		r = arm64_image_parse(hdr, (uint64_t)size, img, err, err_size);
	if (r) {
		close(fd);
		return r;
	}
	return fd;
}
