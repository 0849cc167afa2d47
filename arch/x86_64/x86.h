/* x86_64-private state and helpers shared by the files of arch/x86_64/. */
#ifndef ARCH_X86_64_X86_H
#define ARCH_X86_64_X86_H

#include <stdint.h>

#include "devices/platform.h"

struct vm;
struct kvm_cpuid2;

struct arch_vm {
	uint64_t entry_rip;	  /* where the boot vCPU starts, in 64-bit mode */
	struct acpi_power power;  /* ACPI sleep/reset ports */
	struct kvm_cpuid2 *cpuid; /* KVM_GET_SUPPORTED_CPUID, read once */
};

/*
 * Adjusts the CPUID KVM supports to what serves a guest best on this host
 * (see cpu.c: string-copy hints off when the host CPU is emulated by TCG).
 */
void x86_cpuid_tune_for_host(struct kvm_cpuid2 *cpuid);

/* Writes the e820 map for the VM's RAM into boot_params; returns the entry count. */
unsigned x86_build_e820(const struct vm *vm, void *boot_params);

/* Builds the ACPI tables at X86_ACPI_TABLES; returns the RSDP address or 0 on failure. */
uint64_t x86_build_acpi(struct vm *vm);

#endif
