/* aarch64-private state and helpers shared by the files of arch/aarch64/. */
#ifndef ARCH_AARCH64_AARCH64_H
#define ARCH_AARCH64_AARCH64_H

#include <linux/kvm.h>
#include <stdbool.h>
#include <stdint.h>

struct vm;

struct arch_vm {
	int gic_fd;		   /* KVM_DEV_TYPE_ARM_VGIC_V3 */
	int its_fd;		   /* KVM_DEV_TYPE_ARM_VGIC_ITS */
	struct kvm_vcpu_init init; /* preferred target and features of the boot vCPU */
	bool pmu;		   /* KVM offers PMUv3: every vCPU has one */
	unsigned image_page_shift; /* from the Image header; 0 unspecified */
	uint64_t kernel_entry;	   /* gpa of the Image's first byte */
	uint64_t initrd_start;	   /* 0: no initrd */
	uint64_t initrd_end;	   /* exclusive */
	uint64_t fdt_gpa;	   /* where arch_vcpus_ready writes the DTB */
};

/* Where the GIC's frames sit for ncpus vCPUs; computed, never stored twice. */
struct arm64_gic_layout {
	uint64_t dist_base, dist_size;
	uint64_t redist_base, redist_size; /* one region, ARM64_GIC_REDIST_STRIDE per vCPU */
	uint64_t its_base, its_size;
};

/* Fills l for ncpus vCPUs; -E2BIG when their redistributors do not fit the map. */
int arm64_gic_layout(unsigned ncpus, struct arm64_gic_layout *l);

/* GICv3 and ITS devices with their addresses and IRQ count (before any vCPU). */
int arm64_gic_create(struct vm *vm);

/* CTRL_INIT of the GIC, then of the ITS: only once every vCPU exists. */
int arm64_gic_init(struct vm *vm);

void arm64_gic_destroy(struct vm *vm);

/* The device-tree reg of a CPU: the MPIDR's affinity fields (Aff3..Aff0), nothing else. */
uint64_t arm64_mpidr_to_fdt_reg(uint64_t mpidr);

/*
 * Builds the device tree for the VM's vCPUs (their MPIDRs read from KVM),
 * writes it at fdt_gpa and, with --dump-dtb, to that file. Returns 0 or -errno.
 */
int arm64_write_fdt(struct vm *vm, const uint64_t *mpidrs);

/* KVM_ARM_IRQ_LINE's irq for SPI number spi (0-based, INTID 32 + spi). */
uint32_t arm64_spi_irq_line(unsigned spi);

#endif
