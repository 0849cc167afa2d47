/* bzImage payload cache end to end: decompressed once, sparse, found again, and cancellable. */
#include <asm/bootparam.h>
#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <lzma.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arch/x86_64/bzimage.h"
#include "tests/unit/check_main.h"

#define SETUP_SIZE (5 * 512)
#define VMLINUX_SIZE (256u << 10)
#define DATA_SIZE (64u << 10) /* then zeros to VMLINUX_SIZE, then one more data page */

static uint8_t vmlinux[VMLINUX_SIZE + 4096];

/* A fake vmlinux: 64 KiB of data, 192 KiB of zeros, a last page of data. */
static void make_vmlinux(void)
{
	memset(vmlinux, 0, sizeof(vmlinux));
	memcpy(vmlinux, ELFMAG, SELFMAG);
	for (unsigned i = SELFMAG; i < DATA_SIZE; i++)
		vmlinux[i] = (uint8_t)(i * 13 + 1);
	memset(vmlinux + VMLINUX_SIZE, 0x5a, 4096);
}

/* Writes a bzImage whose payload is vmlinux, XZ-compressed; returns its fd. */
static int make_bzimage(struct bzimage *bz)
{
	static uint8_t img[SETUP_SIZE + sizeof(vmlinux) + 4096];
	struct setup_header *h = (struct setup_header *)(img + 0x1f1);
	size_t xz_len = 0;
	char err[160];
	int fd = memfd_create("bzImage", 0);

	make_vmlinux();
	memset(img, 0, SETUP_SIZE);
	ck_assert_int_eq(lzma_easy_buffer_encode(0, LZMA_CHECK_CRC32, NULL, vmlinux,
						 sizeof(vmlinux), img + SETUP_SIZE, &xz_len,
						 sizeof(img) - SETUP_SIZE - 4),
			 LZMA_OK);
	h->setup_sects = 4;
	h->boot_flag = 0xaa55;
	h->jump = 0x6aeb;
	h->header = 0x53726448;
	h->version = 0x020f;
	h->loadflags = LOADED_HIGH;
	h->xloadflags = XLF_KERNEL_64;
	h->payload_offset = 0;
	h->payload_length = (uint32_t)xz_len + 4;
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, img, SETUP_SIZE + xz_len + 4),
			 (ssize_t)(SETUP_SIZE + xz_len + 4));
	ck_assert_int_eq(bzimage_parse(fd, bz, err, sizeof(err)), 0);
	return fd;
}

static unsigned entries(const char *dir, const char *prefix)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	unsigned n = 0;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL)
		n += strncmp(e->d_name, prefix, strlen(prefix)) == 0;
	closedir(d);
	return n;
}

static char *cache_dir_fresh(void)
{
	static char dir[64];

	snprintf(dir, sizeof(dir), "/tmp/bzimage-cache-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	setenv("VMM_CACHE_DIR", dir, 1);
	return dir;
}

static void remove_dir(const char *dir)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

START_TEST(test_decompressed_once_sparse)
{
	static uint8_t back[sizeof(vmlinux)];
	struct bzimage bz;
	char err[160], *dir = cache_dir_fresh();
	struct stat first, again;
	int fd = make_bzimage(&bz), v1, v2;

	v1 = bzimage_vmlinux_fd(fd, &bz, err, sizeof(err));
	ck_assert_int_ge(v1, 0);
	ck_assert_int_eq(pread(v1, back, sizeof(back), 0), (ssize_t)sizeof(back));
	ck_assert_int_eq(memcmp(back, vmlinux, sizeof(back)), 0);
	ck_assert_int_eq(fstat(v1, &first), 0);
	ck_assert_int_eq(first.st_size, (off_t)sizeof(vmlinux));
	/* The 192 KiB of zeros are a hole. */
	ck_assert_int_eq(lseek(v1, DATA_SIZE, SEEK_HOLE), DATA_SIZE);
	ck_assert_int_eq(lseek(v1, DATA_SIZE, SEEK_DATA), VMLINUX_SIZE);
	ck_assert_uint_eq(entries(dir, "vmlinux-"), 1);
	v2 = bzimage_vmlinux_fd(fd, &bz, err, sizeof(err));
	ck_assert_int_ge(v2, 0);
	ck_assert_int_eq(fstat(v2, &again), 0);
	ck_assert_uint_eq(again.st_ino, first.st_ino);
	close(v1);
	close(v2);
	close(fd);
	remove_dir(dir);
}
END_TEST

START_TEST(test_cancelled_leaves_nothing)
{
	struct bzimage_fetch fetch = {0};
	struct bzimage bz;
	char err[160], *dir = cache_dir_fresh();
	int fd = make_bzimage(&bz);

	atomic_store(&fetch.cancel, true);
	ck_assert_int_eq(bzimage_vmlinux_fd_fetch(fd, &bz, &fetch, err, sizeof(err)), -ECANCELED);
	ck_assert(atomic_load(&fetch.decompressing));
	ck_assert_uint_eq(entries(dir, "vmlinux-"), 0);
	close(fd);
	remove_dir(dir);
}
END_TEST

static Suite *bzimage_cache_suite(void)
{
	Suite *s = suite_create("bzImage payload cache");
	TCase *tc = tcase_create("cache");

	tcase_add_test(tc, test_decompressed_once_sparse);
	tcase_add_test(tc, test_cancelled_leaves_nothing);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(bzimage_cache_suite)
