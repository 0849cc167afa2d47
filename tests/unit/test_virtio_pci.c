/* Unit tests for the virtio PCI transport: capabilities, features, status, queues, notify. */
#include <errno.h>
#include <linux/pci_regs.h>
#include <linux/virtio_config.h>
#include <linux/virtio_pci.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/lib/fake_vm.h"
#include "tests/lib/fds.h"
#include "tests/unit/check_main.h"
#include "virtio/pci_transport.h"
#include "vmm/vm.h"

#define ECAM 0xe0000000ull
#define NQ 2
#define QMAX 256
#define DEV_FEATURES (1ull << 5 | 1ull << 40)

struct ioevent {
	int fd;
	uint64_t addr;
	unsigned len;
};

struct fixture {
	struct vm vm;
	struct pci_bus bus;
	struct virtio_pci t;
	uint64_t bar;
	/* fake KVM */
	uint32_t next_gsi;
	struct ioevent ioevents[8];
	unsigned nioevents;
	int ioeventfd_error;
	bool no_any_length; /* a kernel without zero-length (any size) ioeventfds */
	/* fake device */
	uint8_t config[8];
	unsigned activations, resets;
	uint64_t activated_features;
	struct virtio_queue_info activated[NQ];
	int activate_error;
};

static int fake_alloc(void *ctx, uint32_t *gsi)
{
	struct fixture *f = ctx;

	*gsi = f->next_gsi++;
	return 0;
}

static int fake_set(void *ctx, uint32_t gsi, uint64_t addr, uint32_t data, uint32_t devid)
{
	(void)ctx, (void)gsi, (void)addr, (void)data, (void)devid;
	return 0;
}

static int fake_irqfd(void *ctx, int fd, uint32_t gsi)
{
	(void)ctx, (void)fd, (void)gsi;
	return 0;
}

static const struct msix_ops fake_msix = {fake_alloc, fake_set, fake_irqfd, fake_irqfd};

static int fake_ioeventfd(void *ctx, int fd, uint64_t addr, unsigned len, bool assign)
{
	struct fixture *f = ctx;
	unsigned i;

	/* Any size (KVM's fast MMIO path) where the kernel has it, else the 16-bit notify. */
	if (assign && len == 0 && f->no_any_length)
		return -EINVAL;
	ck_assert_uint_eq(len, f->no_any_length ? 2 : 0);
	if (assign) {
		if (f->ioeventfd_error)
			return f->ioeventfd_error;
		for (i = 0; i < f->nioevents; i++)
			ck_assert(f->ioevents[i].addr != addr);
		ck_assert_uint_lt(f->nioevents, 8);
		f->ioevents[f->nioevents++] = (struct ioevent){fd, addr, len};
		return 0;
	}
	for (i = 0; i < f->nioevents; i++) {
		if (f->ioevents[i].fd == fd && f->ioevents[i].addr == addr &&
		    f->ioevents[i].len == len) {
			f->ioevents[i] = f->ioevents[--f->nioevents];
			return 0;
		}
	}
	ck_abort_msg("deassign of an ioeventfd never assigned");
	return -ENOENT;
}

static uint64_t dev_features(void *dev)
{
	(void)dev;
	return DEV_FEATURES;
}

static void dev_cfg_read(void *dev, uint32_t off, void *data, unsigned len)
{
	struct fixture *f = dev;

	ck_assert_uint_le(off + len, sizeof(f->config));
	memcpy(data, f->config + off, len);
}

static void dev_cfg_write(void *dev, uint32_t off, const void *data, unsigned len)
{
	struct fixture *f = dev;

	ck_assert_uint_le(off + len, sizeof(f->config));
	memcpy(f->config + off, data, len);
}

static int dev_activate(void *dev, uint64_t features, const struct virtio_queue_info *q, unsigned n)
{
	struct fixture *f = dev;

	ck_assert_uint_eq(n, NQ);
	f->activations++;
	f->activated_features = features;
	memcpy(f->activated, q, sizeof(f->activated));
	return f->activate_error;
}

static void dev_reset(void *dev)
{
	((struct fixture *)dev)->resets++;
}

static const struct virtio_device_ops dev_ops = {dev_features, dev_cfg_read, dev_cfg_write,
						 dev_activate, dev_reset};

static struct fixture *setup(void)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct ram_range ram = {0, 16u << 20};
	struct virtio_pci_params params = {"virtio-test", 2, NQ, QMAX, 8, &dev_ops, f};
	struct virtio_pci_platform plat = {&fake_msix, fake_ioeventfd, f, NULL, NULL};

	f->next_gsi = 24;
	ck_assert_int_eq(test_vm_init(&f->vm, &ram, 1), 0);
	ck_assert_int_eq(
	    pci_bus_init(&f->bus, &f->vm,
			 &(struct pci_windows){ECAM, 0xc0000000, 0x20000000, 0xc000, 0x4000}),
	    0);
	ck_assert_int_eq(virtio_pci_init(&f->t, &f->bus, &f->vm.mem, &params, &plat), 0);
	f->bar = pci_bar_address(&f->t.fn, 0);
	ck_assert_uint_eq(f->nioevents, 0);
	pci_config_write(&f->t.fn, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
	return f;
}

static void teardown(struct fixture *f)
{
	pci_bus_destroy(&f->bus);
	ck_assert_uint_eq(f->nioevents, 0);
	virtio_pci_destroy(&f->t);
	test_vm_destroy(&f->vm);
	free(f);
}

static uint64_t rd(struct fixture *f, uint64_t off, unsigned len)
{
	uint64_t v = 0;

	ck_assert(io_bus_access(&f->vm.mmio, f->bar + off, &v, len, false));
	return v;
}

static void wr(struct fixture *f, uint64_t off, uint64_t v, unsigned len)
{
	ck_assert(io_bus_access(&f->vm.mmio, f->bar + off, &v, len, true));
}

static void set_status(struct fixture *f, uint8_t status)
{
	wr(f, VIRTIO_PCI_COMMON_STATUS, status, 1);
}

static uint8_t status(struct fixture *f)
{
	return (uint8_t)rd(f, VIRTIO_PCI_COMMON_STATUS, 1);
}

static void set_driver_features(struct fixture *f, uint64_t features)
{
	wr(f, VIRTIO_PCI_COMMON_GFSELECT, 0, 4);
	wr(f, VIRTIO_PCI_COMMON_GF, (uint32_t)features, 4);
	wr(f, VIRTIO_PCI_COMMON_GFSELECT, 1, 4);
	wr(f, VIRTIO_PCI_COMMON_GF, features >> 32, 4);
}

/* Puts queue q's rings at 64 KiB steps inside RAM. */
static void setup_queue(struct fixture *f, unsigned q, uint16_t size)
{
	uint64_t base = 0x100000 + q * 0x10000;

	wr(f, VIRTIO_PCI_COMMON_Q_SELECT, q, 2);
	wr(f, VIRTIO_PCI_COMMON_Q_SIZE, size, 2);
	wr(f, VIRTIO_PCI_COMMON_Q_DESCLO, base, 4);
	wr(f, VIRTIO_PCI_COMMON_Q_DESCHI, 0, 4);
	wr(f, VIRTIO_PCI_COMMON_Q_AVAILLO, base + 0x4000, 8);
	wr(f, VIRTIO_PCI_COMMON_Q_USEDLO, base + 0x8000, 4);
	wr(f, VIRTIO_PCI_COMMON_Q_USEDHI, 0, 4);
	wr(f, VIRTIO_PCI_COMMON_Q_MSIX, q + 1, 2);
}

static uint64_t take_count(int fd)
{
	uint64_t count;

	return read(fd, &count, sizeof(count)) == sizeof(count) ? count : 0;
}

START_TEST(identity_and_capabilities)
{
	struct fixture *f = setup();
	struct pci_function *fn = &f->t.fn;
	unsigned types = 0, offset;

	ck_assert_uint_eq(pci_config_read(fn, PCI_VENDOR_ID, 4), 0x1042u << 16 | 0x1af4);
	ck_assert_uint_eq(pci_config_read(fn, PCI_REVISION_ID, 1), 1);
	ck_assert_uint_eq(pci_config_read(fn, PCI_SUBSYSTEM_VENDOR_ID, 2), 0x1af4);
	ck_assert_uint_eq(pci_config_read(fn, PCI_CLASS_DEVICE, 2), 0x0180);
	ck_assert_uint_eq(fn->bars[0].size, VIRTIO_PCI_BAR_SIZE);
	ck_assert_uint_ne(pci_find_capability(fn, PCI_CAP_ID_MSIX), 0);
	ck_assert_uint_eq(f->t.msix.nvectors, NQ + 1);
	for (offset = pci_config_read(fn, PCI_CAPABILITY_LIST, 1); offset;
	     offset = pci_config_read(fn, offset + 1, 1)) {
		uint32_t type, bar, off, len;

		if (pci_config_read(fn, offset, 1) != PCI_CAP_ID_VNDR)
			continue;
		type = pci_config_read(fn, offset + VIRTIO_PCI_CAP_CFG_TYPE, 1);
		bar = pci_config_read(fn, offset + VIRTIO_PCI_CAP_BAR, 1);
		off = pci_config_read(fn, offset + VIRTIO_PCI_CAP_OFFSET, 4);
		len = pci_config_read(fn, offset + VIRTIO_PCI_CAP_LENGTH, 4);
		types |= 1u << type;
		ck_assert_uint_eq(bar, 0);
		ck_assert_uint_le(off + len, VIRTIO_PCI_BAR_SIZE);
		if (type == VIRTIO_PCI_CAP_NOTIFY_CFG) {
			ck_assert_uint_eq(pci_config_read(fn, offset + 16, 4), 4);
			ck_assert_uint_eq(len, NQ * 4);
			ck_assert_uint_eq(pci_config_read(fn, offset + VIRTIO_PCI_CAP_LEN, 1), 20);
		}
		if (type == VIRTIO_PCI_CAP_DEVICE_CFG)
			ck_assert_uint_eq(len, 8);
	}
	ck_assert_uint_eq(types, 1u << 1 | 1u << 2 | 1u << 3 | 1u << 4 | 1u << 5);
	teardown(f);
}
END_TEST

START_TEST(feature_negotiation)
{
	struct fixture *f = setup();
	uint64_t offered;

	wr(f, VIRTIO_PCI_COMMON_DFSELECT, 0, 4);
	offered = rd(f, VIRTIO_PCI_COMMON_DF, 4);
	wr(f, VIRTIO_PCI_COMMON_DFSELECT, 1, 4);
	offered |= rd(f, VIRTIO_PCI_COMMON_DF, 4) << 32;
	ck_assert_uint_eq(offered, DEV_FEATURES | 1ull << VIRTIO_F_VERSION_1);
	wr(f, VIRTIO_PCI_COMMON_DFSELECT, 2, 4);
	ck_assert_uint_eq(rd(f, VIRTIO_PCI_COMMON_DF, 4), 0);
	wr(f, VIRTIO_PCI_COMMON_DF, 0xffffffff, 4); /* read-only */
	ck_assert_uint_eq(rd(f, VIRTIO_PCI_COMMON_DF, 4), 0);

	/* A bit never offered: FEATURES_OK does not stick. */
	set_status(f, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	set_driver_features(f, 1ull << VIRTIO_F_VERSION_1 | 1ull << 6);
	set_status(f, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
			  VIRTIO_CONFIG_S_FEATURES_OK);
	ck_assert_uint_eq(status(f) & VIRTIO_CONFIG_S_FEATURES_OK, 0);
	/* A legacy driver (no VERSION_1) is refused too. */
	set_driver_features(f, 1ull << 5);
	set_status(f, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
			  VIRTIO_CONFIG_S_FEATURES_OK);
	ck_assert_uint_eq(status(f) & VIRTIO_CONFIG_S_FEATURES_OK, 0);
	/* A subset including VERSION_1 is accepted and then frozen. */
	set_driver_features(f, 1ull << VIRTIO_F_VERSION_1 | 1ull << 40);
	wr(f, VIRTIO_PCI_COMMON_GFSELECT, 1, 4);
	ck_assert_uint_eq(rd(f, VIRTIO_PCI_COMMON_GF, 4), 1u | 1u << 8);
	set_status(f, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
			  VIRTIO_CONFIG_S_FEATURES_OK);
	ck_assert_uint_ne(status(f) & VIRTIO_CONFIG_S_FEATURES_OK, 0);
	set_driver_features(f, 1ull << VIRTIO_F_VERSION_1 | 1ull << 5);
	wr(f, VIRTIO_PCI_COMMON_GFSELECT, 0, 4);
	ck_assert_uint_eq(rd(f, VIRTIO_PCI_COMMON_GF, 4), 0);
	setup_queue(f, 0, 16);
	wr(f, VIRTIO_PCI_COMMON_Q_ENABLE, 1, 2);
	set_status(f, 0x0f);
	ck_assert_uint_eq(f->activations, 1);
	ck_assert_uint_eq(f->activated_features, 1ull << VIRTIO_F_VERSION_1 | 1ull << 40);
	teardown(f);
}
END_TEST

START_TEST(status_machine_and_reset)
{
	struct fixture *f = setup();
	unsigned resets = f->resets;

	/* DRIVER_OK without FEATURES_OK is refused. */
	set_status(f, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
			  VIRTIO_CONFIG_S_DRIVER_OK);
	ck_assert_uint_eq(status(f), VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	ck_assert_uint_eq(f->activations, 0);
	/* Bits cannot be cleared except by reset; NEEDS_RESET cannot be set by the driver. */
	set_status(f, VIRTIO_CONFIG_S_ACKNOWLEDGE);
	ck_assert_uint_eq(status(f), VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	set_status(f, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
			  VIRTIO_CONFIG_S_NEEDS_RESET);
	ck_assert_uint_eq(status(f), VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	set_driver_features(f, 1ull << VIRTIO_F_VERSION_1);
	set_status(f, 0x0b);
	setup_queue(f, 0, 64);
	setup_queue(f, 1, QMAX);
	wr(f, VIRTIO_PCI_COMMON_Q_ENABLE, 1, 2);
	wr(f, VIRTIO_PCI_COMMON_MSIX, 0, 2);
	set_status(f, 0x0f);
	ck_assert_uint_eq(status(f), 0x0f);
	ck_assert_uint_eq(f->activations, 1);
	ck_assert(!f->activated[0].enabled);
	ck_assert(f->activated[1].enabled);
	ck_assert_uint_eq(f->activated[0].size, 64);
	ck_assert_uint_eq(f->activated[1].desc, 0x110000);
	ck_assert_uint_eq(f->activated[1].driver, 0x114000);
	ck_assert_uint_eq(f->activated[1].device, 0x118000);
	ck_assert_int_eq(f->activated[1].kick_fd, virtio_pci_kick_fd(&f->t, 1));
	ck_assert_int_eq(f->activated[1].call_fd, msix_vector_fd(&f->t.msix, 2));
	ck_assert_uint_eq(f->activated[1].msix_vector, 2);
	/* Setting DRIVER_OK again does not re-activate. */
	set_status(f, 0x0f);
	ck_assert_uint_eq(f->activations, 1);
	/* Queue config is frozen while live. */
	wr(f, VIRTIO_PCI_COMMON_Q_SIZE, 16, 2);
	ck_assert_uint_eq(rd(f, VIRTIO_PCI_COMMON_Q_SIZE, 2), QMAX);
	/* Reset: everything back to defaults, device told. */
	set_status(f, 0);
	ck_assert_uint_eq(f->resets, resets + 1);
	ck_assert_uint_eq(status(f), 0);
	ck_assert_uint_eq(rd(f, VIRTIO_PCI_COMMON_Q_ENABLE, 2), 0);
	ck_assert_uint_eq(rd(f, VIRTIO_PCI_COMMON_Q_SIZE, 2), QMAX);
	ck_assert_uint_eq(rd(f, VIRTIO_PCI_COMMON_Q_MSIX, 2), MSIX_NO_VECTOR);
	ck_assert_uint_eq(rd(f, VIRTIO_PCI_COMMON_MSIX, 2), MSIX_NO_VECTOR);
	ck_assert_uint_eq(rd(f, VIRTIO_PCI_COMMON_Q_DESCLO, 8), 0);
	wr(f, VIRTIO_PCI_COMMON_GFSELECT, 1, 4);
	ck_assert_uint_eq(rd(f, VIRTIO_PCI_COMMON_GF, 4), 0);
	teardown(f);
}
END_TEST

START_TEST(queue_setup_checks)
{
	struct fixture *f = setup();
	int config_fd = msix_vector_fd(&f->t.msix, 0);

	ck_assert_uint_eq(rd(f, VIRTIO_PCI_COMMON_NUMQ, 2), NQ);
	wr(f, VIRTIO_PCI_COMMON_MSIX, 0, 2);
	ck_assert_uint_eq(rd(f, VIRTIO_PCI_COMMON_MSIX, 2), 0);
	/* Queues past num_queues read as absent and ignore writes. */
	wr(f, VIRTIO_PCI_COMMON_Q_SELECT, NQ, 2);
	ck_assert_uint_eq(rd(f, VIRTIO_PCI_COMMON_Q_SIZE, 2), 0);
	wr(f, VIRTIO_PCI_COMMON_Q_ENABLE, 1, 2);
	ck_assert_uint_eq(rd(f, VIRTIO_PCI_COMMON_Q_ENABLE, 2), 0);
	/* Vectors beyond the table read back as NO_VECTOR. */
	wr(f, VIRTIO_PCI_COMMON_Q_SELECT, 0, 2);
	wr(f, VIRTIO_PCI_COMMON_Q_MSIX, NQ + 1, 2);
	ck_assert_uint_eq(rd(f, VIRTIO_PCI_COMMON_Q_MSIX, 2), MSIX_NO_VECTOR);
	ck_assert_uint_eq(rd(f, VIRTIO_PCI_COMMON_Q_NOFF, 2), 0);
	/* Size not a power of two: enable refused, NEEDS_RESET + config interrupt. */
	setup_queue(f, 0, 48);
	wr(f, VIRTIO_PCI_COMMON_Q_ENABLE, 1, 2);
	ck_assert_uint_eq(rd(f, VIRTIO_PCI_COMMON_Q_ENABLE, 2), 0);
	ck_assert_uint_ne(status(f) & VIRTIO_CONFIG_S_NEEDS_RESET, 0);
	ck_assert_uint_eq(take_count(config_fd), 1);
	ck_assert_uint_eq(rd(f, VIRTIO_PCI_ISR_OFFSET, 1), 2);
	ck_assert_uint_eq(rd(f, VIRTIO_PCI_ISR_OFFSET, 1), 0); /* read clears */
	set_status(f, 0);
	ck_assert_uint_eq(status(f), 0);
	/* Too big, misaligned, outside RAM. */
	setup_queue(f, 0, QMAX * 2);
	wr(f, VIRTIO_PCI_COMMON_Q_ENABLE, 1, 2);
	ck_assert_uint_eq(rd(f, VIRTIO_PCI_COMMON_Q_ENABLE, 2), 0);
	set_status(f, 0);
	setup_queue(f, 0, 16);
	wr(f, VIRTIO_PCI_COMMON_Q_DESCLO, 0x100008, 4);
	wr(f, VIRTIO_PCI_COMMON_Q_ENABLE, 1, 2);
	ck_assert_uint_eq(rd(f, VIRTIO_PCI_COMMON_Q_ENABLE, 2), 0);
	set_status(f, 0);
	setup_queue(f, 0, 16);
	wr(f, VIRTIO_PCI_COMMON_Q_USEDHI, 1, 4);
	wr(f, VIRTIO_PCI_COMMON_Q_ENABLE, 1, 2);
	ck_assert_uint_eq(rd(f, VIRTIO_PCI_COMMON_Q_ENABLE, 2), 0);
	set_status(f, 0);
	/* And a good one. */
	setup_queue(f, 0, 16);
	ck_assert_uint_eq(rd(f, VIRTIO_PCI_COMMON_Q_AVAILLO, 4), 0x104000);
	ck_assert_uint_eq(rd(f, VIRTIO_PCI_COMMON_Q_AVAILHI, 4), 0);
	wr(f, VIRTIO_PCI_COMMON_Q_ENABLE, 1, 2);
	ck_assert_uint_eq(rd(f, VIRTIO_PCI_COMMON_Q_ENABLE, 2), 1);
	ck_assert_uint_eq(status(f) & VIRTIO_CONFIG_S_NEEDS_RESET, 0);
	/* Enabled queues keep their config. */
	wr(f, VIRTIO_PCI_COMMON_Q_DESCLO, 0x200000, 4);
	ck_assert_uint_eq(rd(f, VIRTIO_PCI_COMMON_Q_DESCLO, 4), 0x100000);
	teardown(f);
}
END_TEST

START_TEST(notify_ioeventfds_follow_the_bar)
{
	struct fixture *f = setup();
	uint64_t moved = 0xc8000000;
	unsigned i;

	ck_assert_uint_eq(f->nioevents, NQ);
	for (i = 0; i < NQ; i++) {
		ck_assert_uint_eq(f->ioevents[i].addr, f->bar + VIRTIO_PCI_NOTIFY_OFFSET + 4 * i);
		ck_assert_int_eq(f->ioevents[i].fd, virtio_pci_kick_fd(&f->t, i));
	}
	pci_config_write(&f->t.fn, PCI_BASE_ADDRESS_0, (uint32_t)moved, 4);
	ck_assert_uint_eq(f->nioevents, NQ);
	for (i = 0; i < NQ; i++)
		ck_assert_uint_eq(f->ioevents[i].addr / VIRTIO_PCI_BAR_SIZE,
				  moved / VIRTIO_PCI_BAR_SIZE);
	pci_config_write(&f->t.fn, PCI_COMMAND, 0, 2);
	ck_assert_uint_eq(f->nioevents, 0);
	/* A kernel without any-length ioeventfds gets 2-byte ones, removed alike. */
	f->no_any_length = true;
	pci_config_write(&f->t.fn, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
	ck_assert_uint_eq(f->nioevents, NQ);
	ck_assert_uint_eq(f->ioevents[0].len, 2);
	pci_config_write(&f->t.fn, PCI_COMMAND, 0, 2);
	ck_assert_uint_eq(f->nioevents, 0);
	/* If KVM refuses, a notify write still kicks through the exit path. */
	f->ioeventfd_error = -ENOSPC;
	pci_config_write(&f->t.fn, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
	ck_assert_uint_eq(f->nioevents, 0);
	f->bar = moved;
	wr(f, VIRTIO_PCI_NOTIFY_OFFSET + 4, 1, 2);
	ck_assert_uint_eq(take_count(virtio_pci_kick_fd(&f->t, 1)), 1);
	ck_assert_uint_eq(take_count(virtio_pci_kick_fd(&f->t, 0)), 0);
	wr(f, VIRTIO_PCI_NOTIFY_OFFSET + 4 * NQ, 1, 2); /* past the last queue */
	ck_assert_uint_eq(take_count(virtio_pci_kick_fd(&f->t, 1)), 0);
	teardown(f);
}
END_TEST

START_TEST(bad_accesses_and_device_config)
{
	struct fixture *f = setup();

	ck_assert_uint_eq(rd(f, VIRTIO_PCI_COMMON_STATUS, 2), 0xffff);
	ck_assert_uint_eq(rd(f, VIRTIO_PCI_COMMON_NUMQ, 4), 0xffffffff);
	ck_assert_uint_eq(rd(f, VIRTIO_PCI_COMMON_DF + 1, 1), 0xff);
	ck_assert_uint_eq(rd(f, VIRTIO_PCI_COMMON_Q_DESCHI, 8), UINT64_MAX); /* misaligned qword */
	wr(f, VIRTIO_PCI_COMMON_STATUS, 0x0303, 2);
	ck_assert_uint_eq(status(f), 0);
	wr(f, VIRTIO_PCI_COMMON_Q_SIZE, 8, 4);
	ck_assert_uint_eq(rd(f, VIRTIO_PCI_COMMON_Q_SIZE, 2), QMAX);
	ck_assert_uint_eq(rd(f, 0x3c, 4), 0xffffffff);
	/* Device config: inside goes to the device, outside reads all-ones. */
	wr(f, VIRTIO_PCI_DEVICE_OFFSET + 4, 0xaabbccdd, 4);
	ck_assert_uint_eq(f->config[4], 0xdd);
	ck_assert_uint_eq(rd(f, VIRTIO_PCI_DEVICE_OFFSET + 6, 2), 0xaabb);
	ck_assert_uint_eq(rd(f, VIRTIO_PCI_DEVICE_OFFSET + 6, 4), 0xffffffff);
	ck_assert_uint_eq(rd(f, VIRTIO_PCI_DEVICE_OFFSET + 8, 1), 0xff);
	wr(f, VIRTIO_PCI_DEVICE_OFFSET + 7, 0x1122, 2);
	ck_assert_uint_eq(f->config[7], 0xaa);
	/* Holes read 0 and ignore writes. */
	ck_assert_uint_eq(rd(f, 0x800, 4), 0);
	wr(f, 0x800, 1, 4);
	teardown(f);
}
END_TEST

START_TEST(activation_failure_and_config_change)
{
	struct fixture *f = setup();
	int config_fd = msix_vector_fd(&f->t.msix, 1);
	uint8_t generation = (uint8_t)rd(f, VIRTIO_PCI_COMMON_CFGGENERATION, 1);

	wr(f, VIRTIO_PCI_COMMON_MSIX, 1, 2);
	virtio_pci_config_changed(&f->t);
	ck_assert_uint_eq(rd(f, VIRTIO_PCI_COMMON_CFGGENERATION, 1), (uint8_t)(generation + 1));
	ck_assert_uint_eq(take_count(config_fd), 1);
	set_status(f, 3);
	set_driver_features(f, 1ull << VIRTIO_F_VERSION_1);
	set_status(f, 0x0b);
	f->activate_error = -EIO;
	set_status(f, 0x0f);
	ck_assert_uint_eq(f->activations, 1);
	ck_assert_uint_eq(status(f), 0x0f | VIRTIO_CONFIG_S_NEEDS_RESET);
	ck_assert_uint_eq(take_count(config_fd), 1);
	/* Only reset clears NEEDS_RESET. */
	set_status(f, 0x8f);
	ck_assert_uint_ne(status(f) & VIRTIO_CONFIG_S_NEEDS_RESET, 0);
	set_status(f, 0);
	ck_assert_uint_eq(status(f), 0);
	/* Queue interrupts go to the queue's vector. */
	setup_queue(f, 1, 16);
	virtio_pci_notify_queue(&f->t, 1);
	ck_assert_uint_eq(take_count(msix_vector_fd(&f->t.msix, 2)), 1);
	virtio_pci_notify_queue(&f->t, NQ);
	teardown(f);
}
END_TEST

/* A guest that resets a device whose activation fails, 1,000 times: a bounded number of lines. */
START_TEST(needs_reset_lines_are_rate_limited)
{
	struct fixture *f = setup();
	int saved = test_stderr_begin(), lines;

	ck_assert_int_ge(saved, 0);
	f->activate_error = -EIO;
	for (int i = 0; i < 1000; i++) {
		set_status(f, 0);
		set_status(f, 3);
		set_driver_features(f, 1ull << VIRTIO_F_VERSION_1);
		set_status(f, 0x0b);
		set_status(f, 0x0f);
		ck_assert_uint_ne(status(f) & VIRTIO_CONFIG_S_NEEDS_RESET, 0);
	}
	lines = test_stderr_end(saved);
	ck_assert_msg(lines >= 1 && lines <= LOG_RATELIMIT_BURST + 1, "%d lines", lines);
	teardown(f);
}
END_TEST

/* Points the PCI_CFG window at BAR bar, offset off, len bytes. */
static void cfg_window_setup(struct fixture *f, uint8_t bar, uint32_t off, uint32_t len)
{
	unsigned c = f->t.cfg_cap;

	pci_config_write(&f->t.fn, c + VIRTIO_PCI_CAP_BAR, bar, 1);
	pci_config_write(&f->t.fn, c + VIRTIO_PCI_CAP_OFFSET, off, 4);
	pci_config_write(&f->t.fn, c + VIRTIO_PCI_CAP_LENGTH, len, 4);
}

START_TEST(pci_cfg_access_window)
{
	struct fixture *f = setup();
	unsigned data = f->t.cfg_cap + 16;

	ck_assert_uint_eq(pci_config_read(&f->t.fn, f->t.cfg_cap + VIRTIO_PCI_CAP_CFG_TYPE, 1),
			  VIRTIO_PCI_CAP_PCI_CFG);
	/* Works with BAR decoding off, as firmware would use it. */
	pci_config_write(&f->t.fn, PCI_COMMAND, 0, 2);
	cfg_window_setup(f, 0, VIRTIO_PCI_COMMON_NUMQ, 2);
	ck_assert_uint_eq(pci_config_read(&f->t.fn, data, 2), NQ);
	cfg_window_setup(f, 0, VIRTIO_PCI_COMMON_STATUS, 1);
	pci_config_write(&f->t.fn, data, VIRTIO_CONFIG_S_ACKNOWLEDGE, 1);
	ck_assert_uint_eq(f->t.status, VIRTIO_CONFIG_S_ACKNOWLEDGE);
	ck_assert_uint_eq(pci_config_read(&f->t.fn, data, 1), VIRTIO_CONFIG_S_ACKNOWLEDGE);
	/* Wrong BAR, odd length, misaligned or past the BAR: no access happens. */
	cfg_window_setup(f, 1, VIRTIO_PCI_COMMON_STATUS, 1);
	pci_config_write(&f->t.fn, data, 0x0f, 1);
	cfg_window_setup(f, 0, VIRTIO_PCI_COMMON_STATUS, 3);
	pci_config_write(&f->t.fn, data, 0x0f, 4);
	cfg_window_setup(f, 0, VIRTIO_PCI_COMMON_Q_SELECT + 1, 2);
	pci_config_write(&f->t.fn, data, 0x0f, 2);
	cfg_window_setup(f, 0, 0xfffffffc, 4);
	pci_config_write(&f->t.fn, data, 0x0f, 4);
	ck_assert_uint_eq(pci_config_read(&f->t.fn, data, 4), 0x0f);
	ck_assert_uint_eq(f->t.status, VIRTIO_CONFIG_S_ACKNOWLEDGE);
	ck_assert_uint_eq(f->t.queue_select, 0);
	teardown(f);
}
END_TEST

/* Random writes over BAR 0 and config space: the transport stays consistent. */
START_TEST(random_guest_writes_survive)
{
	struct fixture *f = setup();
	unsigned i;

	srandom(1);
	for (i = 0; i < 200000; i++) {
		unsigned len = 1u << (random() % 4);
		uint64_t v = (uint64_t)random() << 32 | (uint64_t)random();
		uint64_t off = (uint64_t)random() % (VIRTIO_PCI_BAR_SIZE + 0x100);

		if (i % 7 == 0)
			pci_config_write(&f->t.fn, (unsigned)random() % 256, (uint32_t)v, len % 8);
		else if (f->t.fn.bars[0].mapped)
			io_bus_access(&f->vm.mmio, f->t.fn.bars[0].mapped_addr + off, &v, len,
				      random() % 4 != 0);
		ck_assert_uint_le(f->nioevents, NQ);
		if (f->t.fn.bars[0].mapped && random() % 64 == 0)
			pci_config_write(&f->t.fn, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
	}
	ck_assert_uint_eq(pci_config_read(&f->t.fn, 0, 4), 0x1042u << 16 | 0x1af4);
	teardown(f);
}
END_TEST

static Suite *virtio_pci_suite(void)
{
	Suite *s = suite_create("virtio_pci");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, identity_and_capabilities);
	tcase_add_test(tc, feature_negotiation);
	tcase_add_test(tc, status_machine_and_reset);
	tcase_add_test(tc, queue_setup_checks);
	tcase_add_test(tc, notify_ioeventfds_follow_the_bar);
	tcase_add_test(tc, bad_accesses_and_device_config);
	tcase_add_test(tc, activation_failure_and_config_change);
	tcase_add_test(tc, pci_cfg_access_window);
	tcase_add_test(tc, random_guest_writes_survive);
	tcase_add_test(tc, needs_reset_lines_are_rate_limited);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(virtio_pci_suite)
