/* Builds the guest's ACPI tables: hardware-reduced ACPI 6.0, as Firecracker and cloud-hypervisor
 * do. */
#include "arch/x86_64/acpi.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "arch/x86_64/aml.h"
#include "vmm/util.h"

#define OEM_ID "VMMVMM"
#define OEM_REVISION 1
#define CREATOR_ID "VMMA"
#define CREATOR_REVISION 1
#define TABLE_ALIGN 16
#define TABLE_HEADER_LEN 36

/* RSDP (ACPI 2.0+ form): 36 bytes, checksum over the first 20, extended over all. */
#define RSDP_LEN 36
#define RSDP_CHECKSUM 8
#define RSDP_V1_LEN 20
#define RSDP_XSDT_ADDR 24
#define RSDP_EXT_CHECKSUM 32

/* FADT revision 6 (ACPI 6.0): field offsets from the table start. */
#define FADT_LEN 276
#define FADT_REVISION 6
#define FADT_MINOR_REVISION 0
#define FADT_IAPC_BOOT_ARCH 109
#define FADT_FLAGS 112
#define FADT_RESET_REG 116
#define FADT_RESET_VALUE 128
#define FADT_MINOR_VERSION 131
#define FADT_X_DSDT 140
#define FADT_SLEEP_CONTROL_REG 244
#define FADT_SLEEP_STATUS_REG 256
#define FADT_HYPERVISOR_ID 268

/* FADT.Flags bits. */
#define FADT_F_WBINVD (1u << 0)
#define FADT_F_PWR_BUTTON (1u << 4) /* no fixed-feature power button */
#define FADT_F_SLP_BUTTON (1u << 5) /* no fixed-feature sleep button */
#define FADT_F_RESET_REG_SUP (1u << 10)
#define FADT_F_HW_REDUCED_ACPI (1u << 20)

/* FADT.IAPC_BOOT_ARCH bits; LEGACY_DEVICES (0) and 8042 (1) stay clear. */
#define IAPC_VGA_NOT_PRESENT (1u << 2)
#define IAPC_PCIE_ASPM_CONTROLS (1u << 4) /* OSPM must not enable ASPM */
#define IAPC_CMOS_RTC_NOT_PRESENT (1u << 5)

/* Generic Address Structure: 12 bytes. */
#define GAS_SPACE_SYSTEM_IO 1
#define GAS_ACCESS_BYTE 1

/* MADT (revision 4 = ACPI 6.0) and its entries. */
#define MADT_REVISION 4
#define MADT_PCAT_COMPAT 1u /* KVM's in-kernel irqchip includes the 8259 pair */
#define MADT_LOCAL_APIC 0
#define MADT_IO_APIC 1
#define MADT_INT_SRC_OVERRIDE 2
#define MADT_LOCAL_APIC_NMI 4
#define MADT_LAPIC_ENABLED 1u
#define MADT_ALL_PROCESSORS 0xff
/*
 * KVM's in-kernel IOAPIC reads back id 0 after reset, QEMU and Firecracker
 * describe it as 0 too, and x86_64 Linux only needs IOAPIC ids unique among
 * IOAPICs (the shared APIC-bus id space is a P6-era constraint).
 */
#define IOAPIC_ID 0
/* KVM wires the in-kernel PIT to IOAPIC pin 2, as on real chipsets. */
#define PIT_ISA_IRQ 0
#define PIT_GSI 2

#define MCFG_REVISION 1
#define DSDT_REVISION 2 /* 2 and up: 64-bit AML integers */
#define XSDT_REVISION 1
#define ECAM_BUS_SHIFT 20 /* 1 MiB of configuration space per bus */
#define PCI_CONFIG_PORT 0xcf8
#define PCI_CONFIG_PORT_LEN 8
#define COM_PORT_LEN 8

/* The I/O ports ACPICA refuses to access on the sleep registers' behalf. */
static const struct {
	uint16_t first, last;
} acpica_protected_ports[] = {
    {0x00, 0x0f}, {0x20, 0x21}, {0x40, 0x43}, {0x48, 0x4b},   {0x70, 0x71},   {0x74, 0x76},
    {0x80, 0x97}, {0xa0, 0xa1}, {0xc0, 0xdf}, {0x4d0, 0x4d1}, {0xcf8, 0xcff},
};

bool acpi_sleep_control_is_poweroff(uint8_t value)
{
	uint8_t slp_typ = (value & ACPI_SLEEP_CTL_SLP_TYP_MASK) >> ACPI_SLEEP_CTL_SLP_TYP_SHIFT;

	return (value & ACPI_SLEEP_CTL_SLP_EN) && slp_typ == ACPI_S5_SLP_TYP;
}

static bool port_protected(uint16_t port)
{
	for (size_t i = 0; i < ARRAY_SIZE(acpica_protected_ports); i++)
		if (port >= acpica_protected_ports[i].first &&
		    port <= acpica_protected_ports[i].last)
			return true;
	return false;
}

static bool pci_config_valid(const struct acpi_pci_config *pci)
{
	uint64_t mmio_end = pci->mmio32_base + pci->mmio32_size;

	if (!pci->ecam_base)
		return true;
	if (pci->ecam_base & ((1ull << ECAM_BUS_SHIFT) - 1) || pci->bus_start > pci->bus_end)
		return false;
	if (pci->ecam_base + ((uint64_t)(pci->bus_end + 1) << ECAM_BUS_SHIFT) < pci->ecam_base)
		return false;
	if (!pci->mmio32_size || mmio_end > (1ull << 32) || mmio_end < pci->mmio32_base)
		return false;
	return (uint32_t)pci->io_base + pci->io_size <= 0x10000;
}

static bool platform_valid(const struct acpi_platform *p)
{
	if (p->ncpus < 1 || p->ncpus > ACPI_MAX_CPUS || !p->lapic_addr || !p->ioapic_addr)
		return false;
	if (!p->sleep_control_port || !p->sleep_status_port || !p->reset_port)
		return false;
	if (port_protected(p->sleep_control_port) || port_protected(p->sleep_status_port))
		return false;
	if (p->com1_port && (p->com1_irq > 15 || p->com1_port > 0x10000 - COM_PORT_LEN))
		return false;
	return pci_config_valid(&p->pci);
}

/* The byte that makes the sum of [p, p + len) zero modulo 256. */
static uint8_t checksum_fix(const uint8_t *p, size_t len)
{
	uint8_t sum = 0;

	for (size_t i = 0; i < len; i++)
		sum += p[i];
	return (uint8_t)-sum;
}

/* Starts a table at the next aligned offset; returns that offset. */
static size_t table_begin(struct aml_buf *b, const char *sig, uint8_t revision)
{
	char table_id[9];
	size_t start;

	aml_align(b, TABLE_ALIGN);
	start = b->len;
	snprintf(table_id, sizeof(table_id), "VMM%-5.4s", sig); /* e.g. "VMMFACP " */
	aml_put_bytes(b, sig, 4);
	aml_put32(b, 0); /* length, set by table_end */
	aml_put8(b, revision);
	aml_put8(b, 0); /* checksum, set by table_end */
	aml_put_bytes(b, OEM_ID, 6);
	aml_put_bytes(b, table_id, 8);
	aml_put32(b, OEM_REVISION);
	aml_put_bytes(b, CREATOR_ID, 4);
	aml_put32(b, CREATOR_REVISION);
	return start;
}

static void table_end(struct aml_buf *b, size_t start)
{
	if (b->err)
		return;
	aml_patch32(b, start + 4, (uint32_t)(b->len - start));
	aml_patch8(b, start + 9, checksum_fix(b->data + start, b->len - start));
}

static void put_rsdp(struct aml_buf *b)
{
	aml_put_bytes(b, "RSD PTR ", 8);
	aml_put8(b, 0); /* checksum, set by finish_rsdp */
	aml_put_bytes(b, OEM_ID, 6);
	aml_put8(b, 2);	 /* revision: ACPI 2.0+ layout with the XSDT */
	aml_put32(b, 0); /* no RSDT: ACPICA prefers the XSDT when revision >= 2 */
	aml_put32(b, RSDP_LEN);
	aml_put64(b, 0); /* XSDT address, set by finish_rsdp */
	aml_put8(b, 0);	 /* extended checksum, set by finish_rsdp */
	aml_put_zeros(b, 3);
}

static void finish_rsdp(struct aml_buf *b, uint64_t xsdt_gpa)
{
	if (b->err)
		return;
	aml_patch64(b, RSDP_XSDT_ADDR, xsdt_gpa);
	aml_patch8(b, RSDP_CHECKSUM, checksum_fix(b->data, RSDP_V1_LEN));
	aml_patch8(b, RSDP_EXT_CHECKSUM, checksum_fix(b->data, RSDP_LEN));
}

/* Name(_CRS, ResourceTemplate(){ ... }): returns the template's mark. */
static size_t crs_begin(struct aml_buf *b)
{
	aml_name(b, "_CRS");
	return aml_restemplate_begin(b);
}

/* The PCIe host bridge: bus range, config ports, I/O and 32-bit MMIO windows. */
static void dsdt_pci_host(struct aml_buf *b, const struct acpi_pci_config *pci)
{
	size_t dev = aml_device_begin(b, "PCI0"), crs;

	aml_name(b, "_HID");
	aml_eisaid(b, "PNP0A08");
	aml_name(b, "_CID");
	aml_eisaid(b, "PNP0A03");
	aml_name(b, "_SEG");
	aml_integer(b, 0);
	aml_name(b, "_BBN");
	aml_integer(b, pci->bus_start);
	aml_name(b, "_UID");
	aml_integer(b, 0);
	crs = crs_begin(b);
	aml_res_word_bus_number(b, pci->bus_start, pci->bus_end);
	aml_res_io(b, PCI_CONFIG_PORT, PCI_CONFIG_PORT, 1, PCI_CONFIG_PORT_LEN);
	if (pci->io_size)
		aml_res_word_io(b, pci->io_base, (uint16_t)(pci->io_base + pci->io_size - 1));
	aml_res_dword_memory(b, true, (uint32_t)pci->mmio32_base,
			     (uint32_t)(pci->mmio32_base + pci->mmio32_size - 1));
	aml_restemplate_end(b, crs);
	aml_pkg_end(b, dev);
}

/* A motherboard-resource device reserving ECAM, which Linux checks before using MCFG. */
static void dsdt_ecam_reservation(struct aml_buf *b, const struct acpi_pci_config *pci)
{
	uint64_t first = pci->ecam_base + ((uint64_t)pci->bus_start << ECAM_BUS_SHIFT);
	uint64_t last = pci->ecam_base + ((uint64_t)(pci->bus_end + 1) << ECAM_BUS_SHIFT) - 1;
	size_t dev = aml_device_begin(b, "MRES"), crs;

	aml_name(b, "_HID");
	aml_eisaid(b, "PNP0C02");
	aml_name(b, "_UID");
	aml_integer(b, 0);
	crs = crs_begin(b);
	if (last <= UINT32_MAX)
		aml_res_dword_memory(b, false, (uint32_t)first, (uint32_t)last);
	else
		aml_res_qword_memory(b, false, first, last);
	aml_restemplate_end(b, crs);
	aml_pkg_end(b, dev);
}

static void dsdt_com1(struct aml_buf *b, const struct acpi_platform *p)
{
	size_t dev = aml_device_begin(b, "COM1"), crs;

	aml_name(b, "_HID");
	aml_eisaid(b, "PNP0501");
	aml_name(b, "_UID");
	aml_integer(b, 1);
	crs = crs_begin(b);
	aml_res_io(b, p->com1_port, p->com1_port, 1, COM_PORT_LEN);
	aml_res_irq_noflags(b, p->com1_irq);
	aml_restemplate_end(b, crs);
	aml_pkg_end(b, dev);
}

/* Linux's pvpanic-mmio driver binds QEMU0001 and takes its port or MMIO from _CRS. */
static void dsdt_pvpanic(struct aml_buf *b, uint16_t port)
{
	size_t dev = aml_device_begin(b, "PEVT"), crs;

	aml_name(b, "_HID");
	aml_string(b, "QEMU0001");
	crs = crs_begin(b);
	aml_res_io(b, port, port, 1, 1);
	aml_restemplate_end(b, crs);
	aml_pkg_end(b, dev);
}

static size_t put_dsdt(struct aml_buf *b, const struct acpi_platform *p)
{
	size_t start = table_begin(b, "DSDT", DSDT_REVISION), pkg, scope;

	/* \_S5: SLP_TYPa (the one a hardware-reduced sleep uses), SLP_TYPb, reserved. */
	aml_name(b, "\\_S5");
	pkg = aml_package_begin(b, 4);
	aml_integer(b, ACPI_S5_SLP_TYP);
	aml_integer(b, 0);
	aml_integer(b, 0);
	aml_integer(b, 0);
	aml_pkg_end(b, pkg);

	scope = aml_scope_begin(b, "\\_SB");
	if (p->pci.ecam_base) {
		dsdt_pci_host(b, &p->pci);
		dsdt_ecam_reservation(b, &p->pci);
	}
	if (p->com1_port)
		dsdt_com1(b, p);
	if (p->pvpanic_port)
		dsdt_pvpanic(b, p->pvpanic_port);
	aml_pkg_end(b, scope);
	table_end(b, start);
	return start;
}

static void patch_gas_io8(struct aml_buf *b, size_t off, uint16_t port)
{
	aml_patch8(b, off, GAS_SPACE_SYSTEM_IO);
	aml_patch8(b, off + 1, 8); /* register bit width */
	aml_patch8(b, off + 2, 0); /* bit offset */
	aml_patch8(b, off + 3, GAS_ACCESS_BYTE);
	aml_patch64(b, off + 4, port);
}

/*
 * Hardware-reduced: no SCI, no PM1/GPE blocks, no FACS, no 32-bit DSDT
 * pointer (X_DSDT only, so ACPICA never sees two differing addresses).
 */
static size_t put_fadt(struct aml_buf *b, const struct acpi_platform *p, uint64_t dsdt_gpa)
{
	size_t start = table_begin(b, "FACP", FADT_REVISION);
	uint16_t boot_arch = IAPC_VGA_NOT_PRESENT | IAPC_PCIE_ASPM_CONTROLS;

	if (!p->cmos_rtc)
		boot_arch |= IAPC_CMOS_RTC_NOT_PRESENT;
	aml_put_zeros(b, FADT_LEN - TABLE_HEADER_LEN);
	aml_patch16(b, start + FADT_IAPC_BOOT_ARCH, boot_arch);
	aml_patch32(b, start + FADT_FLAGS,
		    FADT_F_WBINVD | FADT_F_PWR_BUTTON | FADT_F_SLP_BUTTON | FADT_F_RESET_REG_SUP |
			FADT_F_HW_REDUCED_ACPI);
	patch_gas_io8(b, start + FADT_RESET_REG, p->reset_port);
	aml_patch8(b, start + FADT_RESET_VALUE, p->reset_value);
	aml_patch8(b, start + FADT_MINOR_VERSION, FADT_MINOR_REVISION);
	aml_patch64(b, start + FADT_X_DSDT, dsdt_gpa);
	patch_gas_io8(b, start + FADT_SLEEP_CONTROL_REG, p->sleep_control_port);
	patch_gas_io8(b, start + FADT_SLEEP_STATUS_REG, p->sleep_status_port);
	if (!b->err)
		memcpy(b->data + start + FADT_HYPERVISOR_ID, OEM_ID, strlen(OEM_ID));
	table_end(b, start);
	return start;
}

static void put_madt_entries(struct aml_buf *b, const struct acpi_platform *p)
{
	for (unsigned cpu = 0; cpu < p->ncpus; cpu++) {
		aml_put8(b, MADT_LOCAL_APIC);
		aml_put8(b, 8);
		aml_put8(b, (uint8_t)cpu); /* ACPI processor UID */
		aml_put8(b, (uint8_t)cpu); /* APIC id: KVM gives vCPU n APIC id n */
		aml_put32(b, MADT_LAPIC_ENABLED);
	}
	aml_put8(b, MADT_IO_APIC);
	aml_put8(b, 12);
	aml_put8(b, IOAPIC_ID);
	aml_put8(b, 0);
	aml_put32(b, p->ioapic_addr);
	aml_put32(b, 0); /* GSI base */

	aml_put8(b, MADT_INT_SRC_OVERRIDE);
	aml_put8(b, 10);
	aml_put8(b, 0); /* bus: ISA */
	aml_put8(b, PIT_ISA_IRQ);
	aml_put32(b, PIT_GSI);
	aml_put16(b, 0); /* flags: conforms to the bus (edge, active-high) */

	aml_put8(b, MADT_LOCAL_APIC_NMI);
	aml_put8(b, 6);
	aml_put8(b, MADT_ALL_PROCESSORS);
	aml_put16(b, 0); /* flags: conforms to the bus */
	aml_put8(b, 1);	 /* LINT1 */
}

static size_t put_madt(struct aml_buf *b, const struct acpi_platform *p)
{
	size_t start = table_begin(b, "APIC", MADT_REVISION);

	aml_put32(b, p->lapic_addr);
	aml_put32(b, MADT_PCAT_COMPAT);
	put_madt_entries(b, p);
	table_end(b, start);
	return start;
}

static size_t put_mcfg(struct aml_buf *b, const struct acpi_pci_config *pci)
{
	size_t start = table_begin(b, "MCFG", MCFG_REVISION);

	aml_put_zeros(b, 8); /* reserved */
	aml_put64(b, pci->ecam_base);
	aml_put16(b, 0); /* PCI segment group */
	aml_put8(b, pci->bus_start);
	aml_put8(b, pci->bus_end);
	aml_put32(b, 0); /* reserved */
	table_end(b, start);
	return start;
}

static size_t put_xsdt(struct aml_buf *b, const uint64_t *entries, unsigned n)
{
	size_t start = table_begin(b, "XSDT", XSDT_REVISION);

	for (unsigned i = 0; i < n; i++)
		aml_put64(b, entries[i]);
	table_end(b, start);
	return start;
}

long acpi_build(void *buf, size_t buf_size, uint64_t buf_gpa, const struct acpi_platform *p,
		uint64_t *rsdp_gpa)
{
	struct aml_buf b;
	uint64_t entries[3], dsdt_gpa;
	unsigned n = 0;
	size_t xsdt;

	if (buf_gpa % TABLE_ALIGN || !platform_valid(p))
		return -EINVAL;
	aml_buf_init(&b, buf, buf_size);
	put_rsdp(&b);
	dsdt_gpa = buf_gpa + put_dsdt(&b, p);
	entries[n++] = buf_gpa + put_fadt(&b, p, dsdt_gpa);
	entries[n++] = buf_gpa + put_madt(&b, p);
	if (p->pci.ecam_base)
		entries[n++] = buf_gpa + put_mcfg(&b, &p->pci);
	xsdt = put_xsdt(&b, entries, n);
	finish_rsdp(&b, buf_gpa + xsdt);
	if (b.err)
		return b.err;
	*rsdp_gpa = buf_gpa;
	return (long)b.len;
}
