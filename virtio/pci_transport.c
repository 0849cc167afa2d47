/* virtio PCI transport: capabilities, BAR 0 dispatch, notify ioeventfds, interrupts. */
#include "virtio/pci_transport.h"

#include <errno.h>
#include <linux/pci_regs.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_pci.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "virtio/pci_common_cfg.h"
#include "vmm/vm.h"

#define ISR_QUEUE 1
#define ISR_CONFIG 2

uint32_t virtio_pci_class_for_type(uint16_t device_type)
{
	switch (device_type) {
	case VIRTIO_ID_NET:
		return 0x020000; /* network controller, ethernet */
	case VIRTIO_ID_BLOCK:
	case VIRTIO_ID_SCSI:
		return 0x018000; /* mass storage, other */
	case VIRTIO_ID_CONSOLE:
		return 0x078000; /* communication, other */
	case VIRTIO_ID_INPUT:
		return 0x098000; /* input, other */
	case VIRTIO_ID_GPU:
		return 0x038000; /* display, other */
	default:
		return 0x00ff00; /* unclassified, other */
	}
}

static void kick(int fd)
{
	uint64_t one = 1;

	if (write(fd, &one, sizeof(one)) < 0)
		return; /* counter saturated: the kick is already pending */
}

static void notify_write(struct virtio_pci *t, uint64_t offset, unsigned len)
{
	uint64_t q = offset / VIRTIO_PCI_NOTIFY_MULTIPLIER;

	/* Only reached when KVM did not take the write as an ioeventfd. */
	(void)len;
	if (q < t->params.num_queues)
		kick(t->queues[q].kick_fd);
}

static void device_cfg_access(struct virtio_pci *t, uint64_t offset, void *data, unsigned len,
			      bool is_write)
{
	const struct virtio_device_ops *ops = t->params.ops;

	if (offset >= t->params.config_size || len > t->params.config_size - offset) {
		if (!is_write)
			memset(data, 0xff, len);
		return;
	}
	if (is_write && ops->config_write)
		ops->config_write(t->params.dev, (uint32_t)offset, data, len);
	else if (!is_write && ops->config_read)
		ops->config_read(t->params.dev, (uint32_t)offset, data, len);
	else if (!is_write)
		memset(data, 0, len);
}

static void bar_read(void *opaque, uint64_t offset, void *data, unsigned len)
{
	struct virtio_pci *t = opaque;

	memset(data, 0, len);
	if (offset < VIRTIO_PCI_COMMON_SIZE) {
		virtio_pci_common_read(t, offset, data, len);
	} else if (offset == VIRTIO_PCI_ISR_OFFSET) {
		/* Reading ISR acknowledges it (only used without MSI-X). */
		memcpy(data, &t->isr, 1);
		t->isr = 0;
	} else if (offset >= VIRTIO_PCI_DEVICE_OFFSET && offset < VIRTIO_PCI_NOTIFY_OFFSET) {
		device_cfg_access(t, offset - VIRTIO_PCI_DEVICE_OFFSET, data, len, false);
	}
}

static void bar_write(void *opaque, uint64_t offset, const void *data, unsigned len)
{
	struct virtio_pci *t = opaque;

	if (offset < VIRTIO_PCI_COMMON_SIZE)
		virtio_pci_common_write(t, offset, data, len);
	else if (offset >= VIRTIO_PCI_DEVICE_OFFSET && offset < VIRTIO_PCI_NOTIFY_OFFSET)
		device_cfg_access(t, offset - VIRTIO_PCI_DEVICE_OFFSET, (void *)data, len, true);
	else if (offset >= VIRTIO_PCI_NOTIFY_OFFSET)
		notify_write(t, offset - VIRTIO_PCI_NOTIFY_OFFSET, len);
}

static const struct io_ops virtio_bar_ops = {.read = bar_read, .write = bar_write};

static void ioeventfds_off(struct virtio_pci *t)
{
	unsigned i;

	for (i = 0; i < t->params.num_queues; i++) {
		struct virtio_pci_queue *q = &t->queues[i];
		if (!q->ioeventfd_on)
			continue;
		t->plat.ioeventfd(t->plat.ctx, q->kick_fd, q->ioeventfd_addr, q->ioeventfd_len,
				  false);
		q->ioeventfd_on = false;
	}
}

static void ioeventfds_on(struct virtio_pci *t, uint64_t bar_addr)
{
	unsigned i;

	for (i = 0; i < t->params.num_queues; i++) {
		struct virtio_pci_queue *q = &t->queues[i];
		uint64_t addr =
		    bar_addr + VIRTIO_PCI_NOTIFY_OFFSET + i * VIRTIO_PCI_NOTIFY_MULTIPLIER;
		/*
		 * Length 0 matches a write of any size and lets KVM take its
		 * fast MMIO path: it skips the instruction instead of decoding
		 * and emulating it, which under nested virtualization is most
		 * of a kick's cost. Kernels without it get the 2-byte match.
		 */
		unsigned len = 0;
		int err = t->plat.ioeventfd(t->plat.ctx, q->kick_fd, addr, len, true);

		if (err == -EINVAL) {
			len = 2;
			err = t->plat.ioeventfd(t->plat.ctx, q->kick_fd, addr, len, true);
		}

		/* Without it kicks still work, through an exit and notify_write. */
		if (err) {
			log_warn_ratelimited(&t->rl, t->params.name,
					     "queue %u: ioeventfd at 0x%llx failed (%d)", i,
					     (unsigned long long)addr, err);
			continue;
		}
		q->ioeventfd_on = true;
		q->ioeventfd_addr = addr;
		q->ioeventfd_len = len;
	}
}

/* BAR 0 moved or decode toggled: the notify ioeventfds follow it. */
static void bar_moved(void *opaque, unsigned bar, bool mapped, uint64_t addr)
{
	struct virtio_pci *t = opaque;

	if (bar != VIRTIO_PCI_BAR || !t->plat.ioeventfd)
		return;
	ioeventfds_off(t);
	if (mapped)
		ioeventfds_on(t, addr);
}

/*
 * The VIRTIO_PCI_CAP_PCI_CFG window: firmware without BAR mappings reaches
 * BAR 0 through config space. The guest picks bar/offset/length, then
 * reads or writes pci_cfg_data; anything but an aligned 1/2/4-byte access
 * inside BAR 0 is ignored (reads then see whatever the data bytes hold).
 */
static bool cfg_window(struct virtio_pci *t, unsigned offset, unsigned len, uint32_t *bar_off,
		       uint32_t *bar_len)
{
	const uint8_t *c = &t->fn.cfg.bytes[t->cfg_cap];
	unsigned data = t->cfg_cap + sizeof(struct virtio_pci_cap);

	if (offset >= data + 4 || data >= offset + len)
		return false;
	memcpy(bar_off, &c[VIRTIO_PCI_CAP_OFFSET], 4);
	memcpy(bar_len, &c[VIRTIO_PCI_CAP_LENGTH], 4);
	return c[VIRTIO_PCI_CAP_BAR] == VIRTIO_PCI_BAR &&
	       (*bar_len == 1 || *bar_len == 2 || *bar_len == 4) && *bar_off % *bar_len == 0 &&
	       *bar_off < VIRTIO_PCI_BAR_SIZE;
}

static void cfg_window_read(void *opaque, unsigned offset, unsigned len)
{
	struct virtio_pci *t = opaque;
	uint32_t bar_off, bar_len;

	if (cfg_window(t, offset, len, &bar_off, &bar_len))
		bar_read(t, bar_off, &t->fn.cfg.bytes[t->cfg_cap + sizeof(struct virtio_pci_cap)],
			 bar_len);
}

static void cfg_window_write(void *opaque, unsigned offset, unsigned len)
{
	struct virtio_pci *t = opaque;
	uint32_t bar_off, bar_len;

	if (cfg_window(t, offset, len, &bar_off, &bar_len))
		bar_write(t, bar_off, &t->fn.cfg.bytes[t->cfg_cap + sizeof(struct virtio_pci_cap)],
			  bar_len);
}

static const struct pci_config_hooks cfg_window_hooks = {
    .before_read = cfg_window_read,
    .after_write = cfg_window_write,
};

static int add_cfg_window(struct virtio_pci *t)
{
	uint8_t at = pci_add_capability(&t->fn, PCI_CAP_ID_VNDR, sizeof(struct virtio_pci_cfg_cap));

	if (!at)
		return -ENOSPC;
	t->fn.cfg.bytes[at + VIRTIO_PCI_CAP_LEN] = sizeof(struct virtio_pci_cfg_cap);
	t->fn.cfg.bytes[at + VIRTIO_PCI_CAP_CFG_TYPE] = VIRTIO_PCI_CAP_PCI_CFG;
	pci_set_wmask(&t->fn, at + VIRTIO_PCI_CAP_BAR, 0xff, 1);
	pci_set_wmask(&t->fn, at + VIRTIO_PCI_CAP_OFFSET, 0xffffffff, 4);
	pci_set_wmask(&t->fn, at + VIRTIO_PCI_CAP_LENGTH, 0xffffffff, 4);
	pci_set_wmask(&t->fn, at + sizeof(struct virtio_pci_cap), 0xffffffff, 4);
	t->cfg_cap = at;
	t->fn.hooks = &cfg_window_hooks;
	t->fn.hooks_opaque = t;
	return 0;
}

/* One virtio_pci_cap (plus the multiplier for notify) in config space. */
static int add_virtio_cap(struct pci_function *fn, uint8_t type, uint32_t offset, uint32_t length)
{
	unsigned len = type == VIRTIO_PCI_CAP_NOTIFY_CFG ? sizeof(struct virtio_pci_notify_cap)
							 : sizeof(struct virtio_pci_cap);
	uint8_t at = pci_add_capability(fn, PCI_CAP_ID_VNDR, len);
	uint8_t *c = &fn->cfg.bytes[at];
	uint32_t multiplier = VIRTIO_PCI_NOTIFY_MULTIPLIER;

	if (!at)
		return -ENOSPC;
	c[VIRTIO_PCI_CAP_LEN] = (uint8_t)len;
	c[VIRTIO_PCI_CAP_CFG_TYPE] = type;
	c[VIRTIO_PCI_CAP_BAR] = VIRTIO_PCI_BAR;
	memcpy(&c[VIRTIO_PCI_CAP_OFFSET], &offset, 4);
	memcpy(&c[VIRTIO_PCI_CAP_LENGTH], &length, 4);
	if (type == VIRTIO_PCI_CAP_NOTIFY_CFG)
		memcpy(&c[sizeof(struct virtio_pci_cap)], &multiplier, 4);
	return 0;
}

static int add_virtio_caps(struct virtio_pci *t)
{
	uint32_t notify_len = t->params.num_queues * VIRTIO_PCI_NOTIFY_MULTIPLIER;
	int err;

	err = add_virtio_cap(&t->fn, VIRTIO_PCI_CAP_COMMON_CFG, VIRTIO_PCI_COMMON_OFFSET,
			     VIRTIO_PCI_COMMON_SIZE);
	if (!err)
		err = add_virtio_cap(&t->fn, VIRTIO_PCI_CAP_NOTIFY_CFG, VIRTIO_PCI_NOTIFY_OFFSET,
				     notify_len);
	if (!err)
		err = add_virtio_cap(&t->fn, VIRTIO_PCI_CAP_ISR_CFG, VIRTIO_PCI_ISR_OFFSET, 1);
	if (!err && t->params.config_size)
		err = add_virtio_cap(&t->fn, VIRTIO_PCI_CAP_DEVICE_CFG, VIRTIO_PCI_DEVICE_OFFSET,
				     t->params.config_size);
	if (!err)
		err = add_cfg_window(t);
	return err;
}

/* Shared-memory BARs: what no mapping (KVM memory slot) covers reads as zero. */
static void shmem_bar_read(void *opaque, uint64_t offset, void *data, unsigned len)
{
	(void)opaque;
	(void)offset;
	memset(data, 0, len);
}

static void shmem_bar_write(void *opaque, uint64_t offset, const void *data, unsigned len)
{
	(void)opaque;
	(void)offset;
	(void)data;
	(void)len; /* unmapped or read-only (KVM_MEM_READONLY): dropped */
}

static const struct io_ops shmem_bar_ops = {.read = shmem_bar_read, .write = shmem_bar_write};

/* A shared-memory BAR was placed, moved or switched off: tell the device. */
static void shmem_bar_moved(void *opaque, unsigned bar, bool mapped, uint64_t addr)
{
	struct virtio_pci *t = opaque;
	unsigned i = (bar - VIRTIO_PCI_SHMEM_FIRST_BAR) / 2;

	if (bar < VIRTIO_PCI_SHMEM_FIRST_BAR || i >= t->shmem.nregions || !t->shmem.placed)
		return;
	t->shmem.placed(t->params.dev, t->shmem.regions[i].id,
			mapped ? addr : VIRTIO_PCI_SHMEM_NO_ADDR);
}

/* The BAR size for n bytes: a power of two, at least a page; 0 when none fits 64 bits. */
static uint64_t pow2_at_least(uint64_t n)
{
	uint64_t p = 4096;

	while (p < n) {
		if (p > UINT64_MAX / 2)
			return 0;
		p <<= 1;
	}
	return p;
}

/* One 64-bit BAR and its VIRTIO_PCI_CAP_SHARED_MEMORY_CFG capability per region. */
static int add_shmem_regions(struct virtio_pci *t)
{
	for (unsigned i = 0; i < t->shmem.nregions; i++) {
		unsigned bar = VIRTIO_PCI_SHMEM_FIRST_BAR + 2 * i;
		uint64_t size = t->shmem.regions[i].size;
		uint32_t words[4] = {0, (uint32_t)size, 0, (uint32_t)(size >> 32)};
		uint64_t bar_size = pow2_at_least(size);
		uint8_t at;
		int err = bar_size
			      ? pci_function_add_bar(&t->fn, bar, PCI_BAR_MEM64, true, bar_size,
						     &shmem_bar_ops, t, shmem_bar_moved)
			      : -E2BIG;

		if (err)
			return err;
		at = pci_add_capability(&t->fn, PCI_CAP_ID_VNDR, sizeof(struct virtio_pci_cap64));
		if (!at)
			return -ENOSPC;
		t->fn.cfg.bytes[at + VIRTIO_PCI_CAP_LEN] = sizeof(struct virtio_pci_cap64);
		t->fn.cfg.bytes[at + VIRTIO_PCI_CAP_CFG_TYPE] = VIRTIO_PCI_CAP_SHARED_MEMORY_CFG;
		t->fn.cfg.bytes[at + VIRTIO_PCI_CAP_BAR] = (uint8_t)bar;
		t->fn.cfg.bytes[at + VIRTIO_PCI_CAP_BAR + 1] = t->shmem.regions[i].id;
		/* offset (0), length, offset_hi, length_hi */
		memcpy(&t->fn.cfg.bytes[at + VIRTIO_PCI_CAP_OFFSET], &words[0], 8);
		memcpy(&t->fn.cfg.bytes[at + sizeof(struct virtio_pci_cap)], &words[2], 8);
	}
	return 0;
}

static bool params_ok(const struct virtio_pci_params *p)
{
	return p->ops && p->num_queues >= 1 && p->num_queues <= VIRTIO_PCI_MAX_QUEUES &&
	       p->queue_max_size >= 1 && p->queue_max_size <= 32768 &&
	       !(p->queue_max_size & (p->queue_max_size - 1)) &&
	       p->config_size <= VIRTIO_PCI_DEVICE_MAX;
}

static void close_kick_fds(struct virtio_pci *t)
{
	unsigned i;

	for (i = 0; i < t->params.num_queues; i++)
		if (t->queues[i].kick_fd >= 0)
			close(t->queues[i].kick_fd);
}

static void build_function(struct virtio_pci *t)
{
	struct pci_config_header *h = &t->fn.cfg.hdr;

	pci_function_init(&t->fn, t->params.name, VIRTIO_PCI_VENDOR,
			  VIRTIO_PCI_DEVICE_ID_BASE + t->params.device_type,
			  virtio_pci_class_for_type(t->params.device_type), 1);
	h->subsystem_vendor_id = VIRTIO_PCI_VENDOR;
	h->subsystem_id = t->params.device_type;
}

int virtio_pci_init(struct virtio_pci *t, struct pci_bus *bus, const struct guest_memory *mem,
		    const struct virtio_pci_params *params, const struct virtio_pci_platform *plat)
{
	return virtio_pci_init_shmem(t, bus, mem, params, plat, NULL);
}

int virtio_pci_init_shmem(struct virtio_pci *t, struct pci_bus *bus, const struct guest_memory *mem,
			  const struct virtio_pci_params *params,
			  const struct virtio_pci_platform *plat,
			  const struct virtio_pci_shmem_params *shmem)
{
	unsigned i;
	int err;

	memset(t, 0, sizeof(*t));
	if (!params_ok(params) || (shmem && shmem->nregions > VIRTIO_PCI_MAX_SHMEM))
		return -EINVAL;
	if (shmem)
		t->shmem = *shmem;
	t->params = *params;
	t->plat = *plat;
	t->mem = mem;
	for (i = 0; i < VIRTIO_PCI_MAX_QUEUES; i++)
		t->queues[i].kick_fd = -1;
	for (i = 0; i < params->num_queues; i++) {
		t->queues[i].kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (t->queues[i].kick_fd < 0) {
			err = -errno;
			goto fail_fds;
		}
	}
	build_function(t);
	err = pci_function_add_bar(&t->fn, VIRTIO_PCI_BAR, PCI_BAR_MEM32, false,
				   VIRTIO_PCI_BAR_SIZE, &virtio_bar_ops, t, bar_moved);
	if (!err)
		err = add_virtio_caps(t);
	if (!err)
		err = add_shmem_regions(t);
	if (err)
		goto fail_fds;
	err = msix_init(&t->msix, &t->fn, VIRTIO_PCI_MSIX_BAR, params->num_queues + 1u,
			plat->msix_ops, plat->ctx);
	if (err)
		goto fail_fds;
	if (plat->evbase) {
		err = msix_watch_events(&t->msix, plat->evbase, plat->lock);
		if (err)
			goto fail_msix;
	}
	err = pci_register_function(bus, &t->fn);
	if (err)
		goto fail_msix;
	virtio_pci_reset(t);
	return 0;
fail_msix:
	msix_destroy(&t->msix);
fail_fds:
	close_kick_fds(t);
	return err;
}

void virtio_pci_destroy(struct virtio_pci *t)
{
	if (t->plat.ioeventfd)
		ioeventfds_off(t);
	msix_destroy(&t->msix);
	close_kick_fds(t);
}

void virtio_pci_notify_queue(struct virtio_pci *t, unsigned q)
{
	if (q >= t->params.num_queues)
		return;
	t->isr |= ISR_QUEUE;
	msix_notify(&t->msix, t->queues[q].msix_vector);
}

void virtio_pci_config_changed(struct virtio_pci *t)
{
	t->config_generation++;
	t->isr |= ISR_CONFIG;
	msix_notify(&t->msix, t->config_vector);
}

void virtio_pci_set_needs_reset(struct virtio_pci *t, const char *why)
{
	if (t->status & VIRTIO_CONFIG_S_NEEDS_RESET)
		return;
	/* A guest can reset and re-fail a device in a loop: rate-limited. */
	log_warn_ratelimited(&t->rl, t->params.name, "device needs reset: %s", why);
	t->status |= VIRTIO_CONFIG_S_NEEDS_RESET;
	t->isr |= ISR_CONFIG;
	msix_notify(&t->msix, t->config_vector);
}

int virtio_pci_kick_fd(const struct virtio_pci *t, unsigned q)
{
	return q < t->params.num_queues ? t->queues[q].kick_fd : -1;
}

static int kvm_ioeventfd(void *ctx, int fd, uint64_t addr, unsigned len, bool assign)
{
	if (assign)
		return vm_ioeventfd_assign(ctx, fd, addr, len, false);
	return vm_ioeventfd_deassign(ctx, fd, addr, len, false);
}

struct virtio_pci_platform virtio_pci_kvm_platform(struct vm *vm)
{
	return (struct virtio_pci_platform){
	    .msix_ops = &msix_kvm_ops,
	    .ioeventfd = kvm_ioeventfd,
	    .ctx = vm,
	    .evbase = vm->evbase,
	    .lock = &vm->dev_lock,
	};
}
