/*
 * The aarch64 guest-physical memory map and interrupt numbers, one constant
 * per line. Devices sit where QEMU's "virt" board has its own, so guest
 * tools and habits carry over; everything is described in the device tree.
 */
#ifndef ARCH_AARCH64_LAYOUT_H
#define ARCH_AARCH64_LAYOUT_H

/* GICv3 distributor (64 KiB). */
#define ARM64_GIC_DIST_BASE 0x08000000ull
#define ARM64_GIC_DIST_SIZE 0x10000ull
/* The ITS (control frame + translation frame, 64 KiB each). */
#define ARM64_GIC_ITS_BASE 0x08080000ull
#define ARM64_GIC_ITS_SIZE 0x20000ull
/* Redistributors: one RD_base + SGI_base pair (2 x 64 KiB) per vCPU, up to the UART. */
#define ARM64_GIC_REDIST_BASE 0x080a0000ull
#define ARM64_GIC_REDIST_STRIDE 0x20000ull
#define ARM64_GIC_REDIST_LIMIT 0x09000000ull
/* Interrupt IDs: 32 private (SGI + PPI), then the SPIs. A multiple of 32. */
#define ARM64_GIC_NR_IRQS 128
#define ARM64_GIC_SPI_BASE 32

/* Platform devices, each in a page of its own. */
#define ARM64_UART_BASE 0x09000000ull
#define ARM64_UART_SIZE 0x1000ull
#define ARM64_UART_SPI 1 /* INTID 33 */
#define ARM64_UART_CLOCK 1843200
#define ARM64_PVPANIC_BASE 0x09010000ull
#define ARM64_PVPANIC_SIZE 0x2ull
/* One byte written here = the VMM's exit status (as port 0xf4 on x86). */
#define ARM64_DEBUG_EXIT_BASE 0x09020000ull
#define ARM64_DEBUG_EXIT_SIZE 0x1ull

/* PCI: 32-bit BAR window, then ECAM for bus 0. */
#define ARM64_PCI_MMIO_BASE 0x10000000ull
#define ARM64_PCI_MMIO_SIZE 0x2eff0000ull
#define ARM64_PCI_ECAM_BASE 0x3f000000ull
#define ARM64_PCI_ECAM_SIZE 0x100000ull /* bus 0 only */

/* RAM: one region from 1 GiB up (2 MiB aligned, as the Image needs its base). */
#define ARM64_RAM_BASE 0x40000000ull
/* KVM's default IPA space is 40 bits. */
#define ARM64_RAM_MAX ((1ull << 40) - ARM64_RAM_BASE)

/* The device tree: at most 2 MiB, in a 2 MiB block of its own near the top of RAM. */
#define ARM64_FDT_MAX_SIZE 0x200000ull
/* The DTB and initrd stay below this, inside every kernel's linear map. */
#define ARM64_BOOT_TOP_MAX (ARM64_RAM_BASE + (4ull << 30))

/* Private interrupts (PPI numbers; INTID = 16 + PPI). */
#define ARM64_PPI_TIMER_SECURE 13
#define ARM64_PPI_TIMER_PHYS 14
#define ARM64_PPI_TIMER_VIRT 11
#define ARM64_PPI_TIMER_HYP 10
#define ARM64_PPI_PMU 7
#define ARM64_PPI_INTID(ppi) (16 + (ppi))

#endif
