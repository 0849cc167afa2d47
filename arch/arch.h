/*
 * Hooks every architecture implements once (arch/<arch>/), called from the
 * common code in vmm/. Common code has no #ifdef for the architecture.
 */
#ifndef ARCH_ARCH_H
#define ARCH_ARCH_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm/memory.h"

struct vm;
struct vcpu;
struct vm_config;
struct kvm_irq_routing_entry;
struct kernel_prefetch;
struct snap_buf;
struct snap_reader;

/* Guest-physical RAM ranges for mem_size bytes of RAM; returns the count or -errno. */
int arch_ram_ranges(uint64_t mem_size, struct ram_range *out, unsigned max);

/* VM-wide KVM setup that must precede vCPU creation (irqchip, timers). */
int arch_vm_setup(struct vm *vm);
void arch_vm_teardown(struct vm *vm);

/* The interrupt routes KVM has by default, which every routing update must keep. */
int arch_irq_default_routes(struct kvm_irq_routing_entry *entries, unsigned max);

/* Platform devices every guest gets (console UART, power, panic, exit port). */
int arch_platform_devices_create(struct vm *vm);

/*
 * Checks, without a VM, that the file is a kernel this architecture can
 * boot; err gets one line saying why not. Returns 0 or -errno.
 */
int arch_probe_kernel(const char *path, char *err, unsigned err_size);

/*
 * Starts preparing the kernel at path on a thread of its own (on x86_64:
 * finding or making the decompressed vmlinux of a bzImage, seconds of work
 * the first time), so it overlaps creating the VM and its devices.
 * Returns NULL when there is nothing to prepare or no thread could start;
 * arch_load_guest then does the work itself. vm->kernel_prefetch hands
 * the result to arch_load_guest, which takes it over; whoever still holds
 * it when the boot is abandoned calls arch_kernel_prefetch_cancel.
 */
struct kernel_prefetch *arch_kernel_prefetch_start(const char *path);
void arch_kernel_prefetch_cancel(struct kernel_prefetch *p);

/*
 * Loads kernel, initrd and command line into guest memory and builds the
 * firmware tables that need no vCPU (boot_params and ACPI; arm64 writes its
 * device tree in arch_vcpus_ready). Errors are logged with the file and the cause.
 */
int arch_load_guest(struct vm *vm);

/*
 * Per-vCPU state right after KVM_CREATE_VCPU (x86: registers, CPUID, MSRs
 * and the boot vCPU's entry state; arm64: KVM_ARM_VCPU_INIT).
 */
int arch_vcpu_setup(struct vm *vm, struct vcpu *vcpu);

/*
 * Runs once after every vCPU exists and had arch_vcpu_setup, after
 * arch_load_guest: what needs all of them (arm64: vGIC and PMU init, the
 * device tree naming each vCPU by its MPIDR, the boot registers).
 */
int arch_vcpus_ready(struct vm *vm);

/* Logs the registers that say where a failed vCPU was. */
void arch_vcpu_log_state(struct vcpu *vcpu);

/* Exit reasons only this architecture knows; returns false when not handled. */
bool arch_vcpu_handle_exit(struct vm *vm, struct vcpu *vcpu);

/* Where the PCI host bridge's config space and BAR windows sit in this machine. */
struct pci_windows;
void arch_pci_windows(struct pci_windows *w);

/* Guest command line the platform needs before the user's (e.g. "console=ttyS0"). */
const char *arch_base_cmdline(void);

/* Writes the uncompressed kernel inside a compressed image to out_path (--extract-vmlinux). */
int arch_extract_kernel(const char *kernel_path, const char *out_path);

/*
 * Snapshot (vmm/snapfmt.h). vcpu_save writes everything KVM holds for one
 * vCPU, vm_save the VM-wide state (interrupt controllers, timers, guest
 * clock, the platform devices arch_platform_devices_create made); both run
 * with every vCPU parked and return 0 or -errno (logged, naming the vCPU
 * and the piece). The loads take what the saves wrote, on a VM built the
 * same way (arch_vcpu_setup already ran on the vCPU), every vCPU before
 * the VM-wide state, and fail through the reader, naming the field; the
 * guest clock resumes where it was saved, so guest time neither jumps over
 * the time between snapshot and restore nor runs backwards.
 */
int arch_vcpu_save(struct vcpu *vcpu, struct snap_buf *out);
int arch_vcpu_load(struct vcpu *vcpu, struct snap_reader *in);
int arch_vm_save(struct vm *vm, struct snap_buf *out);
int arch_vm_load(struct vm *vm, struct snap_reader *in);

#endif
