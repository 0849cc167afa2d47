/*
 * The virtio 1.x PCI ("modern") transport: vendor capabilities pointing at
 * common config, notify, ISR and device config in BAR 0, MSI-X in BAR 1,
 * feature negotiation, the device-status state machine and queue setup.
 * Every queue's notify address is an ioeventfd, so kicks never exit to the
 * VMM; the device behind it (served in the VMM or by a vhost-user backend)
 * only sees the ops below.
 */
#ifndef VIRTIO_PCI_TRANSPORT_H
#define VIRTIO_PCI_TRANSPORT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "pci/msix.h"
#include "pci/pci.h"
#include "vmm/log.h"

struct guest_memory;
struct event_base;
struct vm;

#define VIRTIO_PCI_VENDOR 0x1af4
#define VIRTIO_PCI_DEVICE_ID_BASE 0x1040
#define VIRTIO_PCI_MAX_QUEUES 64
#define VIRTIO_PCI_NOTIFY_MULTIPLIER 4

/* BAR 0 layout; MSI-X table and PBA live in BAR 1. */
#define VIRTIO_PCI_BAR 0
#define VIRTIO_PCI_MSIX_BAR 1
#define VIRTIO_PCI_COMMON_OFFSET 0x0000
#define VIRTIO_PCI_COMMON_SIZE 0x40
#define VIRTIO_PCI_ISR_OFFSET 0x1000
#define VIRTIO_PCI_DEVICE_OFFSET 0x2000
#define VIRTIO_PCI_DEVICE_MAX 0x1000
#define VIRTIO_PCI_NOTIFY_OFFSET 0x3000
#define VIRTIO_PCI_BAR_SIZE 0x4000

/* Shared-memory regions: one 64-bit prefetchable BAR each, BARs 2-3 and 4-5. */
#define VIRTIO_PCI_SHMEM_FIRST_BAR 2
#define VIRTIO_PCI_MAX_SHMEM 2
#define VIRTIO_PCI_SHMEM_NO_ADDR UINT64_MAX

/* What a device is told about one queue when the driver sets DRIVER_OK. */
struct virtio_queue_info {
	bool enabled;
	uint16_t size;
	uint64_t desc, driver, device; /* guest-physical ring addresses */
	int kick_fd;		       /* ioeventfd the guest's notify signals */
	int call_fd;		       /* MSI-X vector eventfd; -1 for no vector */
	uint16_t msix_vector;
};

/* The device model behind the transport; every callback runs under the device lock. */
struct virtio_device_ops {
	/* Device feature bits; the transport adds VIRTIO_F_VERSION_1. */
	uint64_t (*features)(void *dev);
	/* Device config space accesses, already bounds-checked against config_size. */
	void (*config_read)(void *dev, uint32_t offset, void *data, unsigned len);
	void (*config_write)(void *dev, uint32_t offset, const void *data, unsigned len);
	/*
	 * DRIVER_OK: start serving the queues with the negotiated features. The
	 * fds stay the transport's. Non-zero marks the device NEEDS_RESET.
	 */
	int (*activate)(void *dev, uint64_t features, const struct virtio_queue_info *queues,
			unsigned nqueues);
	/* The driver wrote 0 to status: stop using the queues (may be called when idle). */
	void (*reset)(void *dev);
};

/* How the transport reaches KVM; virtio_pci_kvm_platform() fills it for a real VM. */
struct virtio_pci_platform {
	const struct msix_ops *msix_ops;
	int (*ioeventfd)(void *ctx, int fd, uint64_t addr, unsigned len, bool assign);
	void *ctx;		   /* passed to both */
	struct event_base *evbase; /* for the masked-vector watches; NULL: none */
	pthread_mutex_t *lock;	   /* the device lock those watches take */
};

struct virtio_pci_params {
	const char *name;
	uint16_t device_type; /* VIRTIO_ID_* */
	uint16_t num_queues;  /* 1..VIRTIO_PCI_MAX_QUEUES */
	uint16_t queue_max_size;
	uint32_t config_size; /* device config bytes, <= VIRTIO_PCI_DEVICE_MAX */
	const struct virtio_device_ops *ops;
	void *dev;
};

/*
 * VIRTIO shared-memory regions (VIRTIO_PCI_CAP_SHARED_MEMORY_CFG): id and
 * size in bytes (page multiple) of each; its BAR is the next power of two,
 * and whatever no mapping covers reads as zero.
 */
struct virtio_pci_shmem_params {
	struct {
		uint8_t id;
		uint64_t size;
	} regions[VIRTIO_PCI_MAX_SHMEM];
	unsigned nregions;
	/*
	 * Region shmid now starts at guest address gpa (its BAR was placed with
	 * memory decoding on), or is out of the guest's view
	 * (VIRTIO_PCI_SHMEM_NO_ADDR: decoding off or the BAR moving). Runs under
	 * the device lock. Passed params->dev.
	 */
	void (*placed)(void *dev, unsigned shmid, uint64_t gpa);
};

struct virtio_pci_queue {
	uint16_t size;
	uint16_t msix_vector;
	bool enabled;
	uint64_t desc, driver, device;
	int kick_fd;
	bool ioeventfd_on;
	uint64_t ioeventfd_addr;
	unsigned ioeventfd_len; /* 0 (any write, KVM's fast MMIO path) or 2 */
};

struct virtio_pci {
	struct pci_function fn;
	struct msix msix;
	struct virtio_pci_params params;
	struct virtio_pci_shmem_params shmem;
	struct virtio_pci_platform plat;
	const struct guest_memory *mem;
	struct virtio_pci_queue queues[VIRTIO_PCI_MAX_QUEUES];
	uint32_t device_feature_select;
	uint32_t driver_feature_select;
	uint64_t driver_features;
	uint16_t config_vector;
	uint16_t queue_select;
	uint8_t status;
	uint8_t config_generation;
	uint8_t isr;
	bool active;	 /* activate succeeded and no reset since */
	uint8_t cfg_cap; /* offset of the VIRTIO_PCI_CAP_PCI_CFG access window */
	struct log_ratelimit rl;
};

/*
 * Builds the PCI function (vendor 0x1af4, device 0x1040 + type, revision 1),
 * its capabilities, BARs and MSI-X (num_queues + 1 vectors), one kick
 * eventfd per queue, and registers it on bus. mem (may be NULL) is used to
 * check ring addresses at queue_enable. Returns 0 or -errno.
 */
int virtio_pci_init(struct virtio_pci *t, struct pci_bus *bus, const struct guest_memory *mem,
		    const struct virtio_pci_params *params, const struct virtio_pci_platform *plat);

/* The same with shared-memory regions (shmem may be NULL: none). */
int virtio_pci_init_shmem(struct virtio_pci *t, struct pci_bus *bus, const struct guest_memory *mem,
			  const struct virtio_pci_params *params,
			  const struct virtio_pci_platform *plat,
			  const struct virtio_pci_shmem_params *shmem);

/* Drops ioeventfds, MSI-X and fds; the function must be off the bus (pci_bus_destroy). */
void virtio_pci_destroy(struct virtio_pci *t);

/* The platform for a real VM: KVM routes, irqfds and ioeventfds, libevent watches. */
struct virtio_pci_platform virtio_pci_kvm_platform(struct vm *vm);

/* The PCI class code virtio device type usually carries (e.g. 0x020000 for net). */
uint32_t virtio_pci_class_for_type(uint16_t device_type);

/* Device side: interrupt for queue q (ISR bit 0 + its MSI-X vector). */
void virtio_pci_notify_queue(struct virtio_pci *t, unsigned q);

/* Device side: config space changed; bumps config_generation and interrupts. */
void virtio_pci_config_changed(struct virtio_pci *t);

/* Device side: unrecoverable error; sets NEEDS_RESET and sends a config interrupt. */
void virtio_pci_set_needs_reset(struct virtio_pci *t, const char *why);

/* The queue's kick eventfd, or -1. */
int virtio_pci_kick_fd(const struct virtio_pci *t, unsigned q);

struct snap_buf;
struct snap_reader;
/*
 * Snapshot (pci_state.c): the PCI function and the transport's registers.
 * Load replays the driver's writes on a freshly built transport; reaching
 * DRIVER_OK activates the device as at boot. Fails naming the field.
 */
void virtio_pci_save(const struct virtio_pci *t, struct snap_buf *b);
bool virtio_pci_load(struct virtio_pci *t, struct snap_reader *rd);

#endif
