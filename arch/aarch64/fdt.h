/*
 * The device tree an arm64 guest boots with, built with libfdt from a plain
 * description, so tests can build one without KVM and parse it back.
 */
#ifndef ARCH_AARCH64_FDT_H
#define ARCH_AARCH64_FDT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arch/aarch64/aarch64.h"

#define ARM64_FDT_RNG_SEED_SIZE 64
#define ARM64_FDT_PHANDLE_GIC 1
#define ARM64_FDT_PHANDLE_ITS 2

struct arm64_fdt_desc {
	unsigned ncpus;
	const uint64_t *mpidrs; /* ncpus values of MPIDR_EL1, as KVM reports them */
	uint64_t ram_base, ram_size;
	struct arm64_gic_layout gic;
	bool pmu;
	bool pci;
	const char *bootargs;
	uint64_t initrd_start, initrd_end; /* initrd_end 0: none */
	uint8_t rng_seed[ARM64_FDT_RNG_SEED_SIZE];
	uint64_t kaslr_seed;
};

/*
 * Writes the DTB into buf (size bytes, at most ARM64_FDT_MAX_SIZE needed):
 * memory, cpus (reg = the MPIDR's affinity, enable-method psci), psci 0.2
 * over hvc, the arch timer, GICv3 with its ITS, the ECAM host bridge with
 * msi-map to the ITS (when pci), the ns16550a UART as stdout-path,
 * pvpanic-mmio, the debug-exit register and chosen. Returns the DTB's size
 * or -ENOSPC when buf is too small.
 */
int arm64_fdt_build(void *buf, size_t size, const struct arm64_fdt_desc *d);

#endif
