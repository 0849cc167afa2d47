/*
 * Snapshot of a vhost-user device: what the frontend negotiated, the
 * config space it serves or caches, the ring indices GET_VRING_BASE gave at
 * pause, the live shared-memory mappings, the transport, and (when the
 * back-end offers DEVICE_STATE) the back-end's own state. Loading refuses
 * a back-end that cannot give the saved features, loads the back-end's
 * state, and replays the transport, whose DRIVER_OK starts the rings from
 * the saved indices.
 */
#include "vhost_user/device/internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/snapfmt.h"
#include "vmm/util.h"

int vu_device_snapshot_check(const struct vu_device *dev, char *err, size_t n)
{
	if (dev->state == VU_DEV_FAILED) {
		snprintf(err, n, "%s: device failed (%s)", dev->name, dev->failure.cause);
		return -EIO;
	}
	if (!dev->spec.ops->state_in_rings &&
	    !vhost_user_frontend_has_protocol(&dev->fe, VHOST_USER_PROTOCOL_F_DEVICE_STATE)) {
		snprintf(err, n,
			 "%s: back-end lacks protocol feature DEVICE_STATE, and a %s device's "
			 "state is more than its rings",
			 dev->name, dev->spec.type->name);
		return -ENOTSUP;
	}
	return 0;
}

static unsigned live_shmem_slots(const struct vu_device *dev)
{
	unsigned live = 0;

	for (unsigned i = 0; i < VU_SHMEM_MAX_SLOTS; i++)
		live += dev->shmem.slots[i].host != NULL;
	return live;
}

int vu_device_save(struct vu_device *dev, struct snap_buf *b, uint8_t **state, size_t *state_len,
		   char *err, size_t n)
{
	bool has_state =
	    vhost_user_frontend_has_protocol(&dev->fe, VHOST_USER_PROTOCOL_F_DEVICE_STATE);
	int r = vu_device_snapshot_check(dev, err, n);

	*state = NULL;
	*state_len = 0;
	if (r)
		return r;
	if (has_state) {
		r = vhost_user_frontend_save_state(&dev->fe, state, state_len);
		if (r) {
			snprintf(err, n, "%s: DEVICE_STATE save failed: %s", dev->name,
				 strerror(-r));
			return r;
		}
	}
	snap_put_u32(b, dev->spec.type->id);
	snap_put_u32(b, dev->state == VU_DEV_PAUSED);
	snap_put_u64(b, dev->fe.acked_features);
	snap_put_u64(b, dev->fe.protocol_features);
	snap_put_u64(b, dev->driver_features);
	snap_put_blob(b, dev->config, sizeof(dev->config));
	snap_put_u8(b, dev->local_config);
	snap_put_u8(b, dev->config_cached);
	snap_put_u32(b, dev->nqueues);
	for (unsigned i = 0; i < dev->nqueues; i++)
		snap_put_u16(b, dev->saved_base[i]);
	snap_put_u32(b, live_shmem_slots(dev));
	for (unsigned i = 0; i < VU_SHMEM_MAX_SLOTS; i++) {
		if (!dev->shmem.slots[i].host)
			continue;
		snap_put_u64(b, dev->shmem.slots[i].gpa);
		snap_put_u64(b, dev->shmem.slots[i].size);
	}
	snap_put_u8(b, has_state);
	virtio_pci_save(&dev->transport, b);
	return 0;
}

/* The saved negotiation must be one this back-end can give again. */
static bool check_features(struct vu_device *dev, struct snap_reader *rd, uint64_t acked,
			   bool has_state)
{
	uint64_t missing = acked & ~dev->fe.device_features;

	if (missing)
		return snap_fail(rd, "acked features",
				 "%s: the back-end does not offer 0x%" PRIx64
				 " of the saved features 0x%" PRIx64,
				 dev->name, missing, acked);
	if (has_state &&
	    !vhost_user_frontend_has_protocol(&dev->fe, VHOST_USER_PROTOCOL_F_DEVICE_STATE))
		return snap_fail(rd, "protocol features",
				 "%s: the back-end lacks DEVICE_STATE, which the snapshot used",
				 dev->name);
	return true;
}

static bool load_fields(struct vu_device *dev, struct snap_reader *rd, uint32_t *was_active,
			uint64_t *acked, uint8_t *has_state)
{
	uint64_t protocol = 0, driver = 0;
	uint8_t local = 0, cached = 0;
	uint32_t nslots = 0;

	if (!snap_expect_u32(rd, "type", dev->spec.type->id))
		return false;
	snap_get_u32(rd, "active", was_active);
	snap_get_u64(rd, "acked features", acked);
	snap_get_u64(rd, "protocol features", &protocol);
	snap_get_u64(rd, "driver features", &driver);
	snap_get_blob(rd, "config", dev->config, sizeof(dev->config));
	snap_get_u8(rd, "local config", &local);
	snap_get_u8(rd, "config cached", &cached);
	if (!snap_expect_u32(rd, "queue count", dev->nqueues))
		return false;
	for (unsigned i = 0; i < dev->nqueues; i++)
		snap_get_u16(rd, "ring base", &dev->saved_base[i]);
	if (snap_get_u32(rd, "shared-memory mappings", &nslots) && nslots)
		return snap_fail(rd, "shared-memory mappings",
				 "%s: %u live mappings; the back-end must make them again",
				 dev->name, nslots);
	if (!snap_get_u8(rd, "device state", has_state))
		return false;
	dev->local_config = local;
	dev->config_cached = cached;
	return check_features(dev, rd, *acked, *has_state);
}

int vu_device_load(struct vu_device *dev, struct snap_reader *rd, const uint8_t *state,
		   size_t state_len)
{
	uint32_t was_active = 0;
	uint64_t acked = 0;
	uint8_t has_state = 0;
	int r = 0;

	if (!load_fields(dev, rd, &was_active, &acked, &has_state))
		return -EINVAL;
	if (has_state && !state)
		return snap_fail(rd, "device state", "%s: its part is missing", dev->name), -EINVAL;
	/* The back-end takes its state with the features it had, rings stopped. */
	if (was_active || has_state)
		r = vhost_user_frontend_set_features(&dev->fe, acked);
	if (!r && has_state)
		r = vhost_user_frontend_load_state(&dev->fe, state, state_len);
	if (r)
		return snap_fail(rd, "device state", "%s: loading into the back-end failed: %s",
				 dev->name, strerror(-r)),
		       r;
	dev->restoring = was_active != 0;
	/*
	 * Which rings a pause stopped is known only in the process that paused;
	 * a restored device starts every ring its type wants processed, from
	 * the saved bases (start_rings skips what the driver did not enable).
	 */
	for (unsigned i = 0; i < dev->nqueues; i++)
		dev->saved_started[i] = was_active != 0;
	if (!virtio_pci_load(&dev->transport, rd))
		r = -EINVAL;
	dev->restoring = false;
	if (!r && was_active && dev->state != VU_DEV_ACTIVE)
		return snap_fail(rd, "active", "%s: the rings did not start", dev->name), -EIO;
	return r;
}
