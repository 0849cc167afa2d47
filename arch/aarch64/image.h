/*
 * The arm64 Linux boot image ("Image", Documentation/arm64/booting.rst):
 * header checks, and gzip-compressed images (Image.gz) unpacked once on the
 * host and cached by content hash, as the x86 bzImage payload is.
 */
#ifndef ARCH_AARCH64_IMAGE_H
#define ARCH_AARCH64_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ARM64_IMAGE_HEADER_SIZE 64
#define ARM64_IMAGE_MAGIC 0x644d5241u /* "ARM\x64" at offset 0x38 */

struct arm64_image {
	uint64_t text_offset; /* load offset from a 2 MiB-aligned base */
	uint64_t image_size;  /* bytes the kernel occupies once running, bss included */
	uint64_t file_size;
	unsigned page_shift; /* 12, 14 or 16; 0 when the header does not say */
	bool anywhere;	     /* flags bit 3: any 2 MiB-aligned base in RAM will do */
};

/*
 * Checks a 64-byte header read from an uncompressed image of file_size
 * bytes: the magic, little-endian, an image_size (kernels since 3.17) no
 * smaller than the file. err gets one line when it returns -ENOEXEC.
 */
int arm64_image_parse(const uint8_t hdr[ARM64_IMAGE_HEADER_SIZE], uint64_t file_size,
		      struct arm64_image *img, char *err, unsigned err_size);

/*
 * Whether the vCPU (its ID_AA64MMFR0_EL1 value) offers the translation
 * granule of page_shift; page_shift 0 (unspecified) is always accepted.
 */
bool arm64_image_page_size_ok(unsigned page_shift, uint64_t mmfr0);

/*
 * Opens path and returns a read-only fd of the uncompressed Image: the file
 * itself, or for a gzip file its cached contents ($VMM_CACHE_DIR ...).
 * Files that are not an arm64 Image (an x86 bzImage, an ELF vmlinux) get
 * one line in err saying what they are. Returns the fd or -errno.
 */
int arm64_image_open(const char *path, struct arm64_image *img, char *err, unsigned err_size);

#endif
