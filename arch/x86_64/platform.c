/* x86_64 machine: RAM layout, in-kernel irqchip and PIT, platform devices, e820 and ACPI. */
#include <asm/bootparam.h>
#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "arch/arch.h"
#include "arch/x86_64/acpi.h"
#include "arch/x86_64/layout.h"
#include "arch/x86_64/x86.h"
#include "pci/pci.h"
#include "vmm/console.h"
#include "vmm/log.h"
#include "vmm/vm.h"

#define E820_RAM 1
#define E820_RESERVED 2

int arch_ram_ranges(uint64_t mem_size, struct ram_range *out, unsigned max)
{
	if (max < 2)
		return -EINVAL;
	if (mem_size <= X86_LOWMEM_END) {
		out[0] = (struct ram_range){0, mem_size};
		return 1;
	}
	out[0] = (struct ram_range){0, X86_LOWMEM_END};
	out[1] = (struct ram_range){X86_HIGHMEM_START, mem_size - X86_LOWMEM_END};
	return 2;
}

static int kvm_ioctl_checked(struct vm *vm, unsigned long req, void *arg, const char *name)
{
	if (ioctl(vm->vm_fd, req, arg) < 0) {
		int err = -errno;
		log_error("kvm", "%s failed: %s", name, strerror(errno));
		return err;
	}
	return 0;
}

static int read_supported_cpuid(struct vm *vm)
{
	unsigned nent = 128;

	for (;;) {
		struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + nent * sizeof(c->entries[0]));
		if (!c)
			return -ENOMEM;
		c->nent = nent;
		if (ioctl(vm->kvm_fd, KVM_GET_SUPPORTED_CPUID, c) == 0) {
			x86_cpuid_tune_for_host(c);
			vm->arch->cpuid = c;
			return 0;
		}
		free(c);
		if (errno != E2BIG || nent >= 4096)
			return -errno;
		nent *= 2;
	}
}

int arch_vm_setup(struct vm *vm)
{
	struct kvm_pit_config pit = {.flags = KVM_PIT_SPEAKER_DUMMY};
	uint64_t identity = X86_KVM_IDENTITY_MAP;
	int r;

	vm->arch = calloc(1, sizeof(*vm->arch));
	if (!vm->arch)
		return -ENOMEM;
	r = kvm_ioctl_checked(vm, KVM_SET_IDENTITY_MAP_ADDR, &identity,
			      "KVM_SET_IDENTITY_MAP_ADDR");
	if (!r && ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, (unsigned long)X86_KVM_TSS) < 0)
		r = -errno;
	if (!r)
		r = kvm_ioctl_checked(vm, KVM_CREATE_IRQCHIP, NULL, "KVM_CREATE_IRQCHIP");
	if (!r)
		r = kvm_ioctl_checked(vm, KVM_CREATE_PIT2, &pit, "KVM_CREATE_PIT2");
	if (!r)
		r = read_supported_cpuid(vm);
	return r;
}

void arch_vm_teardown(struct vm *vm)
{
	if (!vm->arch)
		return;
	free(vm->arch->cpuid);
	free(vm->arch);
	vm->arch = NULL;
}

/* KVM's defaults: ISA IRQs 0-15 on both PICs and the IOAPIC, 16-23 on the IOAPIC only. */
int arch_irq_default_routes(struct kvm_irq_routing_entry *e, unsigned max)
{
	unsigned n = 0;

	for (uint32_t gsi = 0; gsi < 24; gsi++) {
		if (n + 2 > max)
			return -ENOSPC;
		e[n++] = (struct kvm_irq_routing_entry){
		    .gsi = gsi,
		    .type = KVM_IRQ_ROUTING_IRQCHIP,
		    .u.irqchip = {.irqchip = KVM_IRQCHIP_IOAPIC, .pin = gsi},
		};
		if (gsi < 16)
			e[n++] = (struct kvm_irq_routing_entry){
			    .gsi = gsi,
			    .type = KVM_IRQ_ROUTING_IRQCHIP,
			    .u.irqchip = {.irqchip = gsi < 8 ? KVM_IRQCHIP_PIC_MASTER
							     : KVM_IRQCHIP_PIC_SLAVE,
					  .pin = gsi % 8},
			};
	}
	return (int)n;
}

int arch_platform_devices_create(struct vm *vm)
{
	const struct acpi_power_ports ports = {
	    .sleep_control = X86_ACPI_SLEEP_CONTROL_PORT,
	    .sleep_status = X86_ACPI_SLEEP_STATUS_PORT,
	    .reset = X86_ACPI_RESET_PORT,
	    .reset_value = X86_ACPI_RESET_VALUE,
	    .s5_sleep_type = X86_ACPI_S5_SLEEP_TYPE,
	};
	int r = console_attach(vm->console, &vm->pio, X86_COM1_PORT, X86_COM1_IRQ);

	if (!r)
		r = debug_exit_register(vm, &vm->pio, X86_DEBUG_EXIT_PORT);
	if (!r)
		r = pvpanic_register(vm, &vm->pio, X86_PVPANIC_PORT);
	if (!r)
		r = acpi_power_register(vm, &vm->arch->power, &ports);
	if (!r)
		r = i8042_reset_register(vm);
	if (r)
		log_error("platform", "cannot register platform devices: %s", strerror(-r));
	return r;
}

/* The boot vCPU got its entry state in arch_vcpu_setup; nothing needs them all. */
int arch_vcpus_ready(struct vm *vm)
{
	(void)vm;
	return 0;
}

bool arch_vcpu_handle_exit(struct vm *vm, struct vcpu *vcpu)
{
	(void)vm;
	(void)vcpu;
	return false;
}

void arch_pci_windows(struct pci_windows *w)
{
	*w = (struct pci_windows){
	    .ecam_base = X86_PCI_ECAM_BASE,
	    .mmio_base = X86_PCI_MMIO32_BASE,
	    .mmio_size = X86_PCI_MMIO32_SIZE,
	    .io_base = X86_PCI_IO_BASE,
	    .io_size = X86_PCI_IO_SIZE,
	};
}

const char *arch_base_cmdline(void)
{
	/*
	 * One UART is all there is; probing the other three legacy ports costs
	 * exits. And no chipset here needs Linux's early type-1 PCI work (quirks
	 * for real boards, the AMD GART): on an AMD family 0Fh/10h/15h CPU
	 * model (TCG's, for one) that work reads the vendor id of every slot on
	 * all 256 buses through 0xCF8/0xCFC, twice, 16,384 exits to the VMM,
	 * each ~100 us nested. The PCI bus itself is found later, as always.
	 */
	return "console=ttyS0 8250.nr_uarts=1 pci=noearly";
}

static void e820_add(struct boot_params *bp, unsigned *n, uint64_t addr, uint64_t size,
		     uint32_t type)
{
	if (*n < E820_MAX_ENTRIES_ZEROPAGE && size)
		bp->e820_table[(*n)++] = (struct boot_e820_entry){addr, size, type};
}

unsigned x86_build_e820(const struct vm *vm, void *boot_params)
{
	struct boot_params *bp = boot_params;
	const struct guest_memory *mem = &vm->mem;
	unsigned n = 0;

	e820_add(bp, &n, 0, X86_EBDA_START, E820_RAM);
	e820_add(bp, &n, X86_EBDA_START, X86_HIMEM - X86_EBDA_START, E820_RESERVED);
	e820_add(bp, &n, X86_HIMEM, mem->regions[0].size - X86_HIMEM, E820_RAM);
	if (vm->pci_enabled)
		e820_add(bp, &n, X86_PCI_ECAM_BASE, X86_PCI_ECAM_SIZE, E820_RESERVED);
	for (unsigned i = 1; i < mem->nregions; i++)
		e820_add(bp, &n, mem->regions[i].gpa, mem->regions[i].size, E820_RAM);
	return n;
}

uint64_t x86_build_acpi(struct vm *vm)
{
	struct acpi_platform p = {
	    .ncpus = vm->ncpus,
	    .lapic_addr = (uint32_t)X86_LAPIC_BASE,
	    .ioapic_addr = (uint32_t)X86_IOAPIC_BASE,
	    .sleep_control_port = X86_ACPI_SLEEP_CONTROL_PORT,
	    .sleep_status_port = X86_ACPI_SLEEP_STATUS_PORT,
	    .reset_port = X86_ACPI_RESET_PORT,
	    .reset_value = X86_ACPI_RESET_VALUE,
	    .pvpanic_port = X86_PVPANIC_PORT,
	    .com1_port = X86_COM1_PORT,
	    .com1_irq = X86_COM1_IRQ,
	};
	void *buf = guest_memory_ptr(&vm->mem, X86_ACPI_TABLES, X86_ACPI_TABLES_SIZE);
	uint64_t rsdp = 0;
	long n;

	if (vm->pci_enabled)
		p.pci = (struct acpi_pci_config){
		    .ecam_base = X86_PCI_ECAM_BASE,
		    .bus_start = 0,
		    .bus_end = 0,
		    .mmio32_base = X86_PCI_MMIO32_BASE,
		    .mmio32_size = X86_PCI_MMIO32_SIZE,
		    .io_base = X86_PCI_IO_BASE,
		    .io_size = X86_PCI_IO_SIZE,
		};
	if (!buf)
		return 0;
	n = acpi_build(buf, X86_ACPI_TABLES_SIZE, X86_ACPI_TABLES, &p, &rsdp);
	if (n < 0) {
		log_error("acpi", "cannot build the ACPI tables: %s", strerror((int)-n));
		return 0;
	}
	return rsdp;
}
