/* aarch64 machine: RAM layout, vGIC and vCPU template, platform devices on MMIO, PCI windows. */
#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "arch/aarch64/aarch64.h"
#include "arch/aarch64/layout.h"
#include "arch/arch.h"
#include "devices/platform.h"
#include "pci/pci.h"
#include "vmm/console.h"
#include "vmm/log.h"
#include "vmm/vm.h"

int arch_ram_ranges(uint64_t mem_size, struct ram_range *out, unsigned max)
{
	if (max < 1)
		return -EINVAL;
	if (mem_size > ARM64_RAM_MAX) {
		log_error("memory", "at most %llu GiB of RAM fit in the guest's address space",
			  (unsigned long long)(ARM64_RAM_MAX >> 30));
		return -E2BIG;
	}
	out[0] = (struct ram_range){ARM64_RAM_BASE, mem_size};
	return 1;
}

static bool has_cap(struct vm *vm, long cap)
{
	return ioctl(vm->vm_fd, KVM_CHECK_EXTENSION, cap) > 0;
}

/* Each missing capability is a one-line error naming it. */
static int check_caps(struct vm *vm)
{
	static const struct {
		long cap;
		const char *name;
	} needed[] = {
	    {KVM_CAP_ARM_PSCI_0_2, "KVM_CAP_ARM_PSCI_0_2"},
	    {KVM_CAP_IRQFD, "KVM_CAP_IRQFD"},
	    {KVM_CAP_IRQ_ROUTING, "KVM_CAP_IRQ_ROUTING"},
	    {KVM_CAP_ONE_REG, "KVM_CAP_ONE_REG"},
	};

	for (unsigned i = 0; i < sizeof(needed) / sizeof(needed[0]); i++) {
		if (!has_cap(vm, needed[i].cap)) {
			log_error("kvm", "this KVM lacks %s, which arm64 guests need here",
				  needed[i].name);
			return -ENOTSUP;
		}
	}
	return 0;
}

static int vcpu_template(struct vm *vm)
{
	struct kvm_vcpu_init *init = &vm->arch->init;

	if (ioctl(vm->vm_fd, KVM_ARM_PREFERRED_TARGET, init) < 0) {
		int err = -errno;
		log_error("kvm", "KVM_ARM_PREFERRED_TARGET failed: %s", strerror(errno));
		return err;
	}
	init->features[0] |= 1u << KVM_ARM_VCPU_PSCI_0_2;
	vm->arch->pmu = has_cap(vm, KVM_CAP_ARM_PMU_V3);
	if (vm->arch->pmu)
		init->features[0] |= 1u << KVM_ARM_VCPU_PMU_V3;
	return 0;
}

int arch_vm_setup(struct vm *vm)
{
	int r;

	vm->arch = calloc(1, sizeof(*vm->arch));
	if (!vm->arch)
		return -ENOMEM;
	vm->arch->gic_fd = vm->arch->its_fd = -1;
	/* The ITS translates (device id, event id): every MSI route names its device. */
	vm->msi_needs_devid = true;
	r = check_caps(vm);
	if (!r)
		r = vcpu_template(vm);
	if (!r)
		r = arm64_gic_create(vm);
	/* KVM reports this one only once an ITS exists. */
	if (!r && !has_cap(vm, KVM_CAP_MSI_DEVID)) {
		log_error("kvm", "this KVM lacks KVM_CAP_MSI_DEVID, which the ITS needs");
		r = -ENOTSUP;
	}
	return r;
}

void arch_vm_teardown(struct vm *vm)
{
	if (!vm->arch)
		return;
	arm64_gic_destroy(vm);
	free(vm->arch);
	vm->arch = NULL;
}

/* KVM's default: GSI n is SPI n (INTID 32 + n), for irqfds on wired lines. */
int arch_irq_default_routes(struct kvm_irq_routing_entry *e, unsigned max)
{
	unsigned n = ARM64_GIC_NR_IRQS - ARM64_GIC_SPI_BASE;

	if (n > max)
		return -ENOSPC;
	for (uint32_t gsi = 0; gsi < n; gsi++)
		e[gsi] = (struct kvm_irq_routing_entry){
		    .gsi = gsi,
		    .type = KVM_IRQ_ROUTING_IRQCHIP,
		    .u.irqchip = {.irqchip = 0, .pin = gsi},
		};
	return (int)n;
}

int arch_platform_devices_create(struct vm *vm)
{
	int r = console_attach(vm->console, &vm->mmio, ARM64_UART_BASE,
			       arm64_spi_irq_line(ARM64_UART_SPI));

	if (!r)
		r = debug_exit_register(vm, &vm->mmio, ARM64_DEBUG_EXIT_BASE);
	if (!r)
		r = pvpanic_register(vm, &vm->mmio, ARM64_PVPANIC_BASE);
	if (r)
		log_error("platform", "cannot register platform devices: %s", strerror(-r));
	return r;
}

/* PSCI SYSTEM_OFF/RESET arrive as KVM_EXIT_SYSTEM_EVENT, which vcpu.c handles. */
bool arch_vcpu_handle_exit(struct vm *vm, struct vcpu *vcpu)
{
	(void)vm;
	(void)vcpu;
	return false;
}

void arch_pci_windows(struct pci_windows *w)
{
	*w = (struct pci_windows){
	    .ecam_base = ARM64_PCI_ECAM_BASE,
	    .mmio_base = ARM64_PCI_MMIO_BASE,
	    .mmio_size = ARM64_PCI_MMIO_SIZE,
	    .io_base = 0,
	    .io_size = 0,
	};
}

const char *arch_base_cmdline(void)
{
	/* The one UART is found through stdout-path; probing three more costs exits. */
	return "console=ttyS0 8250.nr_uarts=1";
}
