/* x86_64 boot: bzImage header checks, ELF loading, boot_params, e820 and initrd placement. */
#include <asm/bootparam.h>
#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "arch/arch.h"
#include "arch/x86_64/bzimage.h"
#include "arch/x86_64/layout.h"
#include "arch/x86_64/x86.h"
#include "tests/unit/check_main.h"
#include "tests/lib/fake_vm.h"
#include "vmm/vm.h"

static int memfd_with(const void *data, size_t len)
{
	int fd = memfd_create("test", 0);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, data, len), (ssize_t)len);
	return fd;
}

static void fake_bzimage(uint8_t *img, size_t size, uint16_t version, uint16_t xloadflags)
{
	struct setup_header *h = (struct setup_header *)(img + 0x1f1);

	memset(img, 0, size);
	h->setup_sects = 4;
	h->boot_flag = 0xaa55;
	h->jump = 0x6aeb; /* header ends at 0x26c, like a modern kernel */
	h->header = 0x53726448;
	h->version = version;
	h->loadflags = LOADED_HIGH;
	h->xloadflags = xloadflags;
	h->cmdline_size = 2047;
	h->init_size = 0x800000;
}

START_TEST(test_bzimage_header)
{
	static uint8_t img[16384];
	struct bzimage bz;
	char err[160];
	int fd;

	fake_bzimage(img, sizeof(img), 0x020f, XLF_KERNEL_64);
	fd = memfd_with(img, sizeof(img));
	ck_assert(bzimage_detect(fd));
	ck_assert_int_eq(bzimage_parse(fd, &bz, err, sizeof(err)), 0);
	ck_assert_uint_eq(bz.setup_size, 5 * 512);
	ck_assert_uint_eq(bz.kernel_size, sizeof(img) - 5 * 512);
	ck_assert_uint_eq(bz.hdr_len, 0x26c - 0x1f1);
	/* Not XZ: the caller falls back to the kernel's own decompressor. */
	ck_assert_int_eq(bzimage_vmlinux_fd(fd, &bz, err, sizeof(err)), -ENOTSUP);
	close(fd);

	fake_bzimage(img, sizeof(img), 0x0206, XLF_KERNEL_64);
	fd = memfd_with(img, sizeof(img));
	ck_assert_int_eq(bzimage_parse(fd, &bz, err, sizeof(err)), -ENOEXEC);
	ck_assert_ptr_nonnull(strstr(err, "2.06"));
	close(fd);

	fake_bzimage(img, sizeof(img), 0x020f, 0);
	fd = memfd_with(img, sizeof(img));
	ck_assert_int_eq(bzimage_parse(fd, &bz, err, sizeof(err)), -ENOEXEC);
	close(fd);

	fake_bzimage(img, sizeof(img), 0x020f, XLF_KERNEL_64);
	fd = memfd_with(img, 2048); /* ends inside the setup code */
	ck_assert(!bzimage_detect(fd) || bzimage_parse(fd, &bz, err, sizeof(err)) == -ENOEXEC);
	close(fd);
}
END_TEST

/* A minimal x86_64 ELF "kernel": one segment at 16 MiB with 4 KiB of bss. */
static int fake_vmlinux(void)
{
	struct {
		Elf64_Ehdr eh;
		Elf64_Phdr ph;
		uint8_t code[16];
	} f = {0};

	memcpy(f.eh.e_ident, ELFMAG, SELFMAG);
	f.eh.e_ident[EI_CLASS] = ELFCLASS64;
	f.eh.e_ident[EI_DATA] = ELFDATA2LSB;
	f.eh.e_type = ET_EXEC;
	f.eh.e_machine = EM_X86_64;
	f.eh.e_entry = 0x1000000;
	f.eh.e_phoff = offsetof(typeof(f), ph);
	f.eh.e_phentsize = sizeof(Elf64_Phdr);
	f.eh.e_phnum = 1;
	f.ph.p_type = PT_LOAD;
	f.ph.p_offset = offsetof(typeof(f), code);
	f.ph.p_paddr = 0x1000000;
	f.ph.p_filesz = sizeof(f.code);
	f.ph.p_memsz = sizeof(f.code) + 4096;
	memset(f.code, 0xf4, sizeof(f.code));
	return memfd_with(&f, sizeof(f));
}

struct boot_fixture {
	struct vm vm;
	struct vm_config cfg;
	struct arch_vm arch;
	char kernel_path[64], initrd_path[64];
};

static void boot_fixture_init(struct boot_fixture *f, uint64_t mem_size, size_t initrd_size)
{
	struct ram_range ranges[2];
	int n = arch_ram_ranges(mem_size, ranges, 2);
	int kfd = fake_vmlinux();
	char *initrd = calloc(1, initrd_size);
	int ifd = memfd_with(initrd, initrd_size);

	free(initrd);
	memset(f, 0, sizeof(*f));
	f->cfg.mem_size = mem_size;
	f->cfg.ncpus = 2;
	f->cfg.cmdline = "quiet panic=-1";
	snprintf(f->kernel_path, sizeof(f->kernel_path), "/proc/self/fd/%d", kfd);
	snprintf(f->initrd_path, sizeof(f->initrd_path), "/proc/self/fd/%d", ifd);
	f->cfg.kernel_path = f->kernel_path;
	f->cfg.initrd_path = f->initrd_path;
	ck_assert_int_eq(test_vm_init(&f->vm, ranges, (unsigned)n), 0);
	f->vm.cfg = &f->cfg;
	f->vm.ncpus = 2;
	f->vm.arch = &f->arch;
}

START_TEST(test_load_elf_with_initrd)
{
	struct boot_fixture f;
	struct boot_params *bp;
	const char *cmdline;

	boot_fixture_init(&f, 256ull << 20, 3 << 20);
	ck_assert_int_eq(arch_load_guest(&f.vm), 0);
	bp = guest_memory_ptr(&f.vm.mem, X86_ZERO_PAGE, sizeof(*bp));
	ck_assert_uint_eq(f.arch.entry_rip, 0x1000000);
	ck_assert_uint_eq(*(uint8_t *)guest_memory_ptr(&f.vm.mem, 0x1000000, 1), 0xf4);
	ck_assert_uint_eq(bp->hdr.boot_flag, 0xaa55);
	ck_assert_uint_eq(bp->hdr.type_of_loader, 0xff);
	cmdline = guest_memory_ptr(&f.vm.mem, bp->hdr.cmd_line_ptr, 1);
	ck_assert_str_eq(cmdline, "console=ttyS0 8250.nr_uarts=1 pci=noearly quiet panic=-1");
	/* initrd: page-aligned, at the top of RAM, clear of the kernel. */
	ck_assert_uint_eq(bp->hdr.ramdisk_size, 3 << 20);
	ck_assert_uint_eq(bp->hdr.ramdisk_image & 0xfff, 0);
	ck_assert_uint_eq(bp->hdr.ramdisk_image + bp->hdr.ramdisk_size, 256ull << 20);
	ck_assert_uint_ne(bp->acpi_rsdp_addr, 0);
	ck_assert_uint_ge(bp->acpi_rsdp_addr, 0xe0000);
	ck_assert_uint_lt(bp->acpi_rsdp_addr, 0x100000);
	test_vm_destroy(&f.vm);
}
END_TEST

START_TEST(test_initrd_too_big)
{
	struct boot_fixture f;

	boot_fixture_init(&f, 32ull << 20, 20 << 20);
	ck_assert_int_eq(arch_load_guest(&f.vm), -ENOMEM);
	test_vm_destroy(&f.vm);
}
END_TEST

START_TEST(test_missing_kernel)
{
	struct boot_fixture f;

	boot_fixture_init(&f, 64ull << 20, 4096);
	f.cfg.kernel_path = "/nonexistent/bzImage";
	ck_assert_int_eq(arch_load_guest(&f.vm), -ENOENT);
	test_vm_destroy(&f.vm);
}
END_TEST

START_TEST(test_e820)
{
	struct boot_fixture f;
	struct boot_params bp;
	unsigned n;
	uint64_t ram = 0;

	boot_fixture_init(&f, 4ull << 30, 4096);
	memset(&bp, 0, sizeof(bp));
	n = x86_build_e820(&f.vm, &bp);
	ck_assert_uint_eq(n, 4);
	for (unsigned i = 0; i < n; i++) {
		if (i)
			ck_assert_uint_ge(bp.e820_table[i].addr,
					  bp.e820_table[i - 1].addr + bp.e820_table[i - 1].size);
		if (bp.e820_table[i].type == 1)
			ram += bp.e820_table[i].size;
	}
	/* Everything but the legacy BIOS hole is usable RAM. */
	ck_assert_uint_eq(ram, (4ull << 30) - (X86_HIMEM - X86_EBDA_START));
	ck_assert_uint_eq(bp.e820_table[3].addr, X86_HIGHMEM_START);
	test_vm_destroy(&f.vm);
}
END_TEST

static Suite *boot_suite(void)
{
	Suite *s = suite_create("x86_64 boot");
	TCase *tc = tcase_create("boot");

	tcase_add_test(tc, test_bzimage_header);
	tcase_add_test(tc, test_load_elf_with_initrd);
	tcase_add_test(tc, test_initrd_too_big);
	tcase_add_test(tc, test_missing_kernel);
	tcase_add_test(tc, test_e820);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(boot_suite)
