/* Unit test for virtio-rng end to end: driver setup over MMIO, kicks through the event loop. */
#include <errno.h>
#include <event2/event.h>
#include <linux/pci_regs.h>
#include <linux/virtio_config.h>
#include <linux/virtio_pci.h>
#include <linux/virtio_ring.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/lib/fake_vm.h"
#include "tests/unit/check_main.h"
#include "virtio/rng.h"
#include "virtio/virtqueue.h"
#include "vmm/vm.h"

#define ECAM 0xe0000000ull
#define QSIZE 16
#define DESC 0x100000
#define AVAIL 0x101000
#define USED 0x102000
#define DATA 0x200000

struct fixture {
	struct vm vm;
	struct pci_bus bus;
	struct virtio_rng *rng;
	struct virtio_pci *t;
	uint8_t *ram;
	uint64_t bar, msix_bar;
	int irqfd_gsi[1024]; /* by fd */
};

static int fake_alloc(void *ctx, uint32_t *gsi)
{
	(void)ctx;
	*gsi = 40;
	return 0;
}

static int fake_set(void *ctx, uint32_t gsi, uint64_t addr, uint32_t data, uint32_t devid)
{
	(void)ctx, (void)gsi, (void)addr, (void)data, (void)devid;
	return 0;
}

static int fake_assign(void *ctx, int fd, uint32_t gsi)
{
	((struct fixture *)ctx)->irqfd_gsi[fd] = (int)gsi;
	return 0;
}

static int fake_deassign(void *ctx, int fd, uint32_t gsi)
{
	(void)gsi;
	((struct fixture *)ctx)->irqfd_gsi[fd] = -1;
	return 0;
}

static const struct msix_ops fake_msix = {fake_alloc, fake_set, fake_assign, fake_deassign};

/* No ioeventfds: every kick takes the exit path, which the test drives. */
static int no_ioeventfd(void *ctx, int fd, uint64_t addr, unsigned len, bool assign)
{
	(void)ctx, (void)fd, (void)addr, (void)len, (void)assign;
	return -ENOSYS;
}

static void wr(struct fixture *f, uint64_t addr, uint64_t v, unsigned len)
{
	ck_assert(io_bus_access(&f->vm.mmio, addr, &v, len, true));
}

static uint64_t rd(struct fixture *f, uint64_t addr, unsigned len)
{
	uint64_t v = 0;

	ck_assert(io_bus_access(&f->vm.mmio, addr, &v, len, false));
	return v;
}

static void driver_init(struct fixture *f, uint64_t features)
{
	uint64_t c = f->bar + VIRTIO_PCI_COMMON_OFFSET;

	wr(f, c + VIRTIO_PCI_COMMON_STATUS, 3, 1);
	wr(f, c + VIRTIO_PCI_COMMON_GFSELECT, 1, 4);
	wr(f, c + VIRTIO_PCI_COMMON_GF, features >> 32, 4);
	wr(f, c + VIRTIO_PCI_COMMON_GFSELECT, 0, 4);
	wr(f, c + VIRTIO_PCI_COMMON_GF, (uint32_t)features, 4);
	wr(f, c + VIRTIO_PCI_COMMON_STATUS, 0x0b, 1);
	ck_assert_uint_eq(rd(f, c + VIRTIO_PCI_COMMON_STATUS, 1), 0x0b);
	wr(f, c + VIRTIO_PCI_COMMON_Q_SELECT, 0, 2);
	wr(f, c + VIRTIO_PCI_COMMON_Q_SIZE, QSIZE, 2);
	wr(f, c + VIRTIO_PCI_COMMON_Q_DESCLO, DESC, 8);
	wr(f, c + VIRTIO_PCI_COMMON_Q_AVAILLO, AVAIL, 8);
	wr(f, c + VIRTIO_PCI_COMMON_Q_USEDLO, USED, 8);
	wr(f, c + VIRTIO_PCI_COMMON_Q_MSIX, 1, 2);
	wr(f, c + VIRTIO_PCI_COMMON_Q_ENABLE, 1, 2);
	wr(f, c + VIRTIO_PCI_COMMON_STATUS, 0x0f, 1);
}

static struct fixture *setup(void)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct ram_range ram = {0, 16u << 20};
	struct virtio_pci_platform plat = {&fake_msix, no_ioeventfd, f, NULL, NULL};

	memset(f->irqfd_gsi, 0xff, sizeof(f->irqfd_gsi));
	ck_assert_int_eq(test_vm_init(&f->vm, &ram, 1), 0);
	plat.evbase = f->vm.evbase;
	plat.lock = &f->vm.dev_lock;
	f->ram = guest_memory_ptr(&f->vm.mem, 0, ram.size);
	ck_assert_int_eq(pci_bus_init(&f->bus, &f->vm,
				      &(struct pci_windows){ECAM, 0xc0000000, 0x20000000, 0, 0}),
			 0);
	ck_assert_int_eq(virtio_rng_create(&f->vm, &f->bus, &plat, &f->rng), 0);
	f->t = virtio_rng_transport(f->rng);
	ck_assert_uint_eq(f->t->fn.cfg.hdr.device_id, 0x1044);
	pci_config_write(&f->t->fn, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
	f->bar = pci_bar_address(&f->t->fn, 0);
	f->msix_bar = pci_bar_address(&f->t->fn, 1);
	return f;
}

static void teardown(struct fixture *f)
{
	pci_bus_destroy(&f->bus);
	virtio_rng_destroy(f->rng);
	test_vm_destroy(&f->vm);
	free(f);
}

static void set_desc(struct fixture *f, unsigned i, uint64_t addr, uint32_t len, uint16_t flags,
		     uint16_t next)
{
	struct virtq_desc d = {addr, len, flags, next};

	memcpy(f->ram + DESC + i * sizeof(d), &d, sizeof(d));
}

static void offer(struct fixture *f, uint16_t head)
{
	struct virtq_avail *avail = (void *)(f->ram + AVAIL);

	avail->ring[avail->idx % QSIZE] = head;
	avail->idx++;
}

static void kick_and_run(struct fixture *f)
{
	wr(f, f->bar + VIRTIO_PCI_NOTIFY_OFFSET, 0, 2);
	for (int i = 0; i < 4; i++)
		event_base_loop(f->vm.evbase, EVLOOP_NONBLOCK);
}

static bool all_zero(const uint8_t *p, size_t len)
{
	while (len--)
		if (*p++)
			return false;
	return true;
}

START_TEST(fills_buffers_and_interrupts)
{
	struct fixture *f = setup();
	struct virtq_used *used = (void *)(f->ram + USED);
	int vector_fd = msix_vector_fd(&f->t->msix, 1);

	driver_init(f, 1ull << VIRTIO_F_VERSION_1);
	set_desc(f, 0, DATA, 64, VIRTQ_DESC_F_WRITE, 0);
	set_desc(f, 1, DATA + 0x1000, 8, VIRTQ_DESC_F_NEXT, 2); /* readable: ignored */
	set_desc(f, 2, DATA + 0x2000, 4096, VIRTQ_DESC_F_WRITE, 0);
	offer(f, 0);
	offer(f, 1);
	kick_and_run(f);
	ck_assert_uint_eq(used->idx, 2);
	ck_assert_uint_eq(used->ring[0].id, 0);
	ck_assert_uint_eq(used->ring[0].len, 64);
	ck_assert_uint_eq(used->ring[1].id, 1);
	ck_assert_uint_eq(used->ring[1].len, 4096);
	ck_assert(!all_zero(f->ram + DATA, 64));
	ck_assert(!all_zero(f->ram + DATA + 0x2000, 4096));
	ck_assert(all_zero(f->ram + DATA + 0x1000, 8));
	ck_assert(all_zero(f->ram + DATA + 64, 64)); /* nothing past the buffer */
	/* MSI-X is still off: the watch turned the signal into a pending bit. */
	ck_assert(msix_vector_pending(&f->t->msix, 1));
	/* Enabling MSI-X and unmasking the vector delivers it through the irqfd. */
	pci_config_write(&f->t->fn, f->t->msix.cap + PCI_MSIX_FLAGS, PCI_MSIX_FLAGS_ENABLE, 2);
	wr(f, f->msix_bar + 16 + PCI_MSIX_ENTRY_VECTOR_CTRL, 0, 4);
	ck_assert_int_eq(f->irqfd_gsi[vector_fd], 40);
	ck_assert(!msix_vector_pending(&f->t->msix, 1));
	/* Count 1 on the eventfd is what KVM would consume. */
	{
		uint64_t count = 0;
		ck_assert_int_eq(read(vector_fd, &count, 8), 8);
		ck_assert_uint_eq(count, 1);
	}
	teardown(f);
}
END_TEST

START_TEST(malformed_ring_needs_reset_then_recovers)
{
	struct fixture *f = setup();
	struct virtq_used *used = (void *)(f->ram + USED);
	uint64_t status = f->bar + VIRTIO_PCI_COMMON_STATUS;

	driver_init(f, 1ull << VIRTIO_F_VERSION_1 | 1ull << VIRTIO_RING_F_EVENT_IDX);
	set_desc(f, 0, 0xffffffff000ull, 64, VIRTQ_DESC_F_WRITE, 0);
	offer(f, 0);
	kick_and_run(f);
	ck_assert_uint_eq(used->idx, 0);
	ck_assert_uint_ne(rd(f, status, 1) & VIRTIO_CONFIG_S_NEEDS_RESET, 0);
	/* Reset: the device stops; a kick does nothing. */
	wr(f, status, 0, 1);
	set_desc(f, 0, DATA, 64, VIRTQ_DESC_F_WRITE, 0);
	kick_and_run(f);
	ck_assert_uint_eq(used->idx, 0);
	/* Re-initialised, it serves again (EVENT_IDX negotiated this time). */
	memset(f->ram + AVAIL, 0, 0x2000);
	driver_init(f, 1ull << VIRTIO_F_VERSION_1 | 1ull << VIRTIO_RING_F_EVENT_IDX);
	offer(f, 0);
	kick_and_run(f);
	ck_assert_uint_eq(used->idx, 1);
	ck_assert_uint_eq(used->ring[0].len, 64);
	teardown(f);
}
END_TEST

START_TEST(buffers_before_driver_ok_are_served)
{
	struct fixture *f = setup();
	struct virtq_used *used = (void *)(f->ram + USED);
	unsigned i;

	for (i = 0; i < QSIZE; i++) {
		set_desc(f, i, DATA + i * 0x100, 0x100, VIRTQ_DESC_F_WRITE, 0);
		offer(f, (uint16_t)i);
	}
	driver_init(f, 1ull << VIRTIO_F_VERSION_1);
	for (i = 0; i < 4; i++)
		event_base_loop(f->vm.evbase, EVLOOP_NONBLOCK);
	ck_assert_uint_eq(used->idx, QSIZE);
	teardown(f);
}
END_TEST

static Suite *rng_suite(void)
{
	Suite *s = suite_create("virtio_rng");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, fills_buffers_and_interrupts);
	tcase_add_test(tc, malformed_ring_needs_reset_then_recovers);
	tcase_add_test(tc, buffers_before_driver_ok_are_served);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(rng_suite)
