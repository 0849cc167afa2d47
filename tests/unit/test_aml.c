/* Unit tests for the AML encoder: PkgLength, integers, names, EISA ids, resource templates. */
#include <errno.h>
#include <string.h>

#include "arch/x86_64/aml.h"
#include "tests/unit/check_main.h"
#include "vmm/util.h"

/* Decodes a PkgLength field; returns its byte count and stores the value. */
static unsigned pkglen_decode(const uint8_t *p, uint32_t *value)
{
	unsigned follow = p[0] >> 6;

	if (!follow) {
		*value = p[0] & 0x3f;
		return 1;
	}
	*value = p[0] & 0x0f;
	for (unsigned i = 1; i <= follow; i++)
		*value |= (uint32_t)p[i] << (4 + 8 * (i - 1));
	return follow + 1;
}

START_TEST(pkglen_raw_boundaries)
{
	static const struct {
		uint32_t value;
		unsigned n;
		uint8_t bytes[4];
	} cases[] = {
	    {0, 1, {0x00}},
	    {63, 1, {0x3f}},
	    {64, 2, {0x40, 0x04}},
	    {4095, 2, {0x4f, 0xff}},
	    {4096, 3, {0x80, 0x00, 0x01}},
	    {0xfffff, 3, {0x8f, 0xff, 0xff}},
	    {0x100000, 4, {0xc0, 0x00, 0x00, 0x01}},
	    {AML_PKGLEN_MAX, 4, {0xcf, 0xff, 0xff, 0xff}},
	};
	uint8_t out[4];

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		uint32_t back;

		memset(out, 0xaa, sizeof(out));
		ck_assert_uint_eq(aml_pkglen_encode(cases[i].value, out), cases[i].n);
		ck_assert_mem_eq(out, cases[i].bytes, cases[i].n);
		ck_assert_uint_eq(pkglen_decode(out, &back), cases[i].n);
		ck_assert_uint_eq(back, cases[i].value);
	}
	ck_assert_uint_eq(aml_pkglen_encode(AML_PKGLEN_MAX + 1, out), 0);
}
END_TEST

START_TEST(pkglen_counts_itself)
{
	static const struct {
		size_t body;
		unsigned n;
	} cases[] = {
	    {0, 1},    {62, 1},	     {63, 2},	   {4093, 2},
	    {4094, 3}, {0xffffc, 3}, {0xffffd, 4}, {AML_PKGLEN_MAX - 4, 4},
	};
	uint8_t out[4];

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		uint32_t value;

		ck_assert_uint_eq(aml_pkglen_for_body(cases[i].body, out), cases[i].n);
		ck_assert_uint_eq(pkglen_decode(out, &value), cases[i].n);
		ck_assert_uint_eq(value, cases[i].body + cases[i].n);
	}
	ck_assert_uint_eq(aml_pkglen_for_body(AML_PKGLEN_MAX - 3, out), 0);
}
END_TEST

/* A package whose contents straddle each PkgLength size keeps them intact. */
START_TEST(pkg_end_inserts_length)
{
	static uint8_t data[8192];
	static const size_t sizes[] = {0, 62, 63, 64, 4093, 4094, 5000};
	struct aml_buf b;

	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		size_t mark, body = sizes[i];
		uint32_t value;
		unsigned n;

		aml_buf_init(&b, data, sizeof(data));
		aml_put8(&b, 0x10);
		mark = aml_pkg_begin(&b);
		for (size_t j = 0; j < body; j++)
			aml_put8(&b, (uint8_t)(j * 7 + 1));
		aml_pkg_end(&b, mark);
		ck_assert_int_eq(b.err, 0);
		n = pkglen_decode(data + 1, &value);
		ck_assert_uint_eq(value, body + n);
		ck_assert_uint_eq(b.len, 1 + n + body);
		for (size_t j = 0; j < body; j++)
			ck_assert_uint_eq(data[1 + n + j], (uint8_t)(j * 7 + 1));
	}
}
END_TEST

static void expect_integer(uint64_t v, const uint8_t *bytes, size_t n)
{
	uint8_t data[16];
	struct aml_buf b;

	aml_buf_init(&b, data, sizeof(data));
	aml_integer(&b, v);
	ck_assert_int_eq(b.err, 0);
	ck_assert_uint_eq(b.len, n);
	ck_assert_mem_eq(data, bytes, n);
}

START_TEST(integer_shortest_encoding)
{
	expect_integer(0, (const uint8_t[]){0x00}, 1);
	expect_integer(1, (const uint8_t[]){0x01}, 1);
	expect_integer(2, (const uint8_t[]){0x0a, 0x02}, 2);
	expect_integer(0xff, (const uint8_t[]){0x0a, 0xff}, 2);
	expect_integer(0x100, (const uint8_t[]){0x0b, 0x00, 0x01}, 3);
	expect_integer(0xffff, (const uint8_t[]){0x0b, 0xff, 0xff}, 3);
	expect_integer(0x10000, (const uint8_t[]){0x0c, 0x00, 0x00, 0x01, 0x00}, 5);
	expect_integer(0xffffffff, (const uint8_t[]){0x0c, 0xff, 0xff, 0xff, 0xff}, 5);
	expect_integer(0x100000000ull,
		       (const uint8_t[]){0x0e, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00}, 9);
	expect_integer(0x0123456789abcdefull,
		       (const uint8_t[]){0x0e, 0xef, 0xcd, 0xab, 0x89, 0x67, 0x45, 0x23, 0x01}, 9);
}
END_TEST

START_TEST(eisaid_values)
{
	uint32_t v;

	ck_assert_int_eq(aml_eisaid_encode("PNP0A08", &v), 0);
	ck_assert_uint_eq(v, 0x080ad041);
	ck_assert_int_eq(aml_eisaid_encode("PNP0A03", &v), 0);
	ck_assert_uint_eq(v, 0x030ad041);
	ck_assert_int_eq(aml_eisaid_encode("PNP0C02", &v), 0);
	ck_assert_uint_eq(v, 0x020cd041);
	ck_assert_int_eq(aml_eisaid_encode("PNP0501", &v), 0);
	ck_assert_uint_eq(v, 0x0105d041);
	ck_assert_int_eq(aml_eisaid_encode("pnp0a08", &v), -EINVAL);
	ck_assert_int_eq(aml_eisaid_encode("PNP0A0", &v), -EINVAL);
	ck_assert_int_eq(aml_eisaid_encode("PNP0A0G", &v), -EINVAL);
	ck_assert_int_eq(aml_eisaid_encode("PNP0A080", &v), -EINVAL);
}
END_TEST

static void expect_name(const char *path, const char *bytes, size_t n)
{
	uint8_t data[32];
	struct aml_buf b;

	aml_buf_init(&b, data, sizeof(data));
	aml_namestring(&b, path);
	ck_assert_msg(b.err == 0, "%s: err %d", path, b.err);
	ck_assert_uint_eq(b.len, n);
	ck_assert_mem_eq(data, bytes, n);
}

START_TEST(namestring_forms)
{
	static const char *bad[] = {"", "pci0", "TOOLONG", "A..B", "1ABC", "A.", "\\\\A", "A-B"};

	expect_name("PCI0", "PCI0", 4);
	expect_name("_SB", "_SB_", 4);
	expect_name("\\_S5", "\\_S5_", 5);
	expect_name("\\_SB.PCI0", "\\\x2e_SB_PCI0", 10);
	expect_name("A.B.C",
		    "\x2f\x03"
		    "A___B___C___",
		    14);
	expect_name("\\", "\\\x00", 2);
	expect_name("^^FOO", "^^FOO_", 6);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		uint8_t data[32];
		struct aml_buf b;

		aml_buf_init(&b, data, sizeof(data));
		aml_namestring(&b, bad[i]);
		ck_assert_msg(b.err == -EINVAL, "\"%s\" accepted", bad[i]);
		ck_assert_uint_eq(b.len, 0);
	}
}
END_TEST

START_TEST(name_package_and_string)
{
	static const uint8_t s5[] = {0x08, '\\', '_',  'S',  '5',  '_',	 0x12,
				     0x07, 0x04, 0x0a, 0x05, 0x00, 0x00, 0x00};
	static const uint8_t hid[] = {0x08, '_', 'H', 'I', 'D', 0x0d, 'Q', 'E',
				      'M',  'U', '0', '0', '0', '1',  0x00};
	uint8_t data[64];
	struct aml_buf b;
	size_t pkg;

	aml_buf_init(&b, data, sizeof(data));
	aml_name(&b, "\\_S5");
	pkg = aml_package_begin(&b, 4);
	aml_integer(&b, 5);
	aml_integer(&b, 0);
	aml_integer(&b, 0);
	aml_integer(&b, 0);
	aml_pkg_end(&b, pkg);
	ck_assert_int_eq(b.err, 0);
	ck_assert_uint_eq(b.len, sizeof(s5));
	ck_assert_mem_eq(data, s5, sizeof(s5));

	aml_buf_init(&b, data, sizeof(data));
	aml_name(&b, "_HID");
	aml_string(&b, "QEMU0001");
	ck_assert_int_eq(b.err, 0);
	ck_assert_uint_eq(b.len, sizeof(hid));
	ck_assert_mem_eq(data, hid, sizeof(hid));
}
END_TEST

START_TEST(device_with_resource_template)
{
	/* Device(COM1){Name(_CRS, ResourceTemplate(){IO(Decode16,0x3f8,0x3f8,1,8)
	 * IRQNoFlags(){4}})} */
	static const uint8_t expect[] = {
	    0x5b, 0x82, 0x1b, 'C',  'O',  'M',	'1',  0x08, '_',  'C',
	    'R',  'S',	0x11, 0x10, 0x0a, 0x0d, 0x47, 0x01, 0xf8, 0x03,
	    0xf8, 0x03, 0x01, 0x08, 0x22, 0x10, 0x00, 0x79, 0x00,
	};
	uint8_t data[64];
	struct aml_buf b;
	size_t dev, rt;

	aml_buf_init(&b, data, sizeof(data));
	dev = aml_device_begin(&b, "COM1");
	aml_name(&b, "_CRS");
	rt = aml_restemplate_begin(&b);
	aml_res_io(&b, 0x3f8, 0x3f8, 1, 8);
	aml_res_irq_noflags(&b, 4);
	aml_restemplate_end(&b, rt);
	aml_pkg_end(&b, dev);
	ck_assert_int_eq(b.err, 0);
	ck_assert_uint_eq(b.len, sizeof(expect));
	ck_assert_mem_eq(data, expect, sizeof(expect));
}
END_TEST

START_TEST(address_descriptors)
{
	static const uint8_t bus[] = {0x88, 0x0d, 0x00, 0x02, 0x0c, 0x00, 0x00, 0x00,
				      0x00, 0x00, 0xff, 0x00, 0x00, 0x00, 0x00, 0x01};
	static const uint8_t mem[] = {0x87, 0x17, 0x00, 0x00, 0x0d, 0x01, 0,	0,    0,
				      0,    0x00, 0x00, 0x00, 0xb0, 0xff, 0xff, 0x0f, 0xb0,
				      0,    0,	  0,	0,    0x00, 0x00, 0x10, 0x00};
	uint8_t data[64];
	struct aml_buf b;

	aml_buf_init(&b, data, sizeof(data));
	aml_res_word_bus_number(&b, 0, 0xff);
	ck_assert_int_eq(b.err, 0);
	ck_assert_uint_eq(b.len, 16);
	ck_assert_mem_eq(data, bus, sizeof(bus));

	aml_buf_init(&b, data, sizeof(data));
	aml_res_dword_memory(&b, false, 0xb0000000, 0xb00fffff);
	ck_assert_int_eq(b.err, 0);
	ck_assert_uint_eq(b.len, 26);
	ck_assert_mem_eq(data, mem, sizeof(mem));

	aml_buf_init(&b, data, sizeof(data));
	aml_res_qword_memory(&b, true, 0x100000000ull, 0x1ffffffffull);
	ck_assert_int_eq(b.err, 0);
	ck_assert_uint_eq(b.len, 46);
	ck_assert_uint_eq(data[0], 0x8a);
	ck_assert_uint_eq(get_le_n(data + 1, 2), 43);
	ck_assert_uint_eq(data[4], 0x0c); /* producer, min and max fixed */
	ck_assert_uint_eq(get_le_n(data + 14, 8), 0x100000000ull);
	ck_assert_uint_eq(get_le_n(data + 38, 8), 0x100000000ull); /* length */

	aml_buf_init(&b, data, sizeof(data));
	aml_res_word_io(&b, 0, 0xffff); /* length 0x10000 does not fit a Word */
	ck_assert_int_eq(b.err, -EINVAL);
	aml_buf_init(&b, data, sizeof(data));
	aml_res_dword_memory(&b, true, 2, 1);
	ck_assert_int_eq(b.err, -EINVAL);
	aml_buf_init(&b, data, sizeof(data));
	aml_res_irq_noflags(&b, 16);
	ck_assert_int_eq(b.err, -EINVAL);
}
END_TEST

START_TEST(buffer_overflow_is_sticky_and_bounded)
{
	uint8_t data[16];
	struct aml_buf b;
	size_t mark;

	memset(data, 0xa5, sizeof(data));
	aml_buf_init(&b, data, 8);
	aml_put32(&b, 0x11223344);
	aml_put32(&b, 0x55667788);
	ck_assert_int_eq(b.err, 0);
	aml_put8(&b, 0xee);
	ck_assert_int_eq(b.err, -ENOSPC);
	aml_buf_init(&b, data, 8); /* later writes stay no-ops after a failure */
	aml_put64(&b, 0);
	aml_put8(&b, 1);
	aml_put_zeros(&b, 0);
	ck_assert_int_eq(b.err, -ENOSPC);
	ck_assert_uint_eq(b.len, 8);

	/* Inserting the PkgLength needs room too. */
	aml_buf_init(&b, data, 8);
	aml_put8(&b, 0x10);
	mark = aml_pkg_begin(&b);
	aml_put_zeros(&b, 7);
	aml_pkg_end(&b, mark);
	ck_assert_int_eq(b.err, -ENOSPC);
	for (size_t i = 8; i < sizeof(data); i++)
		ck_assert_uint_eq(data[i], 0xa5);
}
END_TEST

static Suite *aml_suite(void)
{
	Suite *s = suite_create("aml");
	TCase *tc = tcase_create("encoder");

	tcase_add_test(tc, pkglen_raw_boundaries);
	tcase_add_test(tc, pkglen_counts_itself);
	tcase_add_test(tc, pkg_end_inserts_length);
	tcase_add_test(tc, integer_shortest_encoding);
	tcase_add_test(tc, eisaid_values);
	tcase_add_test(tc, namestring_forms);
	tcase_add_test(tc, name_package_and_string);
	tcase_add_test(tc, device_with_resource_template);
	tcase_add_test(tc, address_descriptors);
	tcase_add_test(tc, buffer_overflow_is_sticky_and_bounded);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(aml_suite)
