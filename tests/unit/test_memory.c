/* Guest memory: memfd regions, the checked accessor, the x86 RAM layout and the I/O bus. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "arch/arch.h"
#include "arch/x86_64/layout.h"
#include "tests/unit/check_main.h"
#include "vmm/iobus.h"
#include "vmm/memory.h"

START_TEST(test_accessor_bounds)
{
	struct ram_range ranges[] = {{0, 1 << 20}, {1ull << 32, 1 << 20}};
	struct guest_memory mem;

	ck_assert_int_eq(guest_memory_init(&mem, ranges, 2), 0);
	ck_assert_ptr_nonnull(guest_memory_ptr(&mem, 0, 1 << 20));
	ck_assert_ptr_null(guest_memory_ptr(&mem, 0, (1 << 20) + 1));
	ck_assert_ptr_null(guest_memory_ptr(&mem, (1 << 20) - 4, 8));
	ck_assert_ptr_nonnull(guest_memory_ptr(&mem, (1 << 20) - 4, 4));
	ck_assert_ptr_null(guest_memory_ptr(&mem, 1 << 20, 1));
	ck_assert_ptr_nonnull(guest_memory_ptr(&mem, (1ull << 32) + 100, 100));
	/* Length overflow must not wrap around into a valid range. */
	ck_assert_ptr_null(guest_memory_ptr(&mem, 16, UINT64_MAX));
	ck_assert_ptr_null(guest_memory_ptr(&mem, UINT64_MAX, 2));
	guest_memory_destroy(&mem);
}
END_TEST

START_TEST(test_read_write_and_seals)
{
	struct ram_range range = {0x1000, 0x4000};
	struct guest_memory mem;
	char buf[6];

	ck_assert_int_eq(guest_memory_init(&mem, &range, 1), 0);
	ck_assert_int_eq(guest_memory_write(&mem, 0x2000, "hello", 6), 0);
	ck_assert_int_eq(guest_memory_read(&mem, 0x2000, buf, 6), 0);
	ck_assert_str_eq(buf, "hello");
	ck_assert_int_eq(guest_memory_write(&mem, 0xfff, "x", 1), -EFAULT);
	ck_assert_int_eq(guest_memory_read(&mem, 0x4ffe, buf, 4), -EFAULT);
	/* A peer holding the fd cannot shrink guest RAM. */
	ck_assert_int_ne(ftruncate(mem.regions[0].fd, 0x1000), 0);
	ck_assert_int_eq(fcntl(mem.regions[0].fd, F_GET_SEALS) & F_SEAL_SHRINK, F_SEAL_SHRINK);
	guest_memory_destroy(&mem);
}
END_TEST

START_TEST(test_x86_layout)
{
	struct ram_range r[4];

	ck_assert_int_eq(arch_ram_ranges(256ull << 20, r, 4), 1);
	ck_assert_uint_eq(r[0].gpa, 0);
	ck_assert_uint_eq(r[0].size, 256ull << 20);
	ck_assert_int_eq(arch_ram_ranges(4ull << 30, r, 4), 2);
	ck_assert_uint_eq(r[0].size, X86_LOWMEM_END);
	ck_assert_uint_eq(r[1].gpa, X86_HIGHMEM_START);
	ck_assert_uint_eq(r[0].size + r[1].size, 4ull << 30);
}
END_TEST

static unsigned reads, writes;

static void dev_read(void *opaque, uint64_t offset, void *data, unsigned len)
{
	(void)opaque;
	memset(data, (int)offset, len);
	reads++;
}

static void dev_write(void *opaque, uint64_t offset, const void *data, unsigned len)
{
	(void)opaque;
	(void)offset;
	(void)data;
	(void)len;
	writes++;
}

static const struct io_ops dev_ops = {dev_read, dev_write};

START_TEST(test_io_bus)
{
	struct io_bus bus;
	uint32_t v = 0;
	int a, b;

	io_bus_init(&bus, "test");
	ck_assert_int_eq(io_bus_register(&bus, 0x100, 8, &dev_ops, &a), 0);
	ck_assert_int_eq(io_bus_register(&bus, 0x10, 4, &dev_ops, &b), 0);
	ck_assert_int_eq(io_bus_register(&bus, 0x104, 8, &dev_ops, &b), -EEXIST);
	ck_assert_int_eq(io_bus_register(&bus, 0x0, 0, &dev_ops, &b), -EINVAL);
	ck_assert_int_eq(io_bus_register(&bus, UINT64_MAX - 1, 4, &dev_ops, &b), -EINVAL);
	ck_assert(io_bus_access(&bus, 0x103, &v, 1, false));
	ck_assert_uint_eq(v & 0xff, 3);
	/* Straddling the end of a range reads all-ones and reaches no device. */
	reads = 0;
	ck_assert(!io_bus_access(&bus, 0x106, &v, 4, false));
	ck_assert_uint_eq(v, 0xffffffff);
	ck_assert_uint_eq(reads, 0);
	ck_assert(!io_bus_access(&bus, 0x50, &v, 4, true));
	ck_assert_uint_eq(writes, 0);
	ck_assert_int_eq(io_bus_unregister(&bus, 0x100, &b), -ENOENT);
	ck_assert_int_eq(io_bus_unregister(&bus, 0x100, &a), 0);
	ck_assert(!io_bus_access(&bus, 0x100, &v, 1, false));
	ck_assert(io_bus_access(&bus, 0x10, &v, 4, true));
	ck_assert_uint_eq(writes, 1);
}
END_TEST

static Suite *memory_suite(void)
{
	Suite *s = suite_create("memory");
	TCase *tc = tcase_create("memory");

	tcase_add_test(tc, test_accessor_bounds);
	tcase_add_test(tc, test_read_write_and_seals);
	tcase_add_test(tc, test_x86_layout);
	tcase_add_test(tc, test_io_bus);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(memory_suite)
