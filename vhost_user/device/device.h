/*
 * A vhost-user device on the guest's PCI bus: a virtio-pci transport whose
 * queues a back-end process serves. The VMM only relays setup (features,
 * memory table, rings, config space); kicks reach the back-end through
 * ioeventfds and its interrupts reach the guest through irqfds.
 */
#ifndef VU_DEVICE_H
#define VU_DEVICE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vm;
struct vhost_user_trace;
struct pci_bus;
struct vu_device;

/*
 * Parses spec ("TYPE,sock=PATH[,key=value...]", see device.c), connects to
 * the back-end, runs the handshake and plugs a virtio-pci function into
 * bus. Runs on the event loop's thread before the vCPUs start. The name is
 * the type's name and its ordinal among the same type in existing[0..n).
 * Returns 0 or -errno; the failure was logged as one line naming the
 * device (or the spec), the step and the field.
 */
int vu_device_create(struct vm *vm, struct pci_bus *bus, const char *spec,
		     struct vhost_user_trace *trace, struct vu_device *const *existing,
		     unsigned nexisting, struct vu_device **out);

/*
 * Checks a --vhost-user argument without connecting (for the command-line
 * parser). Returns 0, or -EINVAL with one line in err naming the problem.
 */
int vu_device_check_spec(const char *spec, char *err, size_t err_size);

/* Frees the device; call after pci_bus_destroy and once the loop has stopped. */
void vu_device_destroy(struct vu_device *dev);

/* True when the device has a display (a GPU): vu_device_screenshot can serve it. */
bool vu_device_has_display(const struct vu_device *dev);

/*
 * Writes scanout's framebuffer of a GPU device to path as a new PNG (mode
 * 0600; an existing file is never replaced). Takes the display's own lock
 * only, and only to copy the framebuffer: the encoding runs outside it, so
 * status reads and the display thread go on meanwhile (callable from the
 * loop thread without dev_lock). Returns 0, -ENODEV (not a GPU), -EINVAL (no
 * such scanout), -ENODATA (scanout disabled, showing a dmabuf, or no driver
 * yet), -EEXIST (path exists), or a write error.
 */
int vu_device_screenshot(struct vu_device *dev, unsigned scanout, const char *path);

/* "blk0", "fs0", ...; valid for the device's lifetime. */
const char *vu_device_name(const struct vu_device *dev);
uint32_t vu_device_type_id(const struct vu_device *dev);

/*
 * Sleep and wake. Call with vm->dev_lock held and the vCPUs parked.
 * pause disables and stops every started ring (GET_VRING_BASE) and keeps
 * the returned indices; resume re-sends the memory table and starts the
 * same rings from those indices. Both are no-ops on an idle or failed
 * device. Return 0 or -errno (the device is then failed: NEEDS_RESET).
 */
int vu_device_pause(struct vu_device *dev);
/*
 * Drops the back-end on purpose and waits for it to come back as after a
 * hang-up (reconnect.c); dev_lock held, loop thread. 0, -EALREADY (already
 * reconnecting) or -EIO (failed: the guest must reset it first).
 */
int vu_device_reconnect(struct vu_device *dev);
int vu_device_resume(struct vu_device *dev);

/*
 * A new JSON object describing the device: name, type, sock, state
 * (idle/active/paused/failed), queues, activation_us (the last activation's
 * latency), display_updates for a GPU and, once failed, error. Call with
 * vm->dev_lock held. The caller owns the reference; NULL when out of memory.
 */
json_t *vu_device_describe(const struct vu_device *dev);

struct snap_buf;
struct snap_reader;
/*
 * Snapshot (state.c), with dev_lock held and the device paused
 * (vu_device_pause). check says whether dev can be saved: not when failed,
 * nor when its type's state is more than its rings (struct vu_type_ops
 * state_in_rings) and the back-end lacks DEVICE_STATE; err gets one line
 * naming the device and the missing feature. save writes the device into
 * b and the back-end's DEVICE_STATE into *state (malloc'd; NULL when the
 * back-end has none). load runs right after vu_device_create, before the
 * vCPUs: it refuses a back-end that cannot give the saved features, loads
 * state into the back-end and replays the transport, which starts the
 * rings from the saved indices. Failures name the device and the field
 * (save: in err; load: in rd).
 */
int vu_device_snapshot_check(const struct vu_device *dev, char *err, size_t n);
int vu_device_save(struct vu_device *dev, struct snap_buf *b, uint8_t **state, size_t *state_len,
		   char *err, size_t n);
int vu_device_load(struct vu_device *dev, struct snap_reader *rd, const uint8_t *state,
		   size_t state_len);

#endif
