/* The x86_64 guest-physical memory map and fixed port assignments, one constant per line. */
#ifndef ARCH_X86_64_LAYOUT_H
#define ARCH_X86_64_LAYOUT_H

/* Boot GDT: null, null, __BOOT_CS (0x10), __BOOT_DS (0x18), TSS (0x20). */
#define X86_BOOT_GDT 0x500ull
/* struct boot_params, the "zero page" the kernel receives in RSI. */
#define X86_ZERO_PAGE 0x7000ull
/* Initial stack; the kernel switches to its own at once. */
#define X86_BOOT_STACK 0x8ff0ull
/* Identity page tables for the 64-bit entry: PML4, one PDPT, four 2 MiB-page PDs (4 GiB). */
#define X86_PML4 0x9000ull
#define X86_PDPT 0xa000ull
#define X86_PD 0xb000ull
#define X86_PD_COUNT 4
/* Kernel command line. */
#define X86_CMDLINE 0x20000ull
#define X86_CMDLINE_MAX 4096
/* End of conventional low memory; above it the EBDA/BIOS area is reserved. */
#define X86_EBDA_START 0x9fc00ull
/* ACPI tables in the BIOS area, where Linux also scans for the RSDP. */
#define X86_ACPI_TABLES 0xe0000ull
#define X86_ACPI_TABLES_SIZE 0x10000ull
/*
 * The real-mode reset vector (F000:FFF0). There is no BIOS, so nine bytes of
 * code that write the ACPI reset register sit there: Linux jumps to them when its
 * other reboot methods are exhausted (with hardware-reduced ACPI and no EFI,
 * its default reboot path ends in a jump to the BIOS).
 */
#define X86_RESET_VECTOR 0xffff0ull
/* Protected-mode bzImage kernel load address (the boot protocol's default). */
#define X86_HIMEM 0x100000ull
/* RAM below 4 GiB ends here; PCI MMIO, ECAM and the APICs live above it. */
#define X86_LOWMEM_END 0xc0000000ull
#define X86_PCI_MMIO32_BASE 0xc0000000ull
#define X86_PCI_MMIO32_SIZE 0x20000000ull
#define X86_PCI_ECAM_BASE 0xe0000000ull
#define X86_PCI_ECAM_SIZE 0x100000ull /* bus 0 only */
#define X86_IOAPIC_BASE 0xfec00000ull
#define X86_LAPIC_BASE 0xfee00000ull
/* KVM's own pages for real-mode emulation on Intel: below 4 GiB, outside RAM. */
#define X86_KVM_IDENTITY_MAP 0xfeffc000ull
#define X86_KVM_TSS 0xfeffd000ull
/* RAM above the hole continues at 4 GiB. */
#define X86_HIGHMEM_START 0x100000000ull

/* Port I/O assignments. */
#define X86_COM1_PORT 0x3f8
#define X86_COM1_IRQ 4
#define X86_DEBUG_EXIT_PORT 0xf4
#define X86_PVPANIC_PORT 0x505
#define X86_ACPI_SLEEP_CONTROL_PORT 0x600
#define X86_ACPI_SLEEP_STATUS_PORT 0x601
#define X86_ACPI_RESET_PORT 0x602
#define X86_ACPI_RESET_VALUE 0x01
#define X86_ACPI_S5_SLEEP_TYPE 5
#define X86_PCI_IO_BASE 0xc000
#define X86_PCI_IO_SIZE 0x4000

#endif
