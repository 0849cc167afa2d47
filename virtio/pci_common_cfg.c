/* virtio PCI common config: features, device status machine, queue setup. */
#include "virtio/pci_common_cfg.h"

#include <linux/virtio_config.h>
#include <linux/virtio_pci.h>
#include <string.h>

#include "vmm/memory.h"

#define STATUS_DRIVER_BITS                                                                         \
	(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_DRIVER_OK |        \
	 VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_FAILED)

static uint64_t device_features(const struct virtio_pci *t)
{
	uint64_t features = t->params.ops->features ? t->params.ops->features(t->params.dev) : 0;

	return features | 1ull << VIRTIO_F_VERSION_1;
}

/* The selected queue, or NULL when queue_select is out of range. */
static struct virtio_pci_queue *selected(struct virtio_pci *t)
{
	return t->queue_select < t->params.num_queues ? &t->queues[t->queue_select] : NULL;
}

/* Natural width of the field at offset; 0 for no field. 64-bit ones are split. */
static unsigned field_width(uint64_t offset)
{
	switch (offset) {
	case VIRTIO_PCI_COMMON_DFSELECT:
	case VIRTIO_PCI_COMMON_DF:
	case VIRTIO_PCI_COMMON_GFSELECT:
	case VIRTIO_PCI_COMMON_GF:
	case VIRTIO_PCI_COMMON_Q_DESCLO ... VIRTIO_PCI_COMMON_Q_USEDHI + 3:
		return offset % 4 == 0 ? 4 : 0;
	case VIRTIO_PCI_COMMON_STATUS:
	case VIRTIO_PCI_COMMON_CFGGENERATION:
		return 1;
	case VIRTIO_PCI_COMMON_MSIX:
	case VIRTIO_PCI_COMMON_NUMQ:
	case VIRTIO_PCI_COMMON_Q_SELECT:
	case VIRTIO_PCI_COMMON_Q_SIZE:
	case VIRTIO_PCI_COMMON_Q_MSIX:
	case VIRTIO_PCI_COMMON_Q_ENABLE:
	case VIRTIO_PCI_COMMON_Q_NOFF:
	case VIRTIO_PCI_COMMON_Q_NDATA:
		return 2;
	default:
		return 0;
	}
}

static bool is_ring_address(uint64_t offset)
{
	return offset >= VIRTIO_PCI_COMMON_Q_DESCLO && offset <= VIRTIO_PCI_COMMON_Q_USEDHI;
}

static bool access_ok(struct virtio_pci *t, uint64_t offset, unsigned len)
{
	unsigned width = field_width(offset);

	if (width && (len == width || (len == 8 && is_ring_address(offset) && offset % 8 == 0)))
		return true;
	log_warn_ratelimited(&t->rl, t->params.name, "common config: %u-byte access at 0x%llx", len,
			     (unsigned long long)offset);
	return false;
}

static uint64_t *ring_address(struct virtio_pci_queue *q, uint64_t offset)
{
	if (offset < VIRTIO_PCI_COMMON_Q_AVAILLO)
		return &q->desc;
	return offset < VIRTIO_PCI_COMMON_Q_USEDLO ? &q->driver : &q->device;
}

static uint64_t queue_read(struct virtio_pci *t, struct virtio_pci_queue *q, uint64_t offset)
{
	if (!q)
		return 0; /* queue_size 0 tells the driver the queue does not exist */
	switch (offset) {
	case VIRTIO_PCI_COMMON_Q_SIZE:
		return q->size;
	case VIRTIO_PCI_COMMON_Q_MSIX:
		return q->msix_vector;
	case VIRTIO_PCI_COMMON_Q_ENABLE:
		return q->enabled;
	case VIRTIO_PCI_COMMON_Q_NOFF:
		return t->queue_select;
	case VIRTIO_PCI_COMMON_Q_NDATA:
		return 0;
	default: /* a ring address, whole or one half */
		return *ring_address(q, offset) >> (offset % 8 ? 32 : 0);
	}
}

static uint64_t common_value(struct virtio_pci *t, uint64_t offset)
{
	switch (offset) {
	case VIRTIO_PCI_COMMON_DFSELECT:
		return t->device_feature_select;
	case VIRTIO_PCI_COMMON_DF:
		return t->device_feature_select < 2
			   ? (uint32_t)(device_features(t) >> (32 * t->device_feature_select))
			   : 0;
	case VIRTIO_PCI_COMMON_GFSELECT:
		return t->driver_feature_select;
	case VIRTIO_PCI_COMMON_GF:
		return t->driver_feature_select < 2
			   ? (uint32_t)(t->driver_features >> (32 * t->driver_feature_select))
			   : 0;
	case VIRTIO_PCI_COMMON_MSIX:
		return t->config_vector;
	case VIRTIO_PCI_COMMON_NUMQ:
		return t->params.num_queues;
	case VIRTIO_PCI_COMMON_STATUS:
		return t->status;
	case VIRTIO_PCI_COMMON_CFGGENERATION:
		return t->config_generation;
	case VIRTIO_PCI_COMMON_Q_SELECT:
		return t->queue_select;
	default:
		return queue_read(t, selected(t), offset);
	}
}

void virtio_pci_common_read(struct virtio_pci *t, uint64_t offset, void *data, unsigned len)
{
	uint64_t value;

	if (!access_ok(t, offset, len)) {
		memset(data, 0xff, len);
		return;
	}
	value = common_value(t, offset);
	memcpy(data, &value, len); /* little-endian host: the low bytes */
}

void virtio_pci_reset(struct virtio_pci *t)
{
	unsigned i;

	/*
	 * After a reset the driver waits for status to read 0 (Linux spins
	 * on it), so a failure during the device's reset cannot show here: the
	 * device stays failed and reports NEEDS_RESET at its next activation.
	 */
	if (t->params.ops->reset)
		t->params.ops->reset(t->params.dev);
	t->active = false;
	for (i = 0; i < t->params.num_queues; i++) {
		struct virtio_pci_queue *q = &t->queues[i];
		q->size = t->params.queue_max_size;
		q->msix_vector = MSIX_NO_VECTOR;
		q->enabled = false;
		q->desc = q->driver = q->device = 0;
	}
	t->device_feature_select = t->driver_feature_select = 0;
	t->driver_features = 0;
	t->config_vector = MSIX_NO_VECTOR;
	t->queue_select = 0;
	t->status = 0;
	t->isr = 0;
}

static bool features_acceptable(struct virtio_pci *t)
{
	uint64_t offered = device_features(t);

	if (t->driver_features & ~offered) {
		log_warn_ratelimited(&t->rl, t->params.name,
				     "driver accepted features 0x%llx never offered",
				     (unsigned long long)(t->driver_features & ~offered));
		return false;
	}
	/* We are a modern-only device: legacy drivers must fail FEATURES_OK. */
	return t->driver_features & (1ull << VIRTIO_F_VERSION_1);
}

static int activate(struct virtio_pci *t)
{
	struct virtio_queue_info info[VIRTIO_PCI_MAX_QUEUES];
	unsigned i;

	for (i = 0; i < t->params.num_queues; i++) {
		const struct virtio_pci_queue *q = &t->queues[i];
		info[i] = (struct virtio_queue_info){
		    .enabled = q->enabled,
		    .size = q->size,
		    .desc = q->desc,
		    .driver = q->driver,
		    .device = q->device,
		    .kick_fd = q->kick_fd,
		    .call_fd = msix_vector_fd(&t->msix, q->msix_vector),
		    .msix_vector = q->msix_vector,
		};
	}
	if (!t->params.ops->activate)
		return 0;
	return t->params.ops->activate(t->params.dev, t->driver_features, info,
				       t->params.num_queues);
}

static void status_write(struct virtio_pci *t, uint8_t value)
{
	uint8_t old = t->status & STATUS_DRIVER_BITS;
	uint8_t next = value & STATUS_DRIVER_BITS;

	if (value == 0) {
		virtio_pci_reset(t);
		return;
	}
	if (old & ~next) {
		log_warn_ratelimited(&t->rl, t->params.name,
				     "driver cleared status bits (0x%x -> 0x%x); ignored", old,
				     value);
		return;
	}
	if ((next & ~old & VIRTIO_CONFIG_S_FEATURES_OK) && !features_acceptable(t))
		next &= (uint8_t)~VIRTIO_CONFIG_S_FEATURES_OK;
	if ((next & ~old & VIRTIO_CONFIG_S_DRIVER_OK) && !(next & VIRTIO_CONFIG_S_FEATURES_OK)) {
		log_warn_ratelimited(&t->rl, t->params.name, "DRIVER_OK without FEATURES_OK");
		next &= (uint8_t)~VIRTIO_CONFIG_S_DRIVER_OK;
	}
	t->status = (uint8_t)(next | (t->status & VIRTIO_CONFIG_S_NEEDS_RESET));
	if ((next & ~old & VIRTIO_CONFIG_S_DRIVER_OK) &&
	    !(t->status & VIRTIO_CONFIG_S_NEEDS_RESET)) {
		int err = activate(t);
		if (err)
			virtio_pci_set_needs_reset(t, "device activation failed");
		else
			t->active = true;
	}
}

static const char *ring_problem(const struct virtio_pci *t, const struct virtio_pci_queue *q)
{
	uint64_t n = q->size;

	if (n == 0 || n & (n - 1) || n > t->params.queue_max_size)
		return "size is not a power of two up to the maximum";
	if (q->desc % 16 || q->driver % 2 || q->device % 4)
		return "misaligned ring";
	if (t->mem && (!guest_memory_ptr(t->mem, q->desc, 16 * n) ||
		       !guest_memory_ptr(t->mem, q->driver, 6 + 2 * n) ||
		       !guest_memory_ptr(t->mem, q->device, 6 + 8 * n)))
		return "ring outside guest RAM";
	return NULL;
}

static void queue_enable(struct virtio_pci *t, struct virtio_pci_queue *q, uint16_t value)
{
	const char *problem;

	if (value != 1 || q->enabled)
		return; /* 0 is not how a queue is disabled (the spec says reset) */
	problem = ring_problem(t, q);
	if (problem) {
		virtio_pci_set_needs_reset(t, problem);
		return;
	}
	q->enabled = true;
}

static void queue_write(struct virtio_pci *t, uint64_t offset, uint64_t value, unsigned len)
{
	struct virtio_pci_queue *q = selected(t);
	uint64_t *addr;

	if (!q)
		return;
	if (offset == VIRTIO_PCI_COMMON_Q_MSIX) {
		/* Reading back NO_VECTOR tells the driver the vector was refused. */
		q->msix_vector = value < t->msix.nvectors ? (uint16_t)value : MSIX_NO_VECTOR;
		return;
	}
	if (offset == VIRTIO_PCI_COMMON_Q_ENABLE) {
		queue_enable(t, q, (uint16_t)value);
		return;
	}
	if (q->enabled || t->status & VIRTIO_CONFIG_S_DRIVER_OK) {
		log_warn_ratelimited(&t->rl, t->params.name, "queue %u changed while live; ignored",
				     t->queue_select);
		return;
	}
	if (offset == VIRTIO_PCI_COMMON_Q_SIZE) {
		q->size = (uint16_t)value;
	} else if (is_ring_address(offset)) {
		addr = ring_address(q, offset);
		if (len == 8)
			*addr = value;
		else if (offset % 8)
			*addr = (*addr & 0xffffffffu) | value << 32;
		else
			*addr = (*addr & ~0xffffffffull) | value;
	}
}

static void driver_features_write(struct virtio_pci *t, uint32_t value)
{
	unsigned shift = 32 * t->driver_feature_select;

	if (t->driver_feature_select >= 2)
		return;
	if (t->status & VIRTIO_CONFIG_S_FEATURES_OK) {
		log_warn_ratelimited(&t->rl, t->params.name, "features written after FEATURES_OK");
		return;
	}
	t->driver_features = (t->driver_features & ~(0xffffffffull << shift)) | (uint64_t)value
										    << shift;
}

void virtio_pci_common_write(struct virtio_pci *t, uint64_t offset, const void *data, unsigned len)
{
	uint64_t value = 0;

	if (!access_ok(t, offset, len))
		return;
	memcpy(&value, data, len);
	switch (offset) {
	case VIRTIO_PCI_COMMON_DFSELECT:
		t->device_feature_select = (uint32_t)value;
		break;
	case VIRTIO_PCI_COMMON_GFSELECT:
		t->driver_feature_select = (uint32_t)value;
		break;
	case VIRTIO_PCI_COMMON_GF:
		driver_features_write(t, (uint32_t)value);
		break;
	case VIRTIO_PCI_COMMON_MSIX:
		t->config_vector = value < t->msix.nvectors ? (uint16_t)value : MSIX_NO_VECTOR;
		break;
	case VIRTIO_PCI_COMMON_STATUS:
		status_write(t, (uint8_t)value);
		break;
	case VIRTIO_PCI_COMMON_Q_SELECT:
		t->queue_select = (uint16_t)value;
		break;
	case VIRTIO_PCI_COMMON_DF:
	case VIRTIO_PCI_COMMON_NUMQ:
	case VIRTIO_PCI_COMMON_CFGGENERATION:
	case VIRTIO_PCI_COMMON_Q_NOFF:
	case VIRTIO_PCI_COMMON_Q_NDATA:
		break; /* read-only */
	default:
		queue_write(t, offset, value, len);
	}
}
