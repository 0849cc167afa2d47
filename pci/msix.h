/*
 * MSI-X for every PCI function: the capability, the vector table and the
 * pending-bit array in a BAR of their own, and per-vector eventfds bound to
 * KVM irqfds so devices (or backend processes) interrupt the guest without
 * the VMM. A masked vector's irqfd is detached; the owner's event loop then
 * watches the eventfd and calls msix_vector_poll(), which sets the pending
 * bit that unmasking delivers.
 */
#ifndef PCI_MSIX_H
#define PCI_MSIX_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "vmm/log.h"

struct pci_function;
struct vm;
struct event_base;
struct event;

#define MSIX_MAX_VECTORS 256
#define MSIX_NO_VECTOR 0xffff
#define MSIX_ENTRY_SIZE 16

/*
 * How vectors reach the interrupt controller; ctx is the msix_init caller's.
 * All return 0 or -errno. devid is the requester id (bus << 8 | devfn),
 * which a GICv3 ITS needs and x86 ignores.
 */
struct msix_ops {
	int (*route_alloc)(void *ctx, uint32_t *gsi_out);
	int (*route_set)(void *ctx, uint32_t gsi, uint64_t addr, uint32_t data, uint32_t devid);
	int (*irqfd_assign)(void *ctx, int fd, uint32_t gsi);
	int (*irqfd_deassign)(void *ctx, int fd, uint32_t gsi);
};

/* The ops backed by vm.h (ctx is the struct vm *). */
extern const struct msix_ops msix_kvm_ops;

struct msix_vector {
	uint32_t entry[4]; /* the guest's table entry: addr lo, addr hi, data, control */
	int fd;		   /* the "call" eventfd every signaller writes */
	uint32_t gsi;
	bool has_gsi;
	bool route_stale; /* entry changed since the route was last programmed */
	bool irqfd_attached;
	bool pending;
	struct event *watch; /* used by msix_watch_events */
	struct msix *owner;
	pthread_mutex_t *lock; /* taken by the watch callback */
};

struct msix {
	struct pci_function *fn;
	uint8_t cap;  /* config-space offset of the capability */
	unsigned bar; /* BAR holding the table at 0 and the PBA at pba_offset */
	uint32_t pba_offset;
	unsigned nvectors;
	struct msix_vector *vectors;
	const struct msix_ops *ops;
	void *ctx;
	struct log_ratelimit rl;
};

/*
 * Adds the capability and a MEM32 BAR (index bar) holding table and PBA to
 * fn, which must not be registered yet, and creates one eventfd per vector.
 * Vectors start masked with MSI-X disabled, as after reset.
 * Returns 0, -EINVAL (bad count or BAR taken), -ENOSPC, -ENOMEM or -errno.
 */
int msix_init(struct msix *m, struct pci_function *fn, unsigned bar, unsigned nvectors,
	      const struct msix_ops *ops, void *ctx);

/* Detaches irqfds, frees watches, closes the eventfds. */
void msix_destroy(struct msix *m);

/* The eventfd to signal vector v (hand it to a backend as its call fd); -1 if none. */
int msix_vector_fd(const struct msix *m, unsigned vector);

/* Signals vector v from inside the VMM; MSIX_NO_VECTOR or out of range is a no-op. */
void msix_notify(struct msix *m, unsigned vector);

/*
 * The owner's event loop calls this when vector v's eventfd is readable.
 * Consumes the count; sets the pending bit while the vector is masked.
 * Call with the device lock held.
 */
void msix_vector_poll(struct msix *m, unsigned vector);

/* Called by the PCI core after a guest write to fn's config space. */
void msix_config_written(struct msix *m, unsigned offset, unsigned len);

/* Back to power-on state: disabled, every vector masked, nothing pending. */
void msix_reset(struct msix *m);

bool msix_enabled(const struct msix *m);
/* Masked by the vector's own bit, the function mask, or MSI-X being off. */
bool msix_vector_masked(const struct msix *m, unsigned vector);
bool msix_vector_pending(const struct msix *m, unsigned vector);

/*
 * Event-loop glue: a persistent read event on every vector's eventfd that
 * takes *lock and calls msix_vector_poll. Call from the loop's thread before
 * vCPUs run; the events stay for the device's lifetime, which is safe
 * because an attached irqfd consumes the count before the loop sees it.
 */
int msix_watch_events(struct msix *m, struct event_base *base, pthread_mutex_t *lock);

#endif
