/* Unit tests for the x86_64 ACPI tables: checksums, RSDP/XSDT linkage, MADT, FADT, DSDT, bounds. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86_64/acpi.h"
#include "arch/x86_64/aml.h"
#include "tests/unit/check_main.h"
#include "vmm/util.h"

#define TABLES_GPA 0xe0000ull
#define BIG 65536

static uint8_t sum8(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	for (size_t i = 0; i < n; i++)
		s += p[i];
	return s;
}

static struct acpi_platform test_platform(unsigned ncpus, bool pci)
{
	struct acpi_platform p = {
	    .ncpus = ncpus,
	    .lapic_addr = 0xfee00000,
	    .ioapic_addr = 0xfec00000,
	    .sleep_control_port = 0x600,
	    .sleep_status_port = 0x601,
	    .reset_port = 0x602,
	    .reset_value = 0x01,
	    .pvpanic_port = 0x505,
	    .com1_port = 0x3f8,
	    .com1_irq = 4,
	};

	if (pci) {
		p.pci.ecam_base = 0xb0000000;
		p.pci.bus_start = 0;
		p.pci.bus_end = 0;
		p.pci.mmio32_base = 0xc0000000;
		p.pci.mmio32_size = 0x20000000;
		p.pci.io_base = 0x1000;
		p.pci.io_size = 0x1000;
	}
	return p;
}

struct tables {
	uint8_t buf[BIG];
	long len;
	const uint8_t *rsdp, *xsdt, *fadt, *madt, *mcfg, *dsdt;
};

/* Follows a 64-bit guest address to a table inside buf, checking it lies within. */
static const uint8_t *table_at(const struct tables *t, uint64_t gpa)
{
	uint64_t off = gpa - TABLES_GPA;

	ck_assert_uint_ge(gpa, TABLES_GPA);
	ck_assert_uint_le(off + 36, (uint64_t)t->len);
	ck_assert_uint_le(off + get_le_n(t->buf + off + 4, 4), (uint64_t)t->len);
	return t->buf + off;
}

static void check_table(const uint8_t *table, const char *sig)
{
	uint32_t len = (uint32_t)get_le_n(table + 4, 4);

	ck_assert_mem_eq(table, sig, 4);
	ck_assert_uint_eq(sum8(table, len), 0);
	ck_assert_mem_eq(table + 10, "VMMVMM", 6);
}

/* Builds, then walks RSDP -> XSDT -> every table, checking each checksum. */
static void build_and_walk(struct tables *t, const struct acpi_platform *p)
{
	uint64_t rsdp_gpa = 0;
	unsigned nentries;

	memset(t, 0, sizeof(*t));
	t->len = acpi_build(t->buf, sizeof(t->buf), TABLES_GPA, p, &rsdp_gpa);
	ck_assert_int_gt(t->len, 0);
	ck_assert_uint_eq(rsdp_gpa, TABLES_GPA);
	t->rsdp = t->buf;
	ck_assert_mem_eq(t->rsdp, "RSD PTR ", 8);
	ck_assert_uint_eq(t->rsdp[15], 2);
	ck_assert_uint_eq(get_le_n(t->rsdp + 20, 4), 36);
	ck_assert_uint_eq(sum8(t->rsdp, 20), 0);
	ck_assert_uint_eq(sum8(t->rsdp, 36), 0);
	t->xsdt = table_at(t, get_le_n(t->rsdp + 24, 8));
	check_table(t->xsdt, "XSDT");
	nentries = (unsigned)((get_le_n(t->xsdt + 4, 4) - 36) / 8);
	for (unsigned i = 0; i < nentries; i++) {
		const uint8_t *table = table_at(t, get_le_n(t->xsdt + 36 + 8 * i, 8));

		ck_assert_uint_eq(sum8(table, get_le_n(table + 4, 4)), 0);
		if (!memcmp(table, "FACP", 4))
			t->fadt = table;
		else if (!memcmp(table, "APIC", 4))
			t->madt = table;
		else if (!memcmp(table, "MCFG", 4))
			t->mcfg = table;
		else
			ck_abort_msg("unexpected table %.4s", (const char *)table);
	}
	ck_assert_ptr_nonnull(t->fadt);
	ck_assert_ptr_nonnull(t->madt);
	check_table(t->fadt, "FACP");
	check_table(t->madt, "APIC");
	t->dsdt = table_at(t, get_le_n(t->fadt + 140, 8));
	check_table(t->dsdt, "DSDT");
}

static bool contains(const uint8_t *hay, size_t n, const void *needle, size_t m)
{
	return memmem(hay, n, needle, m) != NULL;
}

START_TEST(linkage_and_checksums)
{
	static struct tables t;
	struct acpi_platform p = test_platform(2, true);
	uint32_t eisa;

	build_and_walk(&t, &p);
	ck_assert_ptr_nonnull(t.mcfg);
	check_table(t.mcfg, "MCFG");
	ck_assert_uint_eq(get_le_n(t.mcfg + 4, 4), 60);
	ck_assert_uint_eq(get_le_n(t.mcfg + 44, 8), 0xb0000000);
	ck_assert_uint_eq(get_le_n(t.mcfg + 52, 2), 0);
	ck_assert_uint_eq(t.mcfg[54], 0);
	ck_assert_uint_eq(t.mcfg[55], 0);
	ck_assert_uint_eq(t.xsdt[8], 1);
	ck_assert_uint_eq(t.dsdt[8], 2);
	ck_assert(contains(t.dsdt, get_le_n(t.dsdt + 4, 4), "_S5_", 4));
	ck_assert(contains(t.dsdt, get_le_n(t.dsdt + 4, 4), "PCI0", 4));
	ck_assert(contains(t.dsdt, get_le_n(t.dsdt + 4, 4), "QEMU0001", 8));
	aml_eisaid_encode("PNP0A08", &eisa);
	ck_assert(contains(t.dsdt, get_le_n(t.dsdt + 4, 4), &eisa, 4));
	/* Every table starts 16-byte aligned (the XSDT holds 64-bit entries). */
	ck_assert_uint_eq((uintptr_t)(t.xsdt - t.buf) % 16, 0);
	ck_assert_uint_eq((uintptr_t)(t.dsdt - t.buf) % 16, 0);
}
END_TEST

START_TEST(no_pci_no_mcfg)
{
	static struct tables t;
	struct acpi_platform p = test_platform(1, false);

	p.pvpanic_port = 0;
	p.com1_port = 0;
	build_and_walk(&t, &p);
	ck_assert_ptr_null(t.mcfg);
	ck_assert(!contains(t.dsdt, get_le_n(t.dsdt + 4, 4), "PCI0", 4));
	ck_assert(!contains(t.dsdt, get_le_n(t.dsdt + 4, 4), "QEMU0001", 8));
	ck_assert(!contains(t.dsdt, get_le_n(t.dsdt + 4, 4), "COM1", 4));
	ck_assert(contains(t.dsdt, get_le_n(t.dsdt + 4, 4), "_S5_", 4));
}
END_TEST

static void check_madt(unsigned ncpus)
{
	static struct tables t;
	struct acpi_platform p = test_platform(ncpus, true);
	unsigned nlapic = 0, nioapic = 0, niso = 0, nnmi = 0;
	const uint8_t *e, *end;

	build_and_walk(&t, &p);
	ck_assert_uint_eq(t.madt[8], 4);
	ck_assert_uint_eq(get_le_n(t.madt + 36, 4), 0xfee00000);
	end = t.madt + get_le_n(t.madt + 4, 4);
	for (e = t.madt + 44; e < end; e += e[1]) {
		ck_assert_uint_ge(e[1], 2);
		switch (e[0]) {
		case 0:
			ck_assert_uint_eq(e[1], 8);
			ck_assert_uint_eq(e[2], nlapic); /* UID */
			ck_assert_uint_eq(e[3], nlapic); /* APIC id */
			ck_assert_uint_eq(get_le_n(e + 4, 4) & 1, 1);
			nlapic++;
			break;
		case 1:
			ck_assert_uint_eq(e[1], 12);
			ck_assert_uint_eq(get_le_n(e + 4, 4), 0xfec00000);
			ck_assert_uint_eq(get_le_n(e + 8, 4), 0);
			nioapic++;
			break;
		case 2:
			ck_assert_uint_eq(e[1], 10);
			ck_assert_uint_eq(e[2], 0);
			ck_assert_uint_eq(e[3], 0);
			ck_assert_uint_eq(get_le_n(e + 4, 4), 2);
			niso++;
			break;
		case 4:
			ck_assert_uint_eq(e[1], 6);
			ck_assert_uint_eq(e[2], 0xff);
			ck_assert_uint_eq(e[5], 1);
			nnmi++;
			break;
		default:
			ck_abort_msg("unexpected MADT entry type %u", e[0]);
		}
	}
	ck_assert_ptr_eq(e, end);
	ck_assert_uint_eq(nlapic, ncpus);
	ck_assert_uint_eq(nioapic, 1);
	ck_assert_uint_eq(niso, 1);
	ck_assert_uint_eq(nnmi, 1);
}

START_TEST(madt_cpu_counts)
{
	check_madt(1);
	check_madt(2);
	check_madt(64);
	check_madt(ACPI_MAX_CPUS);
}
END_TEST

static void check_gas_io8(const uint8_t *gas, uint16_t port)
{
	ck_assert_uint_eq(gas[0], 1); /* SystemIO */
	ck_assert_uint_eq(gas[1], 8);
	ck_assert_uint_eq(gas[2], 0);
	ck_assert_uint_eq(gas[3], 1); /* byte access */
	ck_assert_uint_eq(get_le_n(gas + 4, 8), port);
}

START_TEST(fadt_fields)
{
	static struct tables t;
	struct acpi_platform p = test_platform(2, true);
	uint32_t flags;
	uint16_t boot;

	build_and_walk(&t, &p);
	ck_assert_uint_eq(get_le_n(t.fadt + 4, 4), 276);
	ck_assert_uint_eq(t.fadt[8], 6);
	ck_assert_uint_eq(t.fadt[131], 0);		 /* minor version: ACPI 6.0 */
	ck_assert_uint_eq(get_le_n(t.fadt + 36, 4), 0);	 /* no FACS */
	ck_assert_uint_eq(get_le_n(t.fadt + 40, 4), 0);	 /* DSDT only through X_DSDT */
	ck_assert_uint_eq(get_le_n(t.fadt + 46, 2), 0);	 /* no SCI */
	ck_assert_uint_eq(get_le_n(t.fadt + 64, 4), 0);	 /* no PM1a control block */
	ck_assert_uint_eq(get_le_n(t.fadt + 132, 8), 0); /* no X_FACS */
	ck_assert_uint_eq(get_le_n(t.fadt + 140, 8), TABLES_GPA + (uint64_t)(t.dsdt - t.buf));
	flags = (uint32_t)get_le_n(t.fadt + 112, 4);
	ck_assert_uint_eq(flags & (1u << 20), 1u << 20); /* HW_REDUCED_ACPI */
	ck_assert_uint_eq(flags & (1u << 10), 1u << 10); /* RESET_REG_SUP */
	boot = (uint16_t)get_le_n(t.fadt + 109, 2);
	ck_assert_uint_eq(boot & (1u << 0), 0);	      /* no legacy devices */
	ck_assert_uint_eq(boot & (1u << 1), 0);	      /* no 8042 */
	ck_assert_uint_eq(boot & (1u << 2), 1u << 2); /* no VGA */
	ck_assert_uint_eq(boot & (1u << 3), 0);	      /* MSI supported */
	ck_assert_uint_eq(boot & (1u << 5), 1u << 5); /* no CMOS RTC */
	check_gas_io8(t.fadt + 116, 0x602);
	ck_assert_uint_eq(t.fadt[128], 0x01);
	check_gas_io8(t.fadt + 244, 0x600);
	check_gas_io8(t.fadt + 256, 0x601);

	p.cmos_rtc = true;
	build_and_walk(&t, &p);
	ck_assert_uint_eq(get_le_n(t.fadt + 109, 2) & (1u << 5), 0);
}
END_TEST

START_TEST(too_small_is_enospc_without_overrun)
{
	static uint8_t full[BIG], buf[BIG + 64];
	struct acpi_platform p = test_platform(64, true);
	uint64_t rsdp;
	long n = acpi_build(full, sizeof(full), TABLES_GPA, &p, &rsdp);
	const size_t sizes[] = {0, 1, 35, 36, 200, (size_t)n / 2, (size_t)n - 1};

	ck_assert_int_gt(n, 0);
	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		memset(buf, 0xa5, sizeof(buf));
		ck_assert_int_eq(acpi_build(buf, sizes[i], TABLES_GPA, &p, &rsdp), -ENOSPC);
		for (size_t j = sizes[i]; j < sizeof(buf); j++)
			ck_assert_msg(buf[j] == 0xa5, "size %zu: byte %zu written", sizes[i], j);
	}
	/* Exactly enough is enough, and gives the same bytes. */
	memset(buf, 0xa5, sizeof(buf));
	ck_assert_int_eq(acpi_build(buf, (size_t)n, TABLES_GPA, &p, &rsdp), n);
	ck_assert_mem_eq(buf, full, (size_t)n);
	ck_assert_uint_eq(buf[n], 0xa5);
}
END_TEST

START_TEST(bad_platform_is_einval)
{
	static uint8_t buf[BIG];
	struct acpi_platform p;
	uint64_t rsdp;

	p = test_platform(0, true);
	ck_assert_int_eq(acpi_build(buf, sizeof(buf), TABLES_GPA, &p, &rsdp), -EINVAL);
	p = test_platform(ACPI_MAX_CPUS + 1, true);
	ck_assert_int_eq(acpi_build(buf, sizeof(buf), TABLES_GPA, &p, &rsdp), -EINVAL);
	p = test_platform(1, true);
	ck_assert_int_eq(acpi_build(buf, sizeof(buf), TABLES_GPA + 8, &p, &rsdp), -EINVAL);
	p.sleep_control_port = 0xcf9; /* ACPICA would refuse to write it */
	ck_assert_int_eq(acpi_build(buf, sizeof(buf), TABLES_GPA, &p, &rsdp), -EINVAL);
	p = test_platform(1, true);
	p.sleep_status_port = 0;
	ck_assert_int_eq(acpi_build(buf, sizeof(buf), TABLES_GPA, &p, &rsdp), -EINVAL);
	p = test_platform(1, true);
	p.pci.ecam_base = 0xb0080000; /* not 1 MiB aligned */
	ck_assert_int_eq(acpi_build(buf, sizeof(buf), TABLES_GPA, &p, &rsdp), -EINVAL);
	p = test_platform(1, true);
	p.pci.mmio32_base = 0xf0000000;
	p.pci.mmio32_size = 0x20000000; /* crosses 4 GiB */
	ck_assert_int_eq(acpi_build(buf, sizeof(buf), TABLES_GPA, &p, &rsdp), -EINVAL);
	p = test_platform(1, true);
	p.com1_irq = 16;
	ck_assert_int_eq(acpi_build(buf, sizeof(buf), TABLES_GPA, &p, &rsdp), -EINVAL);
}
END_TEST

START_TEST(sleep_control_decoding)
{
	ck_assert(acpi_sleep_control_is_poweroff((ACPI_S5_SLP_TYP << 2) | ACPI_SLEEP_CTL_SLP_EN));
	ck_assert(acpi_sleep_control_is_poweroff(0x34 | 0x80 | 0x03));	  /* other bits ignored */
	ck_assert(!acpi_sleep_control_is_poweroff(ACPI_S5_SLP_TYP << 2)); /* no SLP_EN */
	ck_assert(!acpi_sleep_control_is_poweroff((3 << 2) | ACPI_SLEEP_CTL_SLP_EN)); /* S3 */
}
END_TEST

/* With acpica-tools installed: iasl must disassemble the DSDT and recompile it cleanly. */
START_TEST(iasl_roundtrip)
{
	static struct tables t;
	struct acpi_platform p = test_platform(4, true);
	char dir[] = "/tmp/test_acpi.XXXXXX", cmd[512], path[256];
	FILE *f;
	int rc;

	if (system("command -v iasl >/dev/null 2>&1") != 0) {
		/* In CI a missing tool is a missing install step, never a quiet skip. */
		ck_assert_msg(!getenv("CI"),
			      "iasl missing in CI: tools/setup-deps installs acpica-tools");
		fprintf(stderr, "test_acpi: SKIP: iasl not installed, no iasl round trip\n");
		return;
	}
	build_and_walk(&t, &p);
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/dsdt.dat", dir);
	f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(t.dsdt, 1, get_le_n(t.dsdt + 4, 4), f), get_le_n(t.dsdt + 4, 4));
	fclose(f);
	/* iasl exits non-zero on errors; the recompiled body must match ours byte for byte. */
	snprintf(cmd, sizeof(cmd),
		 "cd %s && iasl -d dsdt.dat >log 2>&1 && iasl -on -p re dsdt.dsl >>log 2>&1 && "
		 "cmp -s -i 36 dsdt.dat re.aml && ! grep -Eiq '(error|warning)[^s]' log",
		 dir);
	rc = system(cmd);
	if (rc != 0) {
		snprintf(cmd, sizeof(cmd), "cat %s/log >&2", dir);
		(void)!system(cmd);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	(void)!system(cmd);
	ck_assert_msg(rc == 0, "iasl round trip failed");
}
END_TEST

static Suite *acpi_suite(void)
{
	Suite *s = suite_create("acpi");
	TCase *tc = tcase_create("tables");

	tcase_add_test(tc, linkage_and_checksums);
	tcase_add_test(tc, no_pci_no_mcfg);
	tcase_add_test(tc, madt_cpu_counts);
	tcase_add_test(tc, fadt_fields);
	tcase_add_test(tc, too_small_is_enospc_without_overrun);
	tcase_add_test(tc, bad_platform_is_einval);
	tcase_add_test(tc, sleep_control_decoding);
	tcase_add_test(tc, iasl_roundtrip);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(acpi_suite)
