/* ELF loader: file data lands by p_paddr, holes and bss read as zeros, bad segments are refused. */
#include <elf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tests/unit/check_main.h"
#include "vmm/elf_loader.h"
#include "vmm/memory.h"

#define RAM_SIZE (32u << 20)
#define MAX_SEGS 4

struct fake_elf {
	Elf64_Ehdr eh;
	Elf64_Phdr ph[MAX_SEGS];
};

/* An ELF header for n PT_LOAD segments (filled in by the caller), in a fresh memfd. */
static int elf_file(struct fake_elf *f, unsigned n)
{
	int fd = memfd_create("vmlinux", 0);

	memcpy(f->eh.e_ident, ELFMAG, SELFMAG);
	f->eh.e_ident[EI_CLASS] = ELFCLASS64;
	f->eh.e_ident[EI_DATA] = ELFDATA2LSB;
	f->eh.e_type = ET_EXEC;
	f->eh.e_machine = EM_X86_64;
	f->eh.e_entry = 0x1000000;
	f->eh.e_phoff = offsetof(struct fake_elf, ph);
	f->eh.e_phentsize = sizeof(Elf64_Phdr);
	f->eh.e_phnum = (uint16_t)n;
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pwrite(fd, f, sizeof(*f), 0), (ssize_t)sizeof(*f));
	return fd;
}

static void segment(struct fake_elf *f, unsigned i, uint64_t offset, uint64_t paddr,
		    uint64_t filesz, uint64_t memsz)
{
	f->ph[i] = (Elf64_Phdr){.p_type = PT_LOAD,
				.p_offset = offset,
				.p_paddr = paddr,
				.p_filesz = filesz,
				.p_memsz = memsz};
}

static void fill(int fd, uint64_t offset, uint64_t len, uint8_t byte)
{
	uint8_t *buf = malloc(len);

	memset(buf, byte, len);
	ck_assert_int_eq(pwrite(fd, buf, len, (off_t)offset), (ssize_t)len);
	free(buf);
}

static void ram_init(struct guest_memory *mem)
{
	const struct ram_range range = {0, RAM_SIZE};

	ck_assert_int_eq(guest_memory_init(mem, &range, 1), 0);
	/* Not fresh: the loader must zero what it does not read, not assume it. */
	memset(mem->regions[0].host, 0xaa, RAM_SIZE);
}

static void assert_bytes(const struct guest_memory *mem, uint64_t gpa, uint64_t len, uint8_t b)
{
	const uint8_t *p = guest_memory_ptr(mem, gpa, len);

	ck_assert_ptr_nonnull(p);
	for (uint64_t i = 0; i < len; i++)
		if (p[i] != b)
			ck_abort_msg("gpa 0x%llx: 0x%02x, want 0x%02x",
				     (unsigned long long)(gpa + i), p[i], b);
}

/*
 * Segment 0: 8 KiB of data then a 12 KiB zero tail (bss), at an address
 * that is not page-aligned. Segment 1: data, a 64 KiB hole in the file,
 * data again, so only the hole's pages are skipped.
 */
START_TEST(test_zero_tail_and_hole)
{
	struct fake_elf f = {0};
	struct guest_memory mem;
	struct elf_image img;
	char err[160];
	int fd;

	segment(&f, 0, 0x1000, 0x1000800, 0x2000, 0x5000);
	segment(&f, 1, 0x10000, 0x1100000, 0x30000, 0x30000);
	fd = elf_file(&f, 2);
	fill(fd, 0x1000, 0x2000, 0x11);
	fill(fd, 0x10000, 0x10000, 0x22);
	fill(fd, 0x30000, 0x10000, 0x33); /* 0x20000-0x30000 stays a hole */
	ram_init(&mem);
	ck_assert_int_eq(elf_load(fd, EM_X86_64, &mem, &img, err, sizeof(err)), 0);
	assert_bytes(&mem, 0x1000800, 0x2000, 0x11);
	assert_bytes(&mem, 0x1002800, 0x3000, 0x00);
	assert_bytes(&mem, 0x1005800, 0x800, 0xaa); /* past the segment: untouched */
	assert_bytes(&mem, 0x1100000, 0x10000, 0x22);
	assert_bytes(&mem, 0x1110000, 0x10000, 0x00);
	assert_bytes(&mem, 0x1120000, 0x10000, 0x33);
	ck_assert_uint_eq(img.low_gpa, 0x1000800);
	ck_assert_uint_eq(img.high_gpa, 0x1130000);
	ck_assert_uint_eq(img.entry, 0x1000000);
	guest_memory_destroy(&mem);
	close(fd);
}
END_TEST

static int load_error(struct fake_elf *f, unsigned n, char *err, unsigned err_size)
{
	struct guest_memory mem;
	struct elf_image img;
	int fd = elf_file(f, n), r;

	fill(fd, 0x1000, 0x4000, 0x11);
	ram_init(&mem);
	r = elf_load(fd, EM_X86_64, &mem, &img, err, err_size);
	guest_memory_destroy(&mem);
	close(fd);
	return r;
}

START_TEST(test_bad_segments_refused)
{
	struct fake_elf f = {0};
	char err[160];

	/* The second overlaps the first one's bss. */
	segment(&f, 0, 0x1000, 0x1000000, 0x1000, 0x3000);
	segment(&f, 1, 0x2000, 0x1002000, 0x1000, 0x1000);
	ck_assert_int_eq(load_error(&f, 2, err, sizeof(err)), -ENOEXEC);
	ck_assert_ptr_nonnull(strstr(err, "overlap"));
	/* Touching is fine. */
	segment(&f, 1, 0x2000, 0x1003000, 0x1000, 0x1000);
	ck_assert_int_eq(load_error(&f, 2, err, sizeof(err)), 0);
	/* bss running out of RAM. */
	segment(&f, 1, 0x2000, RAM_SIZE - 0x1000, 0x1000, 0x2000);
	ck_assert_int_eq(load_error(&f, 2, err, sizeof(err)), -EFAULT);
	ck_assert_ptr_nonnull(strstr(err, "outside guest RAM"));
	/* File data past the end of the file, and more file than memory. */
	segment(&f, 1, 0x4000, 0x1003000, 0x2000, 0x2000);
	ck_assert_int_eq(load_error(&f, 2, err, sizeof(err)), -EIO);
	segment(&f, 1, 0x2000, 0x1003000, 0x2000, 0x1000);
	ck_assert_int_eq(load_error(&f, 2, err, sizeof(err)), -ENOEXEC);
	ck_assert_ptr_nonnull(strstr(err, "exceeds memory size"));
}
END_TEST

START_TEST(test_guest_memory_zero)
{
	struct guest_memory mem;

	ram_init(&mem);
	ck_assert_int_eq(guest_memory_zero(&mem, 0x10, 0x20), 0);
	assert_bytes(&mem, 0, 0x10, 0xaa);
	assert_bytes(&mem, 0x10, 0x20, 0x00);
	assert_bytes(&mem, 0x30, 0x10, 0xaa);
	ck_assert_int_eq(guest_memory_zero(&mem, 0x2ff0, 0x5020), 0);
	assert_bytes(&mem, 0x2fe0, 0x10, 0xaa);
	assert_bytes(&mem, 0x2ff0, 0x5020, 0x00);
	assert_bytes(&mem, 0x8010, 0x10, 0xaa);
	ck_assert_int_eq(guest_memory_zero(&mem, RAM_SIZE - 0x1000, 0x1001), -EFAULT);
	guest_memory_destroy(&mem);
}
END_TEST

/* Zeroing fresh memory allocates nothing; what was written is cleared. */
START_TEST(test_guest_memory_zero_fresh)
{
	const struct ram_range range = {0, RAM_SIZE};
	struct guest_memory mem;
	int fd;

	ck_assert_int_eq(guest_memory_init(&mem, &range, 1), 0);
	fd = mem.regions[0].fd;
	memset((char *)mem.regions[0].host + 0x5000, 0x77, 0x1000);
	ck_assert_int_eq(guest_memory_zero(&mem, 0x100000, 0x400000), 0);
	ck_assert_int_eq(guest_memory_zero(&mem, 0x4000, 0x3000), 0);
	assert_bytes(&mem, 0x5000, 0x1000, 0x00);
	ck_assert_int_eq(lseek(fd, 0x100000, SEEK_DATA), -1);
	ck_assert_int_eq(lseek(fd, 0, SEEK_DATA), 0x5000);
	guest_memory_destroy(&mem);
}
END_TEST

static Suite *elf_suite(void)
{
	Suite *s = suite_create("elf loader");
	TCase *tc = tcase_create("elf");

	tcase_add_test(tc, test_zero_tail_and_hole);
	tcase_add_test(tc, test_bad_segments_refused);
	tcase_add_test(tc, test_guest_memory_zero);
	tcase_add_test(tc, test_guest_memory_zero_fresh);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(elf_suite)
