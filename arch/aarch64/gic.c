/* The in-kernel GICv3 and its ITS: layout, creation before the vCPUs, init after them. */
#include <errno.h>
#include <linux/kvm.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "arch/aarch64/aarch64.h"
#include "arch/aarch64/layout.h"
#include "vmm/log.h"
#include "vmm/vm.h"

int arm64_gic_layout(unsigned ncpus, struct arm64_gic_layout *l)
{
	uint64_t redist = (uint64_t)ncpus * ARM64_GIC_REDIST_STRIDE;

	if (ncpus == 0 || ARM64_GIC_REDIST_BASE + redist > ARM64_GIC_REDIST_LIMIT)
		return -E2BIG;
	*l = (struct arm64_gic_layout){
	    .dist_base = ARM64_GIC_DIST_BASE,
	    .dist_size = ARM64_GIC_DIST_SIZE,
	    .redist_base = ARM64_GIC_REDIST_BASE,
	    .redist_size = redist,
	    .its_base = ARM64_GIC_ITS_BASE,
	    .its_size = ARM64_GIC_ITS_SIZE,
	};
	return 0;
}

static int device_attr(int fd, uint32_t group, uint64_t attr, const void *value, const char *what)
{
	struct kvm_device_attr a = {
	    .group = group, .attr = attr, .addr = (uint64_t)(uintptr_t)value};

	if (ioctl(fd, KVM_SET_DEVICE_ATTR, &a) < 0) {
		int err = -errno;
		log_error("gic", "setting the %s failed: %s", what, strerror(errno));
		return err;
	}
	return 0;
}

static int create_device(struct vm *vm, uint32_t type, const char *name)
{
	struct kvm_create_device d = {.type = type};

	if (ioctl(vm->vm_fd, KVM_CREATE_DEVICE, &d) < 0) {
		int err = -errno;
		log_error("gic", "this KVM cannot create a %s (KVM_CREATE_DEVICE: %s)", name,
			  strerror(errno));
		return err;
	}
	return (int)d.fd;
}

int arm64_gic_create(struct vm *vm)
{
	struct arm64_gic_layout l;
	uint32_t nr_irqs = ARM64_GIC_NR_IRQS;
	int r = arm64_gic_layout(vm->ncpus, &l);

	if (r) {
		log_error("gic", "%u vCPUs need more redistributor space than the map has",
			  vm->ncpus);
		return r;
	}
	vm->arch->gic_fd = create_device(vm, KVM_DEV_TYPE_ARM_VGIC_V3, "GICv3");
	if (vm->arch->gic_fd < 0)
		return vm->arch->gic_fd;
	r = device_attr(vm->arch->gic_fd, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V3_ADDR_TYPE_DIST,
			&l.dist_base, "GIC distributor address");
	if (!r)
		r = device_attr(vm->arch->gic_fd, KVM_DEV_ARM_VGIC_GRP_ADDR,
				KVM_VGIC_V3_ADDR_TYPE_REDIST, &l.redist_base,
				"GIC redistributor address");
	if (!r)
		r = device_attr(vm->arch->gic_fd, KVM_DEV_ARM_VGIC_GRP_NR_IRQS, 0, &nr_irqs,
				"GIC interrupt count");
	if (r)
		return r;
	vm->arch->its_fd = create_device(vm, KVM_DEV_TYPE_ARM_VGIC_ITS, "GICv3 ITS");
	if (vm->arch->its_fd < 0)
		return vm->arch->its_fd;
	return device_attr(vm->arch->its_fd, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_ITS_ADDR_TYPE,
			   &l.its_base, "ITS address");
}

int arm64_gic_init(struct vm *vm)
{
	int r = device_attr(vm->arch->gic_fd, KVM_DEV_ARM_VGIC_GRP_CTRL, KVM_DEV_ARM_VGIC_CTRL_INIT,
			    NULL, "GIC init");

	if (!r)
		r = device_attr(vm->arch->its_fd, KVM_DEV_ARM_VGIC_GRP_CTRL,
				KVM_DEV_ARM_VGIC_CTRL_INIT, NULL, "ITS init");
	return r;
}

void arm64_gic_destroy(struct vm *vm)
{
	if (vm->arch->its_fd >= 0)
		close(vm->arch->its_fd);
	if (vm->arch->gic_fd >= 0)
		close(vm->arch->gic_fd);
	vm->arch->its_fd = vm->arch->gic_fd = -1;
}

uint32_t arm64_spi_irq_line(unsigned spi)
{
	return (KVM_ARM_IRQ_TYPE_SPI << KVM_ARM_IRQ_TYPE_SHIFT) | (ARM64_GIC_SPI_BASE + spi);
}
