/* The arm64 Image header: what is accepted, what is refused with which line, and Image.gz. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "arch/aarch64/image.h"
#include "tests/unit/check_main.h"

#define MMFR0_ALL_GRANULES 0x00100000ull /* TGran4 0, TGran64 0, TGran16 1 */

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* A header as Debian's 6.1 arm64 kernel has it: 4K pages, placeable anywhere. */
static void debian_header(uint8_t *h)
{
	memset(h, 0, ARM64_IMAGE_HEADER_SIZE);
	h[0] = 'M';
	h[1] = 'Z';
	put64(h + 0x08, 0);
	put64(h + 0x10, 0x2010000);
	put64(h + 0x18, 0xa);
	memcpy(h + 0x38, "ARM\x64", 4);
}

START_TEST(test_debian_header)
{
	uint8_t h[ARM64_IMAGE_HEADER_SIZE];
	struct arm64_image img;
	char err[160] = "";

	debian_header(h);
	ck_assert_int_eq(arm64_image_parse(h, 32956352, &img, err, sizeof(err)), 0);
	ck_assert_uint_eq(img.text_offset, 0);
	ck_assert_uint_eq(img.image_size, 0x2010000);
	ck_assert_uint_eq(img.page_shift, 12);
	ck_assert(img.anywhere);
}
END_TEST

START_TEST(test_refusals)
{
	uint8_t h[ARM64_IMAGE_HEADER_SIZE];
	struct arm64_image img;
	char err[160];

	debian_header(h);
	h[0x38] = 'X';
	ck_assert_int_eq(arm64_image_parse(h, 4096, &img, err, sizeof(err)), -ENOEXEC);
	ck_assert_ptr_nonnull(strstr(err, "magic"));
	debian_header(h);
	put64(h + 0x18, 0xb);
	ck_assert_int_eq(arm64_image_parse(h, 4096, &img, err, sizeof(err)), -ENOEXEC);
	ck_assert_ptr_nonnull(strstr(err, "big-endian"));
	debian_header(h);
	put64(h + 0x10, 0);
	ck_assert_int_eq(arm64_image_parse(h, 4096, &img, err, sizeof(err)), -ENOEXEC);
	ck_assert_ptr_nonnull(strstr(err, "3.17"));
	debian_header(h);
	ck_assert_int_eq(arm64_image_parse(h, 0x2010001, &img, err, sizeof(err)), -ENOEXEC);
	ck_assert_ptr_nonnull(strstr(err, "inconsistent"));
	debian_header(h);
	put64(h + 0x08, 0x80001);
	ck_assert_int_eq(arm64_image_parse(h, 4096, &img, err, sizeof(err)), -ENOEXEC);
}
END_TEST

START_TEST(test_page_sizes)
{
	uint8_t h[ARM64_IMAGE_HEADER_SIZE];
	struct arm64_image img;
	char err[160];
	const unsigned expect[] = {0, 12, 14, 16};

	for (unsigned v = 0; v < 4; v++) {
		debian_header(h);
		put64(h + 0x18, v << 1);
		ck_assert_int_eq(arm64_image_parse(h, 4096, &img, err, sizeof(err)), 0);
		ck_assert_uint_eq(img.page_shift, expect[v]);
		ck_assert(!img.anywhere);
	}
	ck_assert(arm64_image_page_size_ok(0, 0xfffffffffull));
	ck_assert(arm64_image_page_size_ok(12, MMFR0_ALL_GRANULES));
	ck_assert(arm64_image_page_size_ok(14, MMFR0_ALL_GRANULES));
	ck_assert(arm64_image_page_size_ok(16, MMFR0_ALL_GRANULES));
	/* TGran4 = 0xf: no 4K; TGran16 = 0: no 16K; TGran64 = 0xf: no 64K. */
	ck_assert(!arm64_image_page_size_ok(12, 0xf0000000ull));
	ck_assert(!arm64_image_page_size_ok(14, 0));
	ck_assert(!arm64_image_page_size_ok(16, 0x0f000000ull));
	ck_assert(arm64_image_page_size_ok(12, 0x0f000000ull));
}
END_TEST

static char *temp_file(const void *data, size_t len)
{
	char *path = strdup("/tmp/test_arm64_image.XXXXXX");
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, data, len), (ssize_t)len);
	close(fd);
	return path;
}

START_TEST(test_wrong_files_named)
{
	uint8_t buf[1024] = {0};
	struct arm64_image img;
	char err[160], *path;

	memcpy(buf + 0x202, "HdrS", 4);
	path = temp_file(buf, sizeof(buf));
	ck_assert_int_eq(arm64_image_open(path, &img, err, sizeof(err)), -ENOEXEC);
	ck_assert_ptr_nonnull(strstr(err, "x86 bzImage"));
	unlink(path);
	free(path);
	memset(buf, 0, sizeof(buf));
	memcpy(buf, "\177ELF", 4);
	path = temp_file(buf, sizeof(buf));
	ck_assert_int_eq(arm64_image_open(path, &img, err, sizeof(err)), -ENOEXEC);
	ck_assert_ptr_nonnull(strstr(err, "ELF"));
	unlink(path);
	free(path);
	ck_assert_int_eq(arm64_image_open("/nonexistent/Image", &img, err, sizeof(err)), -ENOENT);
}
END_TEST

/* Image.gz: unpacked once into the cache directory, read from there the second time. */
START_TEST(test_gzip_image_cached)
{
	static uint8_t image[256 << 10];
	uint8_t *gz = malloc(sizeof(image) + 4096), back[ARM64_IMAGE_HEADER_SIZE];
	char dir[] = "/tmp/test_arm64_cache.XXXXXX", err[160] = "", cmd[128], *path;
	z_stream z = {0};
	struct arm64_image img;
	int fd;

	for (size_t i = 0; i < sizeof(image); i++)
		image[i] = (uint8_t)(i * 7);
	debian_header(image);
	put64(image + 0x10, sizeof(image) + 4096);
	ck_assert_int_eq(deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY),
			 Z_OK);
	z.next_in = image;
	z.avail_in = sizeof(image);
	z.next_out = gz;
	z.avail_out = sizeof(image) + 4096;
	ck_assert_int_eq(deflate(&z, Z_FINISH), Z_STREAM_END);
	path = temp_file(gz, z.total_out);
	deflateEnd(&z);
	ck_assert_ptr_nonnull(mkdtemp(dir));
	setenv("VMM_CACHE_DIR", dir, 1);
	for (int round = 0; round < 2; round++) {
		fd = arm64_image_open(path, &img, err, sizeof(err));
		ck_assert_msg(fd >= 0, "open failed: %s", err);
		ck_assert_uint_eq(img.file_size, sizeof(image));
		ck_assert_int_eq(pread(fd, back, sizeof(back), 0), (ssize_t)sizeof(back));
		ck_assert_mem_eq(back, image, sizeof(back));
		close(fd);
		snprintf(cmd, sizeof(cmd), "test -n \"$(ls %s/Image-*)\"", dir);
		ck_assert_int_eq(system(cmd), 0);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
	unlink(path);
	free(path);
	free(gz);
}
END_TEST

static Suite *image_suite(void)
{
	Suite *s = suite_create("arm64_image");
	TCase *tc = tcase_create("header");

	tcase_add_test(tc, test_debian_header);
	tcase_add_test(tc, test_refusals);
	tcase_add_test(tc, test_page_sizes);
	tcase_add_test(tc, test_wrong_files_named);
	tcase_add_test(tc, test_gzip_image_cached);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(image_suite)
