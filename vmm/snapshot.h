/*
 * Snapshot and restore of the whole VM (the format: vmm/snapfmt.h).
 *
 * Parts of a snapshot directory:
 *   machine        RAM layout, vCPU count, the device list (rng, and each
 *                  vhost-user device's name and virtio type)
 *   memory         per RAM region: the data extents saved in ramN
 *   ramN           RAM region N, sparse (SNAP_PART_RAM)
 *   vcpuN          vCPU N (arch_vcpu_save)
 *   platform       interrupt controllers, timers, clock, UART (arch_vm_save)
 *   pci            the host bridge's config space and the 0xCF8 latch
 *   rng            the built-in virtio-rng (with --rng)
 *   vu-NAME        vhost-user device NAME (vu_device_save)
 *   vu-NAME.state  its back-end's DEVICE_STATE, when it offers it
 */
#ifndef VMM_SNAPSHOT_H
#define VMM_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

struct vm;
struct vm_devices;

#define SNAP_RESTORE_ERR_MAX 320 /* room for err: one line */

struct snapshot_stats {
	uint64_t ram_bytes; /* guest RAM actually written (data extents) */
	uint64_t ns;	    /* time spent writing */
};

/*
 * Whether every device can be saved; err gets one line naming the device
 * and the missing feature when not. Call before pausing: nothing is written.
 */
int vm_snapshot_check(struct vm *vm, struct vm_devices *devs, char *err, size_t n);

/*
 * Writes the snapshot of a paused VM (every vCPU parked, every vhost-user
 * device paused) to the directory path, which must not hold one yet.
 * Returns 0 or -errno with one line in err naming the part.
 */
int vm_snapshot_save(struct vm *vm, struct vm_devices *devs, const char *path,
		     struct snapshot_stats *st, char *err, size_t n);

/*
 * Restores path into a VM built from the same command line (devices
 * created, vCPUs created, nothing started, the guest not loaded): checks
 * the format, the machine and the device list, then loads RAM, vCPUs,
 * platform and devices (vhost-user back-ends get their features, state and
 * rings back). Never writes to path. Returns 0 or -errno with one line in
 * err naming what did not match.
 */
int vm_snapshot_restore(struct vm *vm, struct vm_devices *devs, const char *path, char *err,
			size_t n);

#endif
