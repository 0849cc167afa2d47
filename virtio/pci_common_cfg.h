/* Internal to the virtio PCI transport: the common configuration structure. */
#ifndef VIRTIO_PCI_COMMON_CFG_H
#define VIRTIO_PCI_COMMON_CFG_H

#include <stdint.h>

#include "virtio/pci_transport.h"

/*
 * Guest access to common config at offset (relative to the structure).
 * Each field must be accessed at its own width (64-bit ring addresses also
 * as two dwords); anything else reads all-ones and is dropped on write.
 */
void virtio_pci_common_read(struct virtio_pci *t, uint64_t offset, void *data, unsigned len);
void virtio_pci_common_write(struct virtio_pci *t, uint64_t offset, const void *data, unsigned len);

/* Device reset as after status 0: queues, features, vectors, ISR. */
void virtio_pci_reset(struct virtio_pci *t);

#endif
