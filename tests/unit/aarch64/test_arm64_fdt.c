/* The arm64 device tree: built, parsed back with libfdt and checked node by node. */
#include <errno.h>
#include <libfdt.h>
#include <stdlib.h>
#include <string.h>

#include "arch/aarch64/fdt.h"
#include "arch/aarch64/layout.h"
#include "tests/unit/check_main.h"

static const uint64_t mpidrs[] = {0x80000000, 0x80000001, 0x80000100};

struct built {
	uint8_t *fdt;
	struct arm64_fdt_desc d;
};

static void build(struct built *b, bool pmu, bool pci)
{
	b->fdt = malloc(ARM64_FDT_MAX_SIZE);
	memset(&b->d, 0, sizeof(b->d));
	b->d.ncpus = 3;
	b->d.mpidrs = mpidrs;
	b->d.ram_base = ARM64_RAM_BASE;
	b->d.ram_size = 256ull << 20;
	ck_assert_int_eq(arm64_gic_layout(3, &b->d.gic), 0);
	b->d.pmu = pmu;
	b->d.pci = pci;
	b->d.bootargs = "console=ttyS0 quiet";
	b->d.initrd_start = 0x4f000000;
	b->d.initrd_end = 0x4f123456;
	memset(b->d.rng_seed, 0xa5, sizeof(b->d.rng_seed));
	b->d.kaslr_seed = 0x1122334455667788ull;
	ck_assert_int_gt(arm64_fdt_build(b->fdt, ARM64_FDT_MAX_SIZE, &b->d), 0);
	ck_assert_int_eq(fdt_check_header(b->fdt), 0);
}

static int node(const void *fdt, const char *path)
{
	int off = fdt_path_offset(fdt, path);

	ck_assert_msg(off >= 0, "no node %s", path);
	return off;
}

static const char *str(const void *fdt, const char *path, const char *prop)
{
	const char *s = fdt_getprop(fdt, node(fdt, path), prop, NULL);

	ck_assert_msg(s != NULL, "no %s in %s", prop, path);
	return s;
}

/* Checks that prop of path holds exactly these cells. */
static void cells(const void *fdt, const char *path, const char *prop, const uint32_t *want, int n)
{
	int len = -1;
	const fdt32_t *p = fdt_getprop(fdt, node(fdt, path), prop, &len);

	ck_assert_msg(p != NULL, "no %s in %s", prop, path);
	ck_assert_int_eq(len, n * 4);
	for (int i = 0; i < n; i++)
		ck_assert_msg(fdt32_to_cpu(p[i]) == want[i], "%s %s cell %d: 0x%x, want 0x%x", path,
			      prop, i, fdt32_to_cpu(p[i]), want[i]);
}

static uint64_t u64prop(const void *fdt, const char *path, const char *prop)
{
	int len = -1;
	const fdt64_t *p = fdt_getprop(fdt, node(fdt, path), prop, &len);

	ck_assert_int_eq(len, 8);
	return fdt64_to_cpu(*p);
}

START_TEST(test_root_memory_chosen)
{
	struct built b;
	int len = -1;

	build(&b, true, true);
	cells(b.fdt, "/", "#address-cells", (uint32_t[]){2}, 1);
	cells(b.fdt, "/", "#size-cells", (uint32_t[]){2}, 1);
	cells(b.fdt, "/", "interrupt-parent", (uint32_t[]){ARM64_FDT_PHANDLE_GIC}, 1);
	ck_assert_str_eq(str(b.fdt, "/memory@40000000", "device_type"), "memory");
	cells(b.fdt, "/memory@40000000", "reg", (uint32_t[]){0, 0x40000000, 0, 0x10000000}, 4);
	ck_assert_str_eq(str(b.fdt, "/chosen", "bootargs"), "console=ttyS0 quiet");
	/* stdout-path must name the UART node itself. */
	ck_assert_int_eq(fdt_path_offset(b.fdt, str(b.fdt, "/chosen", "stdout-path")),
			 node(b.fdt, "/uart@9000000"));
	ck_assert_uint_eq(u64prop(b.fdt, "/chosen", "linux,initrd-start"), 0x4f000000);
	ck_assert_uint_eq(u64prop(b.fdt, "/chosen", "linux,initrd-end"), 0x4f123456);
	ck_assert_uint_eq(u64prop(b.fdt, "/chosen", "kaslr-seed"), 0x1122334455667788ull);
	ck_assert_ptr_nonnull(fdt_getprop(b.fdt, node(b.fdt, "/chosen"), "rng-seed", &len));
	ck_assert_int_eq(len, ARM64_FDT_RNG_SEED_SIZE);
	free(b.fdt);
}
END_TEST

START_TEST(test_cpus_psci_timer_pmu)
{
	struct built b;
	const uint32_t timer[] = {1, 13, 4, 1, 14, 4, 1, 11, 4, 1, 10, 4};

	build(&b, true, true);
	cells(b.fdt, "/cpus", "#address-cells", (uint32_t[]){2}, 1);
	cells(b.fdt, "/cpus", "#size-cells", (uint32_t[]){0}, 1);
	/* reg is the MPIDR's affinity: bit 31 (RES1) is not part of it. */
	cells(b.fdt, "/cpus/cpu@0", "reg", (uint32_t[]){0, 0}, 2);
	cells(b.fdt, "/cpus/cpu@1", "reg", (uint32_t[]){0, 1}, 2);
	cells(b.fdt, "/cpus/cpu@100", "reg", (uint32_t[]){0, 0x100}, 2);
	ck_assert_str_eq(str(b.fdt, "/cpus/cpu@100", "enable-method"), "psci");
	ck_assert_str_eq(str(b.fdt, "/cpus/cpu@0", "device_type"), "cpu");
	ck_assert_int_lt(fdt_path_offset(b.fdt, "/cpus/cpu@2"), 0);
	ck_assert_int_eq(fdt_node_check_compatible(b.fdt, node(b.fdt, "/psci"), "arm,psci-0.2"), 0);
	ck_assert_str_eq(str(b.fdt, "/psci", "method"), "hvc");
	ck_assert_str_eq(str(b.fdt, "/timer", "compatible"), "arm,armv8-timer");
	cells(b.fdt, "/timer", "interrupts", timer, 12);
	cells(b.fdt, "/pmu", "interrupts", (uint32_t[]){1, 7, 4}, 3);
	free(b.fdt);
	build(&b, false, true);
	ck_assert_int_lt(fdt_path_offset(b.fdt, "/pmu"), 0);
	free(b.fdt);
}
END_TEST

START_TEST(test_gic_its_pci)
{
	struct built b;
	const char *gic = "/intc@8000000", *its = "/intc@8000000/its@8080000";
	const char *pci = "/pcie@3f000000";

	build(&b, true, true);
	ck_assert_str_eq(str(b.fdt, gic, "compatible"), "arm,gic-v3");
	ck_assert_ptr_nonnull(fdt_getprop(b.fdt, node(b.fdt, gic), "interrupt-controller", NULL));
	cells(b.fdt, gic, "#interrupt-cells", (uint32_t[]){3}, 1);
	cells(b.fdt, gic, "reg", (uint32_t[]){0, 0x08000000, 0, 0x10000, 0, 0x080a0000, 0, 0x60000},
	      8);
	ck_assert_uint_eq(fdt_get_phandle(b.fdt, node(b.fdt, gic)), ARM64_FDT_PHANDLE_GIC);
	ck_assert_str_eq(str(b.fdt, its, "compatible"), "arm,gic-v3-its");
	ck_assert_ptr_nonnull(fdt_getprop(b.fdt, node(b.fdt, its), "msi-controller", NULL));
	cells(b.fdt, its, "reg", (uint32_t[]){0, 0x08080000, 0, 0x20000}, 4);
	ck_assert_uint_eq(fdt_get_phandle(b.fdt, node(b.fdt, its)), ARM64_FDT_PHANDLE_ITS);
	ck_assert_str_eq(str(b.fdt, pci, "compatible"), "pci-host-ecam-generic");
	cells(b.fdt, pci, "reg", (uint32_t[]){0, 0x3f000000, 0, 0x100000}, 4);
	cells(b.fdt, pci, "bus-range", (uint32_t[]){0, 0}, 2);
	/* Requester id N is ITS device id N: what the MSI routes carry. */
	cells(b.fdt, pci, "msi-map", (uint32_t[]){0, ARM64_FDT_PHANDLE_ITS, 0, 0x10000}, 4);
	cells(b.fdt, pci, "ranges",
	      (uint32_t[]){0x02000000, 0, 0x10000000, 0, 0x10000000, 0, 0x2eff0000}, 7);
	free(b.fdt);
	build(&b, true, false);
	ck_assert_int_lt(fdt_path_offset(b.fdt, pci), 0);
	free(b.fdt);
}
END_TEST

START_TEST(test_platform_devices)
{
	struct built b;

	build(&b, true, true);
	ck_assert_str_eq(str(b.fdt, "/uart@9000000", "compatible"), "ns16550a");
	cells(b.fdt, "/uart@9000000", "interrupts", (uint32_t[]){0, ARM64_UART_SPI, 4}, 3);
	cells(b.fdt, "/uart@9000000", "reg", (uint32_t[]){0, 0x09000000, 0, 0x1000}, 4);
	cells(b.fdt, "/uart@9000000", "clock-frequency", (uint32_t[]){ARM64_UART_CLOCK}, 1);
	ck_assert_str_eq(str(b.fdt, "/pvpanic@9010000", "compatible"), "qemu,pvpanic-mmio");
	ck_assert_str_eq(str(b.fdt, "/debug-exit@9020000", "compatible"), "vmm,debug-exit");
	cells(b.fdt, "/debug-exit@9020000", "reg",
	      (uint32_t[]){0, (uint32_t)ARM64_DEBUG_EXIT_BASE, 0, 1}, 4);
	free(b.fdt);
}
END_TEST

START_TEST(test_too_small_buffer)
{
	struct built b;
	uint8_t small[512];

	build(&b, true, true);
	ck_assert_int_eq(arm64_fdt_build(small, sizeof(small), &b.d), -ENOSPC);
	b.d.initrd_end = 0;
	ck_assert_int_gt(arm64_fdt_build(b.fdt, ARM64_FDT_MAX_SIZE, &b.d), 0);
	ck_assert_ptr_null(fdt_getprop(b.fdt, node(b.fdt, "/chosen"), "linux,initrd-start", NULL));
	free(b.fdt);
}
END_TEST

static Suite *fdt_suite(void)
{
	Suite *s = suite_create("arm64_fdt");
	TCase *tc = tcase_create("nodes");

	tcase_add_test(tc, test_root_memory_chosen);
	tcase_add_test(tc, test_cpus_psci_timer_pmu);
	tcase_add_test(tc, test_gic_its_pci);
	tcase_add_test(tc, test_platform_devices);
	tcase_add_test(tc, test_too_small_buffer);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(fdt_suite)
