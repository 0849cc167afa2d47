/* The guest's PCI devices: the bus, built-in virtio devices, and vhost-user devices. */
#ifndef VMM_DEVICES_H
#define VMM_DEVICES_H

#include "pci/pci.h"
#include "vhost_user/trace.h"
#include "vmm/config.h"

struct vm;
struct virtio_rng;
struct vu_device;

struct vm_devices {
	struct pci_bus bus;
	bool bus_ready;
	struct virtio_rng *rng;
	struct vu_device *vhost_user[VMM_MAX_DEVICES];
	unsigned nvhost_user;
	struct vhost_user_trace trace; /* --trace / --trace-file, shared by the devices */
	bool trace_open;
};

/*
 * Creates the PCI bus and every device the configuration asks for. Runs on
 * the main thread before the vCPUs start (devices add events to
 * vm->evbase). On failure the cause was logged; call vm_devices_destroy.
 */
int vm_devices_create(struct vm *vm, struct vm_devices *devs);

/* After the vCPUs and the event loop have stopped. */
void vm_devices_destroy(struct vm_devices *devs);

#endif
