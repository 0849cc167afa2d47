/*
 * virtio-rng (device type 4): one queue the VMM itself fills from
 * getrandom(2), driven from the libevent loop by the queue's kick eventfd.
 */
#ifndef VIRTIO_RNG_H
#define VIRTIO_RNG_H

#include "virtio/pci_transport.h"

struct vm;
struct pci_bus;
struct virtio_rng;

/*
 * Creates the device and plugs it into bus. plat NULL means the real VM
 * (virtio_pci_kvm_platform(vm)). Must run on the event loop's thread before
 * vCPUs start: it adds a persistent read event for the kick eventfd to
 * vm->evbase; the handler takes vm->dev_lock. Returns 0 or -errno.
 */
int virtio_rng_create(struct vm *vm, struct pci_bus *bus, const struct virtio_pci_platform *plat,
		      struct virtio_rng **out);

/* Frees the device; call after pci_bus_destroy and once the loop has stopped. */
void virtio_rng_destroy(struct virtio_rng *rng);

/* The transport, for tests and for main's device listing. */
struct virtio_pci *virtio_rng_transport(struct virtio_rng *rng);

struct snap_buf;
struct snap_reader;
/* Snapshot: the transport and the queue's next index; load re-activates. */
void virtio_rng_save(const struct virtio_rng *rng, struct snap_buf *b);
bool virtio_rng_load(struct virtio_rng *rng, struct snap_reader *rd);

#endif
