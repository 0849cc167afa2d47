/* Unit tests for MSI-X: capability, table/PBA access, masking and pending delivery. */
#include <errno.h>
#include <linux/pci_regs.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pci/msix.h"
#include "pci/pci.h"
#include "tests/lib/fake_vm.h"
#include "tests/unit/check_main.h"
#include "vmm/vm.h"

#define NVEC 4
#define ECAM 0xe0000000ull

/* Records what the MSI-X code asked of "KVM". */
struct fake_kvm {
	uint32_t next_gsi;
	unsigned route_sets;
	uint64_t route_addr[64];
	uint32_t route_data[64];
	uint32_t route_devid[64];
	int attached_gsi[64]; /* by fd; -1 when no irqfd */
	int fail_alloc;
};

static int fake_alloc(void *ctx, uint32_t *gsi)
{
	struct fake_kvm *k = ctx;

	if (k->fail_alloc)
		return -ENOSPC;
	*gsi = k->next_gsi++;
	return 0;
}

static int fake_set(void *ctx, uint32_t gsi, uint64_t addr, uint32_t data, uint32_t devid)
{
	struct fake_kvm *k = ctx;

	ck_assert_uint_lt(gsi, k->next_gsi);
	k->route_sets++;
	k->route_addr[gsi] = addr;
	k->route_data[gsi] = data;
	k->route_devid[gsi] = devid;
	return 0;
}

static int fake_assign(void *ctx, int fd, uint32_t gsi)
{
	struct fake_kvm *k = ctx;

	ck_assert_int_eq(k->attached_gsi[fd], -1); /* never twice */
	k->attached_gsi[fd] = (int)gsi;
	return 0;
}

static int fake_deassign(void *ctx, int fd, uint32_t gsi)
{
	struct fake_kvm *k = ctx;

	ck_assert_int_eq(k->attached_gsi[fd], (int)gsi);
	k->attached_gsi[fd] = -1;
	return 0;
}

static const struct msix_ops fake_ops = {fake_alloc, fake_set, fake_assign, fake_deassign};

struct fixture {
	struct vm vm;
	struct pci_bus bus;
	struct pci_function fn;
	struct msix msix;
	struct fake_kvm kvm;
	uint64_t table;
};

static struct fixture *setup(void)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct ram_range ram = {0, 16u << 20};
	unsigned i;

	for (i = 0; i < 64; i++)
		f->kvm.attached_gsi[i] = -1;
	f->kvm.next_gsi = 24;
	ck_assert_int_eq(test_vm_init(&f->vm, &ram, 1), 0);
	ck_assert_int_eq(pci_bus_init(&f->bus, &f->vm,
				      &(struct pci_windows){ECAM, 0xc0000000, 0x20000000, 0, 0}),
			 0);
	pci_function_init(&f->fn, "msix-test", 0x1af4, 0x1044, 0xff0000, 1);
	ck_assert_int_eq(msix_init(&f->msix, &f->fn, 2, NVEC, &fake_ops, &f->kvm), 0);
	ck_assert_int_eq(pci_register_function(&f->bus, &f->fn), 0);
	f->table = pci_bar_address(&f->fn, 2);
	pci_config_write(&f->fn, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
	for (i = 0; i < NVEC; i++)
		ck_assert_int_lt(msix_vector_fd(&f->msix, i), 64);
	return f;
}

static void teardown(struct fixture *f)
{
	unsigned i;

	pci_bus_destroy(&f->bus);
	msix_destroy(&f->msix);
	for (i = 0; i < 64; i++)
		ck_assert_int_eq(f->kvm.attached_gsi[i], -1);
	test_vm_destroy(&f->vm);
	free(f);
}

static uint32_t mmio_read(struct fixture *f, uint64_t off, unsigned len)
{
	uint32_t v = 0;

	ck_assert(io_bus_access(&f->vm.mmio, f->table + off, &v, len, false));
	return v;
}

static void mmio_write(struct fixture *f, uint64_t off, uint64_t v, unsigned len)
{
	ck_assert(io_bus_access(&f->vm.mmio, f->table + off, &v, len, true));
}

static void set_control(struct fixture *f, uint16_t control)
{
	pci_config_write(&f->fn, f->msix.cap + PCI_MSIX_FLAGS, control, 2);
}

static void program(struct fixture *f, unsigned v, uint32_t addr, uint32_t data)
{
	mmio_write(f, v * 16 + PCI_MSIX_ENTRY_LOWER_ADDR, addr, 4);
	mmio_write(f, v * 16 + PCI_MSIX_ENTRY_UPPER_ADDR, 0, 4);
	mmio_write(f, v * 16 + PCI_MSIX_ENTRY_DATA, data, 4);
}

static void unmask(struct fixture *f, unsigned v, bool on)
{
	mmio_write(f, v * 16 + PCI_MSIX_ENTRY_VECTOR_CTRL, on ? 0 : 1, 4);
}

/* The eventfd's counter, consumed; 0 when it was not signalled. */
static uint64_t take_count(struct fixture *f, unsigned v)
{
	uint64_t count;

	if (read(msix_vector_fd(&f->msix, v), &count, sizeof(count)) != sizeof(count))
		return 0;
	return count;
}

static int attached(struct fixture *f, unsigned v)
{
	return f->kvm.attached_gsi[msix_vector_fd(&f->msix, v)];
}

START_TEST(capability_layout)
{
	struct fixture *f = setup();
	uint8_t cap = pci_find_capability(&f->fn, PCI_CAP_ID_MSIX);

	ck_assert_uint_eq(cap, f->msix.cap);
	ck_assert_uint_eq(pci_config_read(&f->fn, cap + PCI_MSIX_FLAGS, 2), NVEC - 1);
	ck_assert_uint_eq(pci_config_read(&f->fn, cap + PCI_MSIX_TABLE, 4), 2); /* BIR 2, off 0 */
	ck_assert_uint_eq(pci_config_read(&f->fn, cap + PCI_MSIX_PBA, 4), 0x800 | 2);
	ck_assert_uint_eq(f->fn.bars[2].size, 4096);
	/* Only enable and function mask are writable. */
	set_control(f, 0xffff);
	ck_assert_uint_eq(pci_config_read(&f->fn, cap + PCI_MSIX_FLAGS, 2),
			  PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL | (NVEC - 1));
	pci_config_write(&f->fn, cap + PCI_MSIX_TABLE, 0xffffffff, 4);
	ck_assert_uint_eq(pci_config_read(&f->fn, cap + PCI_MSIX_TABLE, 4), 2);
	/* Reset state: every vector masked, control word reads masked. */
	ck_assert_uint_eq(mmio_read(f, 3 * 16 + 12, 4), 1);
	ck_assert(msix_vector_masked(&f->msix, 0));
	teardown(f);
}
END_TEST

START_TEST(masked_vector_sets_pending_and_unmask_delivers)
{
	struct fixture *f = setup();

	set_control(f, PCI_MSIX_FLAGS_ENABLE);
	program(f, 1, 0xfee00000, 0x4041);
	ck_assert_int_eq(attached(f, 1), -1);
	/* Fires while masked: the VMM's watch consumes it into the PBA. */
	msix_notify(&f->msix, 1);
	msix_vector_poll(&f->msix, 1);
	ck_assert(msix_vector_pending(&f->msix, 1));
	ck_assert_uint_eq(mmio_read(f, 0x800, 4), 1u << 1);
	ck_assert_uint_eq(take_count(f, 1), 0);
	/* Unmask: route programmed, irqfd attached, the interrupt re-sent. */
	unmask(f, 1, true);
	ck_assert_int_ge(attached(f, 1), 24);
	ck_assert_uint_eq(f->kvm.route_addr[attached(f, 1)], 0xfee00000);
	ck_assert_uint_eq(f->kvm.route_data[attached(f, 1)], 0x4041);
	ck_assert_uint_eq(f->kvm.route_devid[attached(f, 1)], f->fn.slot << 3);
	ck_assert(!msix_vector_pending(&f->msix, 1));
	ck_assert_uint_eq(mmio_read(f, 0x800, 4), 0);
	ck_assert_uint_eq(take_count(f, 1), 1);
	/* Unmasked: a signal goes straight to the irqfd, nothing becomes pending. */
	msix_notify(&f->msix, 1);
	msix_vector_poll(&f->msix, 1); /* a racing watch gives the count back */
	ck_assert_uint_eq(take_count(f, 1), 1);
	ck_assert(!msix_vector_pending(&f->msix, 1));
	/* Other vectors untouched. */
	ck_assert_int_eq(attached(f, 0), -1);
	teardown(f);
}
END_TEST

START_TEST(function_mask_and_enable)
{
	struct fixture *f = setup();
	unsigned v;

	for (v = 0; v < NVEC; v++) {
		program(f, v, 0xfee00000, 0x30 + v);
		unmask(f, v, true);
		ck_assert_int_eq(attached(f, v), -1); /* MSI-X still disabled */
	}
	set_control(f, PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
	ck_assert_int_eq(attached(f, 0), -1);
	set_control(f, PCI_MSIX_FLAGS_ENABLE);
	for (v = 0; v < NVEC; v++)
		ck_assert_int_ne(attached(f, v), -1);
	set_control(f, PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
	for (v = 0; v < NVEC; v++)
		ck_assert_int_eq(attached(f, v), -1);
	msix_notify(&f->msix, 2);
	msix_vector_poll(&f->msix, 2);
	ck_assert_uint_eq(mmio_read(f, 0x800, 4), 1u << 2);
	/* The vector's own mask bit still reads clear under the function mask. */
	ck_assert_uint_eq(mmio_read(f, 2 * 16 + 12, 4), 0);
	set_control(f, PCI_MSIX_FLAGS_ENABLE);
	ck_assert_uint_eq(take_count(f, 2), 1);
	ck_assert_uint_eq(take_count(f, 3), 0);
	ck_assert_uint_eq(mmio_read(f, 0x800, 4), 0);
	/* GSIs are allocated once per vector and reused. */
	ck_assert_uint_eq(f->kvm.next_gsi, 24 + NVEC);
	teardown(f);
}
END_TEST

START_TEST(entry_rewrite_reroutes)
{
	struct fixture *f = setup();
	unsigned sets;

	set_control(f, PCI_MSIX_FLAGS_ENABLE);
	program(f, 0, 0xfee00000, 0x41);
	unmask(f, 0, true);
	sets = f->kvm.route_sets;
	mmio_write(f, PCI_MSIX_ENTRY_DATA, 0x42, 4);
	ck_assert_uint_eq(f->kvm.route_sets, sets + 1);
	ck_assert_uint_eq(f->kvm.route_data[attached(f, 0)], 0x42);
	/* Same value again: no needless KVM call. */
	mmio_write(f, PCI_MSIX_ENTRY_DATA, 0x42, 4);
	ck_assert_uint_eq(f->kvm.route_sets, sets + 1);
	/* A 64-bit write of address lo+hi lands in both words. */
	mmio_write(f, 0, 0x00000001fee01000ull, 8);
	ck_assert_uint_eq(f->kvm.route_addr[attached(f, 0)], 0x1fee01000ull);
	teardown(f);
}
END_TEST

START_TEST(bad_table_accesses)
{
	struct fixture *f = setup();
	uint64_t q = 0;

	program(f, 0, 0x12345678, 0x99);
	ck_assert_uint_eq(mmio_read(f, 0, 2), 0xffff);
	ck_assert_uint_eq(mmio_read(f, 1, 1), 0xff);
	ck_assert_uint_eq(mmio_read(f, 2, 4), 0xffffffff); /* misaligned */
	mmio_write(f, 0, 0xaa, 1);
	mmio_write(f, 2, 0xaaaa, 2);
	mmio_write(f, 4, 0xaaaaaaaaaaaaaaaaull, 8); /* misaligned qword */
	ck_assert_uint_eq(mmio_read(f, 0, 4), 0x12345678);
	ck_assert_uint_eq(mmio_read(f, 4, 4), 0);
	/* Past the table, the PBA (read-only) and the hole after it. */
	mmio_write(f, NVEC * 16, 0xffffffff, 4);
	mmio_write(f, 0x800, 0xffffffff, 4);
	ck_assert_uint_eq(mmio_read(f, 0x800, 4), 0);
	ck_assert_uint_eq(mmio_read(f, 0x808, 4), 0);
	ck_assert_uint_eq(mmio_read(f, NVEC * 16, 4), 0);
	ck_assert_uint_eq(mmio_read(f, 0xffc, 4), 0);
	/* Reserved vector-control bits stay 0. */
	mmio_write(f, 12, 0xfffffffe, 4);
	ck_assert_uint_eq(mmio_read(f, 12, 4), 0);
	/* An 8-byte read returns two table words. */
	ck_assert(io_bus_access(&f->vm.mmio, f->table + 8, &q, 8, false));
	ck_assert_uint_eq(q, 0x99);
	/* notify/poll/fd of bad vector numbers are harmless. */
	msix_notify(&f->msix, NVEC);
	msix_notify(&f->msix, MSIX_NO_VECTOR);
	msix_vector_poll(&f->msix, 1000);
	ck_assert_int_eq(msix_vector_fd(&f->msix, NVEC), -1);
	ck_assert(!msix_vector_pending(&f->msix, NVEC));
	teardown(f);
}
END_TEST

START_TEST(route_failure_keeps_pending)
{
	struct fixture *f = setup();

	f->kvm.fail_alloc = 1;
	set_control(f, PCI_MSIX_FLAGS_ENABLE);
	program(f, 0, 0xfee00000, 0x41);
	unmask(f, 0, true);
	ck_assert_int_eq(attached(f, 0), -1);
	msix_notify(&f->msix, 0);
	msix_vector_poll(&f->msix, 0);
	ck_assert(msix_vector_pending(&f->msix, 0));
	/* Once routing works, re-unmasking delivers it. */
	f->kvm.fail_alloc = 0;
	unmask(f, 0, false);
	unmask(f, 0, true);
	ck_assert_int_ne(attached(f, 0), -1);
	ck_assert_uint_eq(take_count(f, 0), 1);
	teardown(f);
}
END_TEST

START_TEST(reset_masks_everything)
{
	struct fixture *f = setup();

	set_control(f, PCI_MSIX_FLAGS_ENABLE);
	program(f, 0, 0xfee00000, 0x41);
	unmask(f, 0, true);
	unmask(f, 1, false);
	msix_notify(&f->msix, 1);
	msix_vector_poll(&f->msix, 1);
	msix_reset(&f->msix);
	ck_assert(!msix_enabled(&f->msix));
	ck_assert_int_eq(attached(f, 0), -1);
	ck_assert(!msix_vector_pending(&f->msix, 1));
	ck_assert_uint_eq(mmio_read(f, 12, 4), 1);
	ck_assert_uint_eq(mmio_read(f, 0, 4), 0);
	teardown(f);
}
END_TEST

START_TEST(init_rejects_bad_arguments)
{
	struct pci_function fn;
	struct msix m;
	struct fake_kvm k = {0};

	pci_function_init(&fn, "bad", 1, 2, 0, 0);
	ck_assert_int_eq(msix_init(&m, &fn, 0, 0, &fake_ops, &k), -EINVAL);
	ck_assert_int_eq(msix_init(&m, &fn, 0, MSIX_MAX_VECTORS + 1, &fake_ops, &k), -EINVAL);
	ck_assert_int_eq(msix_init(&m, &fn, 6, 1, &fake_ops, &k), -EINVAL);
	ck_assert_int_eq(msix_init(&m, &fn, 0, MSIX_MAX_VECTORS, &fake_ops, &k), 0);
	ck_assert_uint_eq(fn.bars[0].size, 8192); /* 4 KiB table + PBA */
	msix_destroy(&m);
	ck_assert_ptr_null(fn.msix);
}
END_TEST

static Suite *msix_suite(void)
{
	Suite *s = suite_create("msix");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, capability_layout);
	tcase_add_test(tc, masked_vector_sets_pending_and_unmask_delivers);
	tcase_add_test(tc, function_mask_and_enable);
	tcase_add_test(tc, entry_rewrite_reroutes);
	tcase_add_test(tc, bad_table_accesses);
	tcase_add_test(tc, route_failure_keeps_pending);
	tcase_add_test(tc, reset_masks_everything);
	tcase_add_test(tc, init_rejects_bad_arguments);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(msix_suite)
