/* arm64 direct kernel boot: Image placement, initrd, command line and the device tree. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "arch/aarch64/aarch64.h"
#include "arch/aarch64/fdt.h"
#include "arch/aarch64/image.h"
#include "arch/aarch64/layout.h"
#include "arch/arch.h"
#include "vmm/file_io.h"
#include "vmm/kernel_cache.h"
#include "vmm/log.h"
#include "vmm/vm.h"

#define SZ_2M (2ull << 20)
#define PAGE_MASK 0xfffull
/* arm64's COMMAND_LINE_SIZE, NUL included. */
#define ARM64_CMDLINE_MAX 2048

int arch_probe_kernel(const char *path, char *err, unsigned err_size)
{
	struct arm64_image img;
	int fd = arm64_image_open(path, &img, err, err_size);

	if (fd < 0)
		return fd;
	close(fd);
	return 0;
}

/*
 * An arm64 Image needs no preparation, and an Image.gz unpacks in a fraction
 * of the time an x86 payload's XZ stream takes: nothing to overlap.
 */
struct kernel_prefetch *arch_kernel_prefetch_start(const char *path)
{
	(void)path;
	return NULL;
}

void arch_kernel_prefetch_cancel(struct kernel_prefetch *p)
{
	(void)p;
}

int arch_extract_kernel(const char *kernel_path, const char *out_path)
{
	struct arm64_image img;
	char err[200];
	int fd = arm64_image_open(kernel_path, &img, err, sizeof(err));
	int r;

	if (fd < 0) {
		log_error("boot", "kernel '%s': %s", kernel_path, err);
		return fd;
	}
	r = kernel_cache_copy_to_path(fd, out_path);
	close(fd);
	if (r)
		log_error("boot", "cannot write '%s': %s", out_path, strerror(-r));
	return r;
}

/* The Image at the RAM base (2 MiB aligned) plus text_offset; returns its end or 0. */
static uint64_t load_kernel(struct vm *vm, const struct mem_region *ram)
{
	struct arm64_image img;
	char err[200];
	int fd = arm64_image_open(vm->cfg->kernel_path, &img, err, sizeof(err));
	uint64_t entry, end;
	int r;

	if (fd < 0) {
		log_error("boot", "kernel '%s': %s", vm->cfg->kernel_path, err);
		return 0;
	}
	entry = ram->gpa + img.text_offset;
	end = entry + img.image_size;
	r = end > ram->gpa + ram->size ? -ENOMEM
				       : read_into_guest(fd, 0, img.file_size, &vm->mem, entry);
	close(fd);
	if (r) {
		log_error("boot", "the kernel needs %llu MiB of RAM to run; give more --mem",
			  (unsigned long long)((end - ram->gpa) >> 20) + 1);
		return 0;
	}
	vm->arch->kernel_entry = entry;
	vm->arch->image_page_shift = img.page_shift;
	return end;
}

/* The initrd goes page-aligned right below the DTB's 2 MiB block, clear of the kernel. */
static int load_initrd(struct vm *vm, uint64_t kernel_end)
{
	int fd = open(vm->cfg->initrd_path, O_RDONLY | O_CLOEXEC);
	int64_t size = fd < 0 ? -errno : file_size(fd);
	uint64_t gpa;
	int r;

	if (fd < 0) {
		log_error("boot", "cannot open initrd '%s': %s", vm->cfg->initrd_path,
			  strerror((int)-size));
		return (int)size;
	}
	if (size < 0 || (uint64_t)size > vm->arch->fdt_gpa - kernel_end ||
	    ((vm->arch->fdt_gpa - (uint64_t)size) & ~PAGE_MASK) < kernel_end) {
		log_error("boot",
			  "initrd '%s' (%lld MiB) does not fit in guest RAM beside the "
			  "kernel; give more --mem",
			  vm->cfg->initrd_path, (long long)(size >> 20));
		close(fd);
		return -ENOMEM;
	}
	gpa = (vm->arch->fdt_gpa - (uint64_t)size) & ~PAGE_MASK;
	r = read_into_guest(fd, 0, (size_t)size, &vm->mem, gpa);
	close(fd);
	if (r) {
		log_error("boot", "cannot read initrd '%s': %s", vm->cfg->initrd_path,
			  strerror(-r));
		return r;
	}
	vm->arch->initrd_start = gpa;
	vm->arch->initrd_end = gpa + (uint64_t)size;
	return 0;
}

int arch_load_guest(struct vm *vm)
{
	const struct mem_region *ram = guest_memory_region_of(&vm->mem, ARM64_RAM_BASE);
	uint64_t kernel_end, top;

	if (!ram)
		return -EFAULT;
	kernel_end = load_kernel(vm, ram);
	if (!kernel_end)
		return -ENOEXEC;
	top = ram->gpa + ram->size < ARM64_BOOT_TOP_MAX ? ram->gpa + ram->size : ARM64_BOOT_TOP_MAX;
	vm->arch->fdt_gpa = (top - ARM64_FDT_MAX_SIZE) & ~(SZ_2M - 1);
	if (vm->arch->fdt_gpa < kernel_end) {
		log_error("boot", "no room for the device tree beside the kernel; give more --mem");
		return -ENOMEM;
	}
	if (vm->cfg->initrd_path)
		return load_initrd(vm, kernel_end);
	return 0;
}

static int build_bootargs(const struct vm *vm, char *line, size_t size)
{
	const char *extra = vm->cfg->cmdline ? vm->cfg->cmdline : "";
	int n = snprintf(line, size, "%s%s%s", arch_base_cmdline(), *extra ? " " : "", extra);

	if (n < 0 || (size_t)n + 1 > size) {
		log_error("boot", "kernel command line is %d bytes; arm64 kernels take at most %d",
			  n, ARM64_CMDLINE_MAX - 1);
		return -E2BIG;
	}
	return 0;
}

static int dump_dtb(const char *path, const void *dtb, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	int r = fd < 0 ? -errno : kernel_cache_write_all(fd, dtb, len);

	if (fd >= 0)
		close(fd);
	if (r)
		log_error("boot", "--dump-dtb: cannot write '%s': %s", path, strerror(-r));
	else
		log_info("boot", "device tree written to %s (%zu bytes)", path, len);
	return r;
}

static int fill_desc(struct vm *vm, const uint64_t *mpidrs, struct arm64_fdt_desc *d, char *line)
{
	const struct mem_region *ram = &vm->mem.regions[0];
	int r = build_bootargs(vm, line, ARM64_CMDLINE_MAX);

	if (r)
		return r;
	*d = (struct arm64_fdt_desc){
	    .ncpus = vm->ncpus,
	    .mpidrs = mpidrs,
	    .ram_base = ram->gpa,
	    .ram_size = ram->size,
	    .pmu = vm->arch->pmu,
	    .pci = vm->pci_enabled,
	    .bootargs = line,
	    .initrd_start = vm->arch->initrd_start,
	    .initrd_end = vm->arch->initrd_end,
	};
	/* Seeds for the guest's RNG and KASLR; the guest is not the VMM's to trust. */
	if (getrandom(d->rng_seed, sizeof(d->rng_seed), 0) != sizeof(d->rng_seed) ||
	    getrandom(&d->kaslr_seed, sizeof(d->kaslr_seed), 0) != sizeof(d->kaslr_seed))
		return -errno;
	return arm64_gic_layout(vm->ncpus, &d->gic);
}

int arm64_write_fdt(struct vm *vm, const uint64_t *mpidrs)
{
	char line[ARM64_CMDLINE_MAX];
	struct arm64_fdt_desc d;
	void *buf = malloc(ARM64_FDT_MAX_SIZE);
	int r = buf ? fill_desc(vm, mpidrs, &d, line) : -ENOMEM;
	int len = r ? r : arm64_fdt_build(buf, ARM64_FDT_MAX_SIZE, &d);

	if (len < 0) {
		log_error("boot", "cannot build the device tree: %s", strerror(-len));
		free(buf);
		return len;
	}
	r = guest_memory_write(&vm->mem, vm->arch->fdt_gpa, buf, (size_t)len);
	if (!r && vm->cfg->dump_dtb_path)
		r = dump_dtb(vm->cfg->dump_dtb_path, buf, (size_t)len);
	free(buf);
	return r;
}
