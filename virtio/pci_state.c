/*
 * Snapshot of the virtio PCI transport: features, status, vectors and every
 * queue. Loading replays the driver's common-config writes in the order a
 * driver makes them, so the device is activated at DRIVER_OK by the same
 * path as at boot (a vhost-user device then starts its rings from the
 * indices it was given before, see vhost_user/device/state.c).
 */
#include "virtio/pci_transport.h"

#include <linux/virtio_config.h>
#include <linux/virtio_pci.h>

#include "virtio/pci_common_cfg.h"
#include "vmm/snapfmt.h"

void virtio_pci_save(const struct virtio_pci *t, struct snap_buf *b)
{
	pci_function_save(&t->fn, b);
	snap_put_u64(b, t->driver_features);
	snap_put_u8(b, t->status);
	snap_put_u16(b, t->config_vector);
	snap_put_u8(b, t->config_generation);
	snap_put_u8(b, t->isr);
	snap_put_u16(b, t->queue_select);
	snap_put_u32(b, t->device_feature_select);
	snap_put_u32(b, t->driver_feature_select);
	snap_put_u32(b, t->params.num_queues);
	for (unsigned i = 0; i < t->params.num_queues; i++) {
		const struct virtio_pci_queue *q = &t->queues[i];

		snap_put_u16(b, q->size);
		snap_put_u16(b, q->msix_vector);
		snap_put_u8(b, q->enabled);
		snap_put_u64(b, q->desc);
		snap_put_u64(b, q->driver);
		snap_put_u64(b, q->device);
	}
}

static void wr(struct virtio_pci *t, uint64_t offset, uint64_t value, unsigned len)
{
	virtio_pci_common_write(t, offset, &value, len);
}

static bool replay_queues(struct virtio_pci *t, struct snap_reader *rd)
{
	if (!snap_expect_u32(rd, "queue count", t->params.num_queues))
		return false;
	for (unsigned i = 0; i < t->params.num_queues; i++) {
		uint16_t size = 0, vector = 0;
		uint8_t enabled = 0;
		uint64_t desc = 0, driver = 0, device = 0;

		snap_get_u16(rd, "queue size", &size);
		snap_get_u16(rd, "queue vector", &vector);
		snap_get_u8(rd, "queue enabled", &enabled);
		snap_get_u64(rd, "queue desc", &desc);
		snap_get_u64(rd, "queue driver", &driver);
		if (!snap_get_u64(rd, "queue device", &device))
			return false;
		wr(t, VIRTIO_PCI_COMMON_Q_SELECT, i, 2);
		wr(t, VIRTIO_PCI_COMMON_Q_SIZE, size, 2);
		wr(t, VIRTIO_PCI_COMMON_Q_MSIX, vector, 2);
		wr(t, VIRTIO_PCI_COMMON_Q_DESCLO, desc, 8);
		wr(t, VIRTIO_PCI_COMMON_Q_AVAILLO, driver, 8);
		wr(t, VIRTIO_PCI_COMMON_Q_USEDLO, device, 8);
		if (enabled)
			wr(t, VIRTIO_PCI_COMMON_Q_ENABLE, 1, 2);
		if (t->queues[i].enabled != !!enabled)
			return snap_fail(rd, "queue enabled", "queue %u refused its saved rings",
					 i);
	}
	return true;
}

bool virtio_pci_load(struct virtio_pci *t, struct snap_reader *rd)
{
	uint64_t features = 0;
	uint8_t status = 0, generation = 0, isr = 0;
	uint16_t config_vector = 0, select = 0;
	uint32_t dfselect = 0, gfselect = 0;
	const uint8_t early = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER;

	if (!pci_function_load(&t->fn, rd))
		return false;
	snap_get_u64(rd, "driver features", &features);
	snap_get_u8(rd, "status", &status);
	snap_get_u16(rd, "config vector", &config_vector);
	snap_get_u8(rd, "config generation", &generation);
	snap_get_u8(rd, "isr", &isr);
	snap_get_u16(rd, "queue select", &select);
	snap_get_u32(rd, "device feature select", &dfselect);
	if (!snap_get_u32(rd, "driver feature select", &gfselect))
		return false;
	if (status & VIRTIO_CONFIG_S_NEEDS_RESET)
		return snap_fail(rd, "status", "saved while the device needed a reset");
	if (status & early)
		wr(t, VIRTIO_PCI_COMMON_STATUS, status & early, 1);
	for (unsigned half = 0; half < 2; half++) {
		wr(t, VIRTIO_PCI_COMMON_GFSELECT, half, 4);
		wr(t, VIRTIO_PCI_COMMON_GF, (uint32_t)(features >> (32 * half)), 4);
	}
	if (status & VIRTIO_CONFIG_S_FEATURES_OK)
		wr(t, VIRTIO_PCI_COMMON_STATUS, status & (early | VIRTIO_CONFIG_S_FEATURES_OK), 1);
	wr(t, VIRTIO_PCI_COMMON_MSIX, config_vector, 2);
	if (!replay_queues(t, rd))
		return false;
	if (status)
		wr(t, VIRTIO_PCI_COMMON_STATUS, status, 1);
	if (t->status != status)
		return snap_fail(
		    rd, "status", "0x%x in the snapshot, 0x%x after replay%s", status, t->status,
		    t->status & VIRTIO_CONFIG_S_NEEDS_RESET ? " (activation failed)" : "");
	t->config_generation = generation;
	t->isr = isr;
	t->queue_select = select;
	t->device_feature_select = dfselect;
	t->driver_feature_select = gfselect;
	return true;
}
