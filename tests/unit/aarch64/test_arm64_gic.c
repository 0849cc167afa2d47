/* GIC/ITS layout for a vCPU count, and the MPIDR to device-tree reg mapping. */
#include <errno.h>
#include <linux/kvm.h>

#include "arch/aarch64/aarch64.h"
#include "arch/aarch64/layout.h"
#include "tests/unit/check_main.h"

static int overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

START_TEST(test_layout_scales_with_vcpus)
{
	const unsigned counts[] = {1, 2, 16, 64, 123};

	for (unsigned i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		struct arm64_gic_layout l;

		ck_assert_int_eq(arm64_gic_layout(counts[i], &l), 0);
		ck_assert_uint_eq(l.redist_size, counts[i] * 0x20000ull);
		ck_assert_uint_eq(l.dist_base, 0x08000000);
		ck_assert_uint_eq(l.its_base, 0x08080000);
		ck_assert(!overlap(l.dist_base, l.dist_size, l.its_base, l.its_size));
		ck_assert(!overlap(l.its_base, l.its_size, l.redist_base, l.redist_size));
		ck_assert(!overlap(l.dist_base, l.dist_size, l.redist_base, l.redist_size));
		/* Nothing of the GIC may reach the UART's page. */
		ck_assert_uint_le(l.redist_base + l.redist_size, ARM64_UART_BASE);
		/* KVM wants 64 KiB-aligned frames. */
		ck_assert_uint_eq(l.redist_base & 0xffff, 0);
		ck_assert_uint_eq(l.its_base & 0xffff, 0);
	}
}
END_TEST

START_TEST(test_layout_refuses_what_does_not_fit)
{
	struct arm64_gic_layout l;

	ck_assert_int_eq(arm64_gic_layout(0, &l), -E2BIG);
	ck_assert_int_eq(arm64_gic_layout(124, &l), -E2BIG);
}
END_TEST

/* KVM's reset MPIDR: bit 31 (RES1) set, Aff0 = id & 0xf, Aff1 = id >> 4, Aff2 = id >> 12. */
static uint64_t kvm_reset_mpidr(unsigned id)
{
	return 0x80000000ull | (id & 0xf) | (((id >> 4) & 0xff) << 8) |
	       (((uint64_t)(id >> 12) & 0xff) << 16);
}

START_TEST(test_mpidr_to_reg)
{
	ck_assert_uint_eq(arm64_mpidr_to_fdt_reg(0x80000000), 0);
	ck_assert_uint_eq(arm64_mpidr_to_fdt_reg(kvm_reset_mpidr(17)), 0x101);
	/* MT (bit 24) and U (bit 30) are not affinity; Aff3 (bits 32-39) is. */
	ck_assert_uint_eq(arm64_mpidr_to_fdt_reg(0x41000000ull | 3), 3);
	ck_assert_uint_eq(arm64_mpidr_to_fdt_reg(0x2580000000ull | 0x010203), 0x2500010203ull);
	/* Distinct past 16 vCPUs, where a made-up "reg = index" would be wrong. */
	for (unsigned a = 0; a < 64; a++)
		for (unsigned b = a + 1; b < 64; b++)
			ck_assert_uint_ne(arm64_mpidr_to_fdt_reg(kvm_reset_mpidr(a)),
					  arm64_mpidr_to_fdt_reg(kvm_reset_mpidr(b)));
	ck_assert_uint_ne(arm64_mpidr_to_fdt_reg(kvm_reset_mpidr(16)), 16);
}
END_TEST

START_TEST(test_spi_irq_line)
{
	ck_assert_uint_eq(arm64_spi_irq_line(ARM64_UART_SPI),
			  (KVM_ARM_IRQ_TYPE_SPI << KVM_ARM_IRQ_TYPE_SHIFT) | 33);
	ck_assert_uint_lt(ARM64_GIC_SPI_BASE + ARM64_UART_SPI, ARM64_GIC_NR_IRQS);
	ck_assert_uint_eq(ARM64_GIC_NR_IRQS % 32, 0);
}
END_TEST

static Suite *gic_suite(void)
{
	Suite *s = suite_create("arm64_gic");
	TCase *tc = tcase_create("layout");

	tcase_add_test(tc, test_layout_scales_with_vcpus);
	tcase_add_test(tc, test_layout_refuses_what_does_not_fit);
	tcase_add_test(tc, test_mpidr_to_reg);
	tcase_add_test(tc, test_spi_irq_line);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(gic_suite)
