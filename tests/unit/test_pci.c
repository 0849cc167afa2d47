/* Unit tests for the PCI bus: config access, masks, BAR sizing and relocation, capabilities. */
#include <errno.h>
#include <linux/pci_regs.h>
#include <stdlib.h>
#include <string.h>

#include "pci/pci.h"
#include "tests/lib/fake_vm.h"
#include "tests/unit/check_main.h"
#include "vmm/vm.h"

#define RAM_SIZE (16u << 20)
#define ECAM 0xe0000000ull
#define MMIO_BASE 0xc0000000ull
#define MMIO_SIZE 0x20000000ull
#define IO_BASE 0xc000
#define IO_SIZE 0x4000

struct fixture {
	struct vm vm;
	struct pci_bus bus;
	struct pci_function fn;
	unsigned moved_calls;
	bool last_mapped;
	uint64_t last_addr;
	unsigned last_bar;
};

static void bar_rw(void *opaque, uint64_t off, void *data, unsigned len)
{
	(void)opaque;
	(void)off;
	memset(data, 0x5a, len);
}

static void bar_w(void *opaque, uint64_t off, const void *data, unsigned len)
{
	(void)opaque;
	(void)off;
	(void)data;
	(void)len;
}

static const struct io_ops dummy_ops = {.read = bar_rw, .write = bar_w};

static void on_moved(void *opaque, unsigned bar, bool mapped, uint64_t addr)
{
	struct fixture *f = opaque;

	f->moved_calls++;
	f->last_bar = bar;
	f->last_mapped = mapped;
	f->last_addr = addr;
}

static struct fixture *setup(void)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct ram_range ram = {0, RAM_SIZE};

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(test_vm_init(&f->vm, &ram, 1), 0);
	ck_assert_int_eq(
	    pci_bus_init(&f->bus, &f->vm,
			 &(struct pci_windows){ECAM, MMIO_BASE, MMIO_SIZE, IO_BASE, IO_SIZE}),
	    0);
	return f;
}

static void teardown(struct fixture *f)
{
	pci_bus_destroy(&f->bus);
	ck_assert_uint_eq(f->vm.mmio.nranges, 0);
	ck_assert_uint_eq(f->vm.pio.nranges, 0);
	test_vm_destroy(&f->vm);
	free(f);
}

/* A function with BAR0 MEM32 16K, BAR2 IO 32, BAR3-4 MEM64 prefetchable 1M. */
static void add_test_function(struct fixture *f)
{
	pci_function_init(&f->fn, "test", 0x1234, 0x5678, 0x020000, 3);
	ck_assert_int_eq(
	    pci_function_add_bar(&f->fn, 0, PCI_BAR_MEM32, false, 0x4000, &dummy_ops, f, on_moved),
	    0);
	ck_assert_int_eq(
	    pci_function_add_bar(&f->fn, 2, PCI_BAR_IO, false, 0x20, &dummy_ops, f, on_moved), 0);
	ck_assert_int_eq(
	    pci_function_add_bar(&f->fn, 3, PCI_BAR_MEM64, true, 0x100000, &dummy_ops, f, on_moved),
	    0);
	ck_assert_int_eq(pci_register_function(&f->bus, &f->fn), 0);
	ck_assert_uint_eq(f->fn.slot, 1);
}

static uint32_t pio_read(struct fixture *f, uint16_t port, unsigned len)
{
	uint32_t v = 0;

	io_bus_access(&f->vm.pio, port, &v, len, false);
	return v;
}

static void pio_write(struct fixture *f, uint16_t port, uint32_t v, unsigned len)
{
	io_bus_access(&f->vm.pio, port, &v, len, true);
}

static uint32_t cf8_read(struct fixture *f, unsigned slot, unsigned reg, unsigned len)
{
	pio_write(f, 0xcf8, 0x80000000u | slot << 11 | (reg & 0xfc), 4);
	return pio_read(f, (uint16_t)(0xcfc + (reg & 3)), len);
}

static void cf8_write(struct fixture *f, unsigned slot, unsigned reg, uint32_t v, unsigned len)
{
	pio_write(f, 0xcf8, 0x80000000u | slot << 11 | (reg & 0xfc), 4);
	pio_write(f, (uint16_t)(0xcfc + (reg & 3)), v, len);
}

static uint32_t ecam_read(struct fixture *f, unsigned slot, unsigned reg, unsigned len)
{
	uint32_t v = 0;

	io_bus_access(&f->vm.mmio, ECAM + (slot << 15) + reg, &v, len, false);
	return v;
}

static void ecam_write(struct fixture *f, unsigned slot, unsigned reg, uint32_t v, unsigned len)
{
	io_bus_access(&f->vm.mmio, ECAM + (slot << 15) + reg, &v, len, true);
}

START_TEST(host_bridge_via_cf8_and_ecam)
{
	struct fixture *f = setup();

	ck_assert_uint_eq(cf8_read(f, 0, 0, 4), 0x00081b36);
	ck_assert_uint_eq(cf8_read(f, 0, 0x08, 4) >> 8, 0x060000);
	ck_assert_uint_eq(cf8_read(f, 0, 0x02, 2), 0x0008);
	ck_assert_uint_eq(cf8_read(f, 0, 0x01, 1), 0x1b);
	ck_assert_uint_eq(cf8_read(f, 0, 0x03, 1), 0x00);
	ck_assert_uint_eq(ecam_read(f, 0, 0, 4), 0x00081b36);
	ck_assert_uint_eq(ecam_read(f, 0, 0x0b, 1), 0x06);
	/* Empty slots, other functions, other buses and the disabled latch float high. */
	ck_assert_uint_eq(cf8_read(f, 7, 0, 4), 0xffffffff);
	ck_assert_uint_eq(ecam_read(f, 7, 0, 2), 0xffff);
	ck_assert_uint_eq(ecam_read(f, 0, 0x1000, 4), 0xffffffff); /* function 1 */
	pio_write(f, 0xcf8, 0x00000000, 4);
	ck_assert_uint_eq(pio_read(f, 0xcfc, 4), 0xffffffff);
	pio_write(f, 0xcf8, 0x80010000, 4); /* bus 1 */
	ck_assert_uint_eq(pio_read(f, 0xcfc, 4), 0xffffffff);
	/* The latch reads back; byte writes to it are not config cycles. */
	pio_write(f, 0xcf8, 0x80000010, 4);
	ck_assert_uint_eq(pio_read(f, 0xcf8, 4), 0x80000010);
	pio_write(f, 0xcf9, 0x06, 1);
	ck_assert_uint_eq(pio_read(f, 0xcf8, 4), 0x80000010);
	/* Extended config space of a present function reads 0 (no capabilities). */
	ck_assert_uint_eq(ecam_read(f, 0, 0x100, 4), 0);
	teardown(f);
}
END_TEST

START_TEST(read_only_fields_and_masks)
{
	struct fixture *f = setup();

	add_test_function(f);
	cf8_write(f, 1, PCI_VENDOR_ID, 0xffffffff, 4);
	ck_assert_uint_eq(cf8_read(f, 1, PCI_VENDOR_ID, 4), 0x56781234);
	cf8_write(f, 1, PCI_CLASS_REVISION, 0, 4);
	ck_assert_uint_eq(cf8_read(f, 1, PCI_CLASS_REVISION, 4), 0x02000003);
	ecam_write(f, 1, PCI_HEADER_TYPE, 0x80, 1);
	ck_assert_uint_eq(ecam_read(f, 1, PCI_HEADER_TYPE, 1), 0);
	ecam_write(f, 1, PCI_INTERRUPT_PIN, 1, 1);
	ck_assert_uint_eq(ecam_read(f, 1, PCI_INTERRUPT_PIN, 1), 0);
	ecam_write(f, 1, PCI_INTERRUPT_LINE, 11, 1);
	ck_assert_uint_eq(ecam_read(f, 1, PCI_INTERRUPT_LINE, 1), 11);
	/* Command keeps only implemented bits; BAR decode off again afterwards. */
	ecam_write(f, 1, PCI_COMMAND, 0xffff, 2);
	ck_assert_uint_eq(ecam_read(f, 1, PCI_COMMAND, 2), 0x0547);
	ecam_write(f, 1, PCI_COMMAND, 0, 2);
	/* Status: error bits are write-one-to-clear, the rest read-only. */
	f->fn.cfg.hdr.status |= PCI_STATUS_REC_MASTER_ABORT | PCI_STATUS_PARITY;
	ecam_write(f, 1, PCI_STATUS, 0, 2);
	ck_assert_uint_eq(ecam_read(f, 1, PCI_STATUS, 2) & PCI_STATUS_REC_MASTER_ABORT,
			  PCI_STATUS_REC_MASTER_ABORT);
	ecam_write(f, 1, PCI_STATUS, PCI_STATUS_REC_MASTER_ABORT | PCI_STATUS_CAP_LIST, 2);
	ck_assert_uint_eq(ecam_read(f, 1, PCI_STATUS, 2), PCI_STATUS_PARITY);
	/* Expansion ROM is not implemented: stays 0 even after a sizing probe. */
	ecam_write(f, 1, PCI_ROM_ADDRESS, 0xffffffff, 4);
	ck_assert_uint_eq(ecam_read(f, 1, PCI_ROM_ADDRESS, 4), 0);
	teardown(f);
}
END_TEST

START_TEST(odd_sizes_and_offsets)
{
	struct fixture *f = setup();

	add_test_function(f);
	ck_assert_uint_eq(pci_config_read(&f->fn, 3, 2), 0xffff); /* crosses a dword */
	ck_assert_uint_eq(pci_config_read(&f->fn, 0, 3), 0xffffff);
	ck_assert_uint_eq(pci_config_read(&f->fn, 4096, 4), 0xffffffff);
	pci_config_write(&f->fn, 0x3f, 0xffff, 2);
	pci_config_write(&f->fn, PCI_INTERRUPT_LINE, 0xff, 3);
	ck_assert_uint_eq(f->fn.cfg.hdr.interrupt_line, 0);
	ck_assert_uint_eq(f->fn.cfg.hdr.max_lat, 0);
	/* ECAM: misaligned and 8-byte accesses read all-ones, writes vanish. */
	ck_assert_uint_eq(ecam_read(f, 1, 1, 2), 0xffff);
	ck_assert_uint_eq(ecam_read(f, 1, 2, 4), 0xffffffff);
	ecam_write(f, 1, PCI_INTERRUPT_LINE + 1, 0x1234, 2);
	ck_assert_uint_eq(f->fn.cfg.hdr.interrupt_line, 0);
	/* 0xCFC window: a word at 0xCFE reads bytes 2-3 of the dword. */
	ck_assert_uint_eq(cf8_read(f, 1, 2, 2), 0x5678);
	ck_assert_uint_eq(cf8_read(f, 1, 3, 1), 0x56);
	/* A word at 0xCFF would straddle the window's end: dropped. */
	pio_write(f, 0xcf8, 0x80000800u, 4);
	ck_assert_uint_eq(pio_read(f, 0xcff, 2), 0xffff);
	teardown(f);
}
END_TEST

START_TEST(bar_sizing)
{
	struct fixture *f = setup();
	uint32_t bar0, bar2, bar3, bar4;

	add_test_function(f);
	bar0 = cf8_read(f, 1, PCI_BASE_ADDRESS_0, 4);
	ck_assert_uint_eq(bar0 & 0xf, 0);
	ck_assert_uint_ge(bar0, MMIO_BASE);
	ck_assert_uint_eq(bar0 % 0x4000, 0);
	ck_assert_uint_eq(cf8_read(f, 1, PCI_BASE_ADDRESS_2, 4) & 3, PCI_BASE_ADDRESS_SPACE_IO);
	cf8_write(f, 1, PCI_BASE_ADDRESS_0, 0xffffffff, 4);
	cf8_write(f, 1, PCI_BASE_ADDRESS_1, 0xffffffff, 4);
	cf8_write(f, 1, PCI_BASE_ADDRESS_2, 0xffffffff, 4);
	cf8_write(f, 1, PCI_BASE_ADDRESS_3, 0xffffffff, 4);
	cf8_write(f, 1, PCI_BASE_ADDRESS_4, 0xffffffff, 4);
	cf8_write(f, 1, PCI_BASE_ADDRESS_5, 0xffffffff, 4);
	bar2 = cf8_read(f, 1, PCI_BASE_ADDRESS_2, 4);
	bar3 = cf8_read(f, 1, PCI_BASE_ADDRESS_3, 4);
	bar4 = cf8_read(f, 1, PCI_BASE_ADDRESS_4, 4);
	ck_assert_uint_eq(cf8_read(f, 1, PCI_BASE_ADDRESS_0, 4), 0xffffc000);
	ck_assert_uint_eq(cf8_read(f, 1, PCI_BASE_ADDRESS_1, 4), 0); /* unused */
	ck_assert_uint_eq(bar2, 0xffffffe1);
	ck_assert_uint_eq(bar3, 0xfff0000c); /* 64-bit, prefetchable */
	ck_assert_uint_eq(bar4, 0xffffffff);
	ck_assert_uint_eq(cf8_read(f, 1, PCI_BASE_ADDRESS_5, 4), 0);
	/* Restoring the address restores the BAR, type bits untouched. */
	cf8_write(f, 1, PCI_BASE_ADDRESS_0, bar0, 4);
	ck_assert_uint_eq(cf8_read(f, 1, PCI_BASE_ADDRESS_0, 4), bar0);
	ck_assert_uint_eq(f->vm.mmio.nranges, 1); /* only ECAM: decode is off */
	teardown(f);
}
END_TEST

START_TEST(bar_relocation_moves_io_bus_ranges)
{
	struct fixture *f = setup();
	uint64_t bar0, bar3, moved = MMIO_BASE + 0x10000000;
	const struct io_range *r;

	add_test_function(f);
	bar0 = pci_bar_address(&f->fn, 0);
	bar3 = pci_bar_address(&f->fn, 3);
	ck_assert_ptr_null(io_bus_find(&f->vm.mmio, bar0));
	ecam_write(f, 1, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
	r = io_bus_find(&f->vm.mmio, bar0 + 0x3fff);
	ck_assert_ptr_nonnull(r);
	ck_assert_uint_eq(r->base, bar0);
	ck_assert_uint_eq(r->len, 0x4000);
	ck_assert_ptr_nonnull(io_bus_find(&f->vm.mmio, bar3));
	ck_assert_ptr_null(io_bus_find(&f->vm.pio, pci_bar_address(&f->fn, 2)));
	ck_assert_uint_eq(f->moved_calls, 2);
	/* Move BAR0: the old range goes, the new one appears, the owner hears both. */
	f->moved_calls = 0;
	ecam_write(f, 1, PCI_BASE_ADDRESS_0, (uint32_t)moved, 4);
	ck_assert_ptr_null(io_bus_find(&f->vm.mmio, bar0));
	r = io_bus_find(&f->vm.mmio, moved);
	ck_assert_ptr_nonnull(r);
	ck_assert_ptr_eq(r->opaque, f);
	ck_assert_uint_eq(f->moved_calls, 2);
	ck_assert(f->last_mapped);
	ck_assert_uint_eq(f->last_addr, moved);
	ck_assert_uint_eq(f->last_bar, 0);
	/* The 64-bit BAR moves when its halves are rewritten. */
	ecam_write(f, 1, PCI_BASE_ADDRESS_3, (uint32_t)(moved + 0x100000) | 0xc, 4);
	ck_assert_ptr_nonnull(io_bus_find(&f->vm.mmio, moved + 0x100000));
	ck_assert_ptr_null(io_bus_find(&f->vm.mmio, bar3));
	/* Port I/O decode maps the I/O BAR on the pio bus. */
	ecam_write(f, 1, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_IO, 2);
	ck_assert_ptr_nonnull(io_bus_find(&f->vm.pio, pci_bar_address(&f->fn, 2)));
	/* Decode off: everything unmapped, owner told with mapped false. */
	ecam_write(f, 1, PCI_COMMAND, 0, 2);
	ck_assert(!f->last_mapped);
	ck_assert_ptr_null(io_bus_find(&f->vm.mmio, moved));
	ck_assert_ptr_null(io_bus_find(&f->vm.pio, pci_bar_address(&f->fn, 2)));
	ck_assert_uint_eq(f->vm.mmio.nranges, 1);
	teardown(f);
}
END_TEST

START_TEST(bad_bar_placements_refused)
{
	struct fixture *f = setup();
	struct pci_function other;
	uint64_t bar0;

	add_test_function(f);
	pci_function_init(&other, "other", 0x1234, 0x1, 0xff0000, 0);
	ck_assert_int_eq(
	    pci_function_add_bar(&other, 0, PCI_BAR_MEM32, false, 0x4000, &dummy_ops, &other, NULL),
	    0);
	ck_assert_int_eq(pci_register_function(&f->bus, &other), 0);
	ck_assert_uint_eq(other.slot, 2);
	pci_config_write(&other, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
	bar0 = pci_bar_address(&f->fn, 0);
	ecam_write(f, 1, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
	ck_assert_ptr_nonnull(io_bus_find(&f->vm.mmio, bar0));
	/* Over RAM. */
	ecam_write(f, 1, PCI_BASE_ADDRESS_0, 0x100000, 4);
	ck_assert_ptr_null(io_bus_find(&f->vm.mmio, 0x100000));
	ck_assert(!f->fn.bars[0].mapped);
	/* Over the other device's BAR: refused, the other keeps its range. */
	ecam_write(f, 1, PCI_BASE_ADDRESS_0, (uint32_t)pci_bar_address(&other, 0), 4);
	ck_assert(!f->fn.bars[0].mapped);
	ck_assert_ptr_eq(io_bus_find(&f->vm.mmio, pci_bar_address(&other, 0))->opaque, &other);
	/* Over ECAM, outside the window. */
	ecam_write(f, 1, PCI_BASE_ADDRESS_0, (uint32_t)ECAM, 4);
	ck_assert(!f->fn.bars[0].mapped);
	ck_assert_ptr_eq(io_bus_find(&f->vm.mmio, ECAM)->opaque, &f->bus);
	/* 64-bit BAR above 4 GiB is outside the window too. */
	ecam_write(f, 1, PCI_BASE_ADDRESS_4, 1, 4);
	ck_assert(!f->fn.bars[3].mapped);
	/* Straddling the window's end. */
	ecam_write(f, 1, PCI_BASE_ADDRESS_0, (uint32_t)(MMIO_BASE + MMIO_SIZE - 0x2000), 4);
	ck_assert_uint_eq(pci_bar_address(&f->fn, 0), MMIO_BASE + MMIO_SIZE - 0x4000);
	ecam_write(f, 1, PCI_BASE_ADDRESS_0, (uint32_t)bar0, 4);
	ck_assert(f->fn.bars[0].mapped);
	teardown(f);
}
END_TEST

START_TEST(capability_walk)
{
	struct fixture *f = setup();
	uint8_t a, b, c, offset;
	unsigned seen = 0;

	pci_function_init(&f->fn, "caps", 0x1234, 0x5678, 0xff0000, 0);
	ck_assert_uint_eq(f->fn.cfg.hdr.status & PCI_STATUS_CAP_LIST, 0);
	a = pci_add_capability(&f->fn, PCI_CAP_ID_VNDR, 16);
	b = pci_add_capability(&f->fn, PCI_CAP_ID_MSIX, 12);
	c = pci_add_capability(&f->fn, PCI_CAP_ID_VNDR, 5);
	ck_assert_uint_eq(a, 0x40);
	ck_assert_uint_eq(b, 0x50);
	ck_assert_uint_eq(c, 0x5c);
	pci_set_wmask(&f->fn, c + 2, 0xff, 1);
	ck_assert_int_eq(pci_register_function(&f->bus, &f->fn), 0);
	ck_assert_uint_ne(ecam_read(f, 1, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST, 0);
	/* Walk the list as a guest does. */
	for (offset = (uint8_t)ecam_read(f, 1, PCI_CAPABILITY_LIST, 1); offset;
	     offset = (uint8_t)ecam_read(f, 1, offset + 1, 1)) {
		ck_assert_uint_lt(seen, 3);
		ck_assert_uint_eq(offset, seen == 0 ? a : seen == 1 ? b : c);
		seen++;
	}
	ck_assert_uint_eq(seen, 3);
	ck_assert_uint_eq(pci_find_capability(&f->fn, PCI_CAP_ID_MSIX), b);
	ck_assert_uint_eq(pci_find_capability(&f->fn, PCI_CAP_ID_EXP), 0);
	/* The guest can neither relink nor retype; only the marked byte is writable. */
	ecam_write(f, 1, b, 0xffff, 2);
	ecam_write(f, 1, c, 0xffffffff, 4);
	ck_assert_uint_eq(ecam_read(f, 1, b, 2), (uint32_t)c << 8 | PCI_CAP_ID_MSIX);
	ck_assert_uint_eq(ecam_read(f, 1, c, 4), 0x00ff0000 | PCI_CAP_ID_VNDR);
	/* Config space runs out rather than overflowing. */
	while ((offset = pci_add_capability(&f->fn, PCI_CAP_ID_VNDR, 4)))
		c = offset;
	ck_assert_uint_eq(c, 0xfc);
	ck_assert_uint_eq(pci_add_capability(&f->fn, PCI_CAP_ID_VNDR, 2), 0);
	ck_assert_uint_eq(ecam_read(f, 1, 0xfd, 1), 0); /* the list ends */
	teardown(f);
}
END_TEST

START_TEST(slots_and_windows_run_out)
{
	struct fixture *f = setup();
	static struct pci_function fns[PCI_MAX_DEVICES];
	unsigned i;

	for (i = 1; i < PCI_MAX_DEVICES; i++) {
		pci_function_init(&fns[i], "fill", 0x1234, (uint16_t)i, 0xff0000, 0);
		ck_assert_int_eq(pci_register_function(&f->bus, &fns[i]), 0);
	}
	pci_function_init(&fns[0], "extra", 0x1234, 0, 0xff0000, 0);
	ck_assert_int_eq(pci_register_function(&f->bus, &fns[0]), -ENOSPC);
	pci_unregister_function(&f->bus, &fns[5]);
	ck_assert_uint_eq(ecam_read(f, 5, 0, 4), 0xffffffff);
	/* A BAR bigger than what is left of the window is refused. */
	ck_assert_int_eq(pci_function_add_bar(&fns[0], 0, PCI_BAR_MEM32, false, 1ull << 30,
					      &dummy_ops, NULL, NULL),
			 0);
	ck_assert_int_eq(pci_register_function(&f->bus, &fns[0]), -ENOSPC);
	/* Malformed BAR descriptions. */
	ck_assert_int_eq(
	    pci_function_add_bar(&fns[0], 0, PCI_BAR_MEM32, false, 0x4000, &dummy_ops, NULL, NULL),
	    -EINVAL);
	ck_assert_int_eq(
	    pci_function_add_bar(&fns[0], 5, PCI_BAR_MEM64, false, 0x4000, &dummy_ops, NULL, NULL),
	    -EINVAL);
	ck_assert_int_eq(
	    pci_function_add_bar(&fns[0], 1, PCI_BAR_MEM32, false, 0x3000, &dummy_ops, NULL, NULL),
	    -EINVAL);
	teardown(f);
}
END_TEST

/* Random config writes through both mechanisms must never break the bus. */
START_TEST(random_config_writes_survive)
{
	struct fixture *f = setup();
	unsigned i;

	add_test_function(f);
	srandom(42);
	for (i = 0; i < 200000; i++) {
		unsigned slot = (unsigned)random() % 4, reg = (unsigned)random() % 0x1100;
		unsigned len = 1u << (random() % 4);
		uint32_t v = (uint32_t)random();

		if (random() & 1) {
			ecam_write(f, slot, reg, v, len);
		} else {
			pio_write(f, 0xcf8, (uint32_t)random(), 4);
			pio_write(f, (uint16_t)(0xcf8 + random() % 8), v, len);
		}
	}
	ck_assert_uint_eq(ecam_read(f, 0, 0, 4), 0x00081b36);
	ck_assert_uint_eq(ecam_read(f, 1, 0, 4), 0x56781234);
	ck_assert_uint_le(f->vm.mmio.nranges, 3);
	teardown(f);
}
END_TEST

static Suite *pci_suite(void)
{
	Suite *s = suite_create("pci");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, host_bridge_via_cf8_and_ecam);
	tcase_add_test(tc, read_only_fields_and_masks);
	tcase_add_test(tc, odd_sizes_and_offsets);
	tcase_add_test(tc, bar_sizing);
	tcase_add_test(tc, bar_relocation_moves_io_bus_ranges);
	tcase_add_test(tc, bad_bar_placements_refused);
	tcase_add_test(tc, capability_walk);
	tcase_add_test(tc, slots_and_windows_run_out);
	tcase_add_test(tc, random_config_writes_survive);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(pci_suite)
