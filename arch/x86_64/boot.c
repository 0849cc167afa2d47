/* x86_64 direct kernel boot: bzImage or ELF vmlinux, initrd, command line and boot_params. */
#include <asm/bootparam.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "arch/arch.h"
#include "arch/x86_64/bzimage.h"
#include "arch/x86_64/layout.h"
#include "arch/x86_64/prefetch.h"
#include "arch/x86_64/x86.h"
#include "vmm/elf_loader.h"
#include "vmm/file_io.h"
#include "vmm/log.h"
#include "vmm/vm.h"

#define BOOT_LOADER_UNDEFINED 0xff
#define KERNEL_ALIGNMENT 0x1000000

struct kernel_info {
	uint64_t end;	      /* first free byte after the kernel's run-time footprint */
	uint32_t cmdline_max; /* bytes including the NUL */
	uint32_t initrd_addr_max;
};

static int open_input(const char *what, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		log_error("boot", "cannot open %s '%s': %s", what, path, strerror(errno));
	return fd;
}

/* Without a bzImage, boot_params gets the fields a loader must supply (as for a raw vmlinux). */
static void boot_params_default_header(struct boot_params *bp)
{
	bp->hdr.boot_flag = 0xaa55;
	bp->hdr.header = 0x53726448;
	bp->hdr.version = 0x020c;
	bp->hdr.kernel_alignment = KERNEL_ALIGNMENT;
	bp->hdr.cmdline_size = X86_CMDLINE_MAX - 1;
	bp->hdr.initrd_addr_max = 0x7fffffff;
}

static int load_elf_kernel(struct vm *vm, int fd, struct kernel_info *ki)
{
	struct elf_image img;
	char err[160];
	int r = elf_load(fd, EM_X86_64, &vm->mem, &img, err, sizeof(err));

	if (r) {
		log_error("boot", "kernel '%s': %s", vm->cfg->kernel_path, err);
		return r;
	}
	/* Linux's ELF entry is startup_64's physical address. */
	vm->arch->entry_rip = img.entry;
	ki->end = img.high_gpa;
	return 0;
}

/* Boots a bzImage through its own decompressor: protected-mode code at 1 MiB, entry + 0x200. */
static int load_bzimage_decompressor(struct vm *vm, int fd, const struct bzimage *bz,
				     struct kernel_info *ki)
{
	int r = read_into_guest(fd, (off_t)bz->setup_size, bz->kernel_size, &vm->mem, X86_HIMEM);

	if (r) {
		log_error("boot", "kernel '%s' (%llu bytes) does not fit in guest RAM",
			  vm->cfg->kernel_path, (unsigned long long)bz->kernel_size);
		return r;
	}
	vm->arch->entry_rip = X86_HIMEM + 0x200;
	ki->end = X86_HIMEM + bz->hdr.init_size;
	if (ki->end < X86_HIMEM + bz->kernel_size)
		ki->end = X86_HIMEM + bz->kernel_size;
	return 0;
}

static int load_bzimage(struct vm *vm, int fd, struct boot_params *bp, struct kernel_info *ki)
{
	struct bzimage bz;
	char err[160];
	int r = bzimage_parse(fd, &bz, err, sizeof(err));
	int vmlinux;

	if (r) {
		log_error("boot", "kernel '%s': %s", vm->cfg->kernel_path, err);
		return r;
	}
	memcpy(&bp->hdr, &bz.hdr, bz.hdr_len);
	ki->cmdline_max = bz.hdr.cmdline_size + 1;
	ki->initrd_addr_max = bz.hdr.initrd_addr_max;
	vmlinux = -ESTALE;
	if (vm->kernel_prefetch)
		vmlinux = kernel_prefetch_take(vm->kernel_prefetch, fd, err, sizeof(err));
	vm->kernel_prefetch = NULL;
	if (vmlinux == -ESTALE)
		vmlinux = bzimage_vmlinux_fd(fd, &bz, err, sizeof(err));
	if (vmlinux >= 0) {
		r = load_elf_kernel(vm, vmlinux, ki);
		close(vmlinux);
		return r;
	}
	if (vmlinux != -ENOTSUP)
		log_warn("boot", "%s; the guest decompresses the kernel itself", err);
	return load_bzimage_decompressor(vm, fd, &bz, ki);
}

static int load_kernel_file(struct vm *vm, struct boot_params *bp, struct kernel_info *ki)
{
	int fd = open_input("kernel", vm->cfg->kernel_path);
	int r;

	if (fd < 0)
		return -errno;
	ki->cmdline_max = X86_CMDLINE_MAX;
	ki->initrd_addr_max = 0x7fffffff;
	if (bzimage_detect(fd)) {
		r = load_bzimage(vm, fd, bp, ki);
	} else if (elf_is_elf64(fd)) {
		boot_params_default_header(bp);
		r = load_elf_kernel(vm, fd, ki);
	} else {
		log_error("boot", "kernel '%s' is neither a bzImage nor a 64-bit ELF vmlinux",
			  vm->cfg->kernel_path);
		r = -ENOEXEC;
	}
	close(fd);
	return r;
}

/* Whatever the kernel turned out to be, a prefetch not taken by load_bzimage ends here. */
static int load_kernel(struct vm *vm, struct boot_params *bp, struct kernel_info *ki)
{
	int r = load_kernel_file(vm, bp, ki);

	arch_kernel_prefetch_cancel(vm->kernel_prefetch);
	vm->kernel_prefetch = NULL;
	return r;
}

int arch_probe_kernel(const char *path, char *err, unsigned err_size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct bzimage bz;
	int r = 0;

	if (fd < 0) {
		snprintf(err, err_size, "cannot open '%s': %s", path, strerror(errno));
		return -errno;
	}
	if (bzimage_detect(fd))
		r = bzimage_parse(fd, &bz, err, err_size);
	else if (!elf_is_elf64(fd)) {
		snprintf(err, err_size, "'%s' is neither a bzImage nor a 64-bit ELF vmlinux", path);
		r = -ENOEXEC;
	}
	close(fd);
	return r;
}

/* The initrd goes as high as the kernel allows, page-aligned, clear of the kernel. */
static int load_initrd(struct vm *vm, struct boot_params *bp, const struct kernel_info *ki)
{
	const struct mem_region *low = guest_memory_region_of(&vm->mem, 0);
	int fd = open_input("initrd", vm->cfg->initrd_path);
	int64_t size;
	uint64_t top, gpa;
	int r;

	if (fd < 0)
		return -errno;
	size = file_size(fd);
	top = low->size < (uint64_t)ki->initrd_addr_max + 1 ? low->size
							    : (uint64_t)ki->initrd_addr_max + 1;
	if (size < 0 || (uint64_t)size > top || ((top - (uint64_t)size) & ~0xfffull) < ki->end) {
		log_error("boot",
			  "initrd '%s' (%lld MiB) does not fit in guest RAM beside the "
			  "kernel; give more --mem",
			  vm->cfg->initrd_path, (long long)(size >> 20));
		close(fd);
		return -ENOMEM;
	}
	gpa = (top - (uint64_t)size) & ~0xfffull;
	r = read_into_guest(fd, 0, (size_t)size, &vm->mem, gpa);
	close(fd);
	if (r) {
		log_error("boot", "cannot read initrd '%s': %s", vm->cfg->initrd_path,
			  strerror(-r));
		return r;
	}
	bp->hdr.ramdisk_image = (uint32_t)gpa;
	bp->hdr.ramdisk_size = (uint32_t)size;
	return 0;
}

static int write_cmdline(struct vm *vm, struct boot_params *bp, const struct kernel_info *ki)
{
	char line[X86_CMDLINE_MAX];
	const char *extra = vm->cfg->cmdline ? vm->cfg->cmdline : "";
	int n =
	    snprintf(line, sizeof(line), "%s%s%s", arch_base_cmdline(), *extra ? " " : "", extra);

	if (n < 0 || (unsigned)n + 1 > ki->cmdline_max || (unsigned)n + 1 > sizeof(line)) {
		log_error("boot", "kernel command line is %d bytes; this kernel takes at most %u",
			  n, ki->cmdline_max - 1);
		return -E2BIG;
	}
	if (guest_memory_write(&vm->mem, X86_CMDLINE, line, (size_t)n + 1))
		return -EFAULT;
	bp->hdr.cmd_line_ptr = (uint32_t)X86_CMDLINE;
	bp->ext_cmd_line_ptr = 0;
	return 0;
}

/* mov al, VALUE; mov dx, PORT; out dx, al; hlt; jmp back to hlt */
static int write_reset_code(struct vm *vm)
{
	const uint8_t reset_code[] = {
	    0xb0,
	    X86_ACPI_RESET_VALUE,
	    0xba,
	    X86_ACPI_RESET_PORT & 0xff,
	    X86_ACPI_RESET_PORT >> 8,
	    0xee,
	    0xf4,
	    0xeb,
	    0xfd,
	};

	return guest_memory_write(&vm->mem, X86_RESET_VECTOR, reset_code, sizeof(reset_code));
}

int arch_load_guest(struct vm *vm)
{
	struct boot_params *bp = guest_memory_ptr(&vm->mem, X86_ZERO_PAGE, sizeof(*bp));
	struct kernel_info ki = {0};
	uint64_t rsdp;
	int r;

	if (!bp)
		return -EFAULT;
	if (vm->cfg->dump_dtb_path) {
		log_error("boot", "--dump-dtb: x86_64 guests get ACPI tables, not a device tree");
		return -ENOTSUP;
	}
	memset(bp, 0, sizeof(*bp));
	r = load_kernel(vm, bp, &ki);
	if (r)
		return r;
	boot_timeline_mark(&vm->timeline, BOOT_MARK_KERNEL);
	if (ki.end > guest_memory_region_of(&vm->mem, 0)->size) {
		log_error("boot", "the kernel needs %llu MiB of RAM to run; give more --mem",
			  (unsigned long long)(ki.end >> 20) + 1);
		return -ENOMEM;
	}
	bp->hdr.type_of_loader = BOOT_LOADER_UNDEFINED;
	r = write_cmdline(vm, bp, &ki);
	if (!r && vm->cfg->initrd_path)
		r = load_initrd(vm, bp, &ki);
	if (r)
		return r;
	boot_timeline_mark(&vm->timeline, BOOT_MARK_INITRD);
	r = write_reset_code(vm);
	if (r)
		return r;
	bp->e820_entries = (uint8_t)x86_build_e820(vm, bp);
	rsdp = x86_build_acpi(vm);
	if (!rsdp)
		return -ENOSPC;
	bp->acpi_rsdp_addr = rsdp;
	boot_timeline_mark(&vm->timeline, BOOT_MARK_TABLES);
	return 0;
}
