/* ACPI tables (RSDP, XSDT, FADT, DSDT, MADT, MCFG) for a hardware-reduced x86_64 guest. */
#ifndef ARCH_X86_64_ACPI_H
#define ARCH_X86_64_ACPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The PCI host bridge. All zero means no PCI is described. ecam_base is the
 * MCFG base address, i.e. where bus 0's configuration space would be; the
 * DSDT reserves [ecam_base + bus_start MiB, ecam_base + (bus_end + 1) MiB)
 * through a PNP0C02 device, which Linux requires before it uses ECAM.
 */
struct acpi_pci_config {
	uint64_t ecam_base; /* 1 MiB aligned; 0 = no MCFG, no host bridge */
	uint8_t bus_start, bus_end;
	uint64_t mmio32_base, mmio32_size; /* root bridge window, below 4 GiB */
	uint16_t io_base, io_size;	   /* I/O window for BARs, size may be 0 */
};

/*
 * The platform the tables describe. The sleep and reset ports are I/O ports
 * the VMM emulates (see the ACPI_SLEEP_* constants below).
 */
struct acpi_platform {
	unsigned ncpus;	      /* 1..ACPI_MAX_CPUS; APIC ids and ACPI UIDs 0..ncpus-1 */
	uint32_t lapic_addr;  /* 0xfee00000 */
	uint32_t ioapic_addr; /* 0xfec00000; IOAPIC id 0, GSI base 0 (see acpi.c) */
	/*
	 * Must avoid the ports ACPICA refuses to touch (0x00-0x0f, 0x20-0x21,
	 * 0x40-0x4b, 0x70-0x76, 0x80-0x97, 0xa0-0xa1, 0xc0-0xdf, 0x4d0-0x4d1,
	 * 0xcf8-0xcff): acpi_build returns -EINVAL for them.
	 */
	uint16_t sleep_control_port, sleep_status_port;
	uint16_t reset_port; /* a 1-byte write of reset_value means reboot */
	uint8_t reset_value;
	uint16_t pvpanic_port; /* 0 = none; else a QEMU0001 device with that 1-byte port */
	uint16_t com1_port;    /* 0 = omit; else a PNP0501 device, 8 ports */
	uint8_t com1_irq;      /* ISA IRQ 0..15 */
	bool cmos_rtc;	       /* false: FADT says "no CMOS RTC", Linux skips rtc_cmos */
	struct acpi_pci_config pci;
};

/* 8-bit APIC ids, and 0xff means "all processors" in the LAPIC NMI entry. */
#define ACPI_MAX_CPUS 255

/*
 * The hardware-reduced sleep registers. To power off, Linux writes
 * ACPI_SLEEP_STS_WAK to the status port (clearing it), then
 * (ACPI_S5_SLP_TYP << 2) | ACPI_SLEEP_CTL_SLP_EN to the control port, then
 * polls the status port until WAK_STS is set (the VMM stops it first).
 */
#define ACPI_SLEEP_CTL_SLP_EN 0x20
#define ACPI_SLEEP_CTL_SLP_TYP_SHIFT 2
#define ACPI_SLEEP_CTL_SLP_TYP_MASK 0x1c
#define ACPI_SLEEP_STS_WAK 0x80
#define ACPI_S5_SLP_TYP 5 /* the value the DSDT's \_S5 package carries */

/* True when a byte written to the sleep control port requests S5 (poweroff). */
bool acpi_sleep_control_is_poweroff(uint8_t value);

/*
 * Builds RSDP, XSDT, FADT, DSDT, MADT (and MCFG when pci.ecam_base) into
 * buf, which the guest will see at guest-physical address buf_gpa (16-byte
 * aligned). The RSDP comes first, so with buf in the 0xe0000-0xfffff BIOS
 * area Linux's scan finds it too. Returns the bytes used, -ENOSPC when buf
 * is too small (nothing is written past buf_size), or -EINVAL for a bad
 * platform description. *rsdp_gpa gets the RSDP's guest address.
 */
long acpi_build(void *buf, size_t buf_size, uint64_t buf_gpa, const struct acpi_platform *p,
		uint64_t *rsdp_gpa);

#endif
