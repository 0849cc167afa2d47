/*
 * A vhost-user device at run time: DRIVER_OK and reset relayed to the
 * back-end, sleep and wake, and marking the device failed (NEEDS_RESET and
 * one log line); events.c finishes a failure on the loop thread.
 */
#include "vhost_user/device/internal.h"
#include "vmm/clock.h"

#include <errno.h>
#include <linux/virtio_config.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vmm/log.h"
#include "vmm/vm.h"

#include "vmm/util.h"
#define DRAIN_LIMIT_MS 1000 /* how long pause waits for in-flight requests */

static void signal_fd(int fd)
{
	uint64_t one = 1;

	if (fd >= 0 && write(fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_debug("vhost-user", "eventfd write failed: %s", strerror(errno));
}

void vu_type_stop(struct vu_device *dev)
{
	if (dev->spec.ops && dev->spec.ops->stop)
		dev->spec.ops->stop(dev);
}

void vu_fail_device(struct vu_device *dev, const char *cause)
{
	if (dev->state == VU_DEV_FAILED || dev->reconnect.lost)
		return;
	/* A back-end that hung up may come back: the rings wait for it. */
	if (vu_reconnect_wanted(dev)) {
		vu_backend_lost(dev, cause);
		return;
	}
	/* A wait abandoned because the VM is ending is no fault of the back-end's. */
	if (dev->vm && vm_exit_requested(dev->vm)) {
		dev->state = VU_DEV_FAILED;
		return;
	}
	/* Only rings the driver is using are worth failing requests on. */
	dev->failure.rings_were_live = dev->state == VU_DEV_ACTIVE || dev->state == VU_DEV_PAUSED;
	dev->state = VU_DEV_FAILED;
	snprintf(dev->failure.cause, sizeof(dev->failure.cause), "%s", cause);
	log_error(dev->fe.log_component, "%s: device failed: %s; it needs a reset", dev->name,
		  cause);
	virtio_pci_set_needs_reset(&dev->transport, cause);
	/* Closing the socket and moving watches belongs to the loop thread. */
	signal_fd(dev->watch.work_fd);
}

/*
 * With the STATUS protocol feature a back-end (DPDK) waits for DRIVER_OK
 * before it serves the rings; without it there is nothing to send.
 */
static int send_status(struct vu_device *dev, uint8_t status)
{
	int err = vhost_user_frontend_set_status(&dev->fe, status);

	return err == -ENOTSUP ? 0 : err;
}

bool vu_queue_local(const struct vu_device *dev, unsigned q)
{
	return dev->spec.ops && dev->spec.ops->queue_local && dev->spec.ops->queue_local(dev, q);
}

/* A ring the back-end serves: enabled by the driver and not the VMM's own. */
static bool backend_ring(const struct vu_device *dev, unsigned q)
{
	return dev->queues[q].enabled && !vu_queue_local(dev, q);
}

static bool ring_enabled(const struct vu_device *dev, unsigned q)
{
	return !dev->spec.ops->ring_enabled || dev->spec.ops->ring_enabled(dev, q);
}

static int local_start(struct vu_device *dev, bool resume)
{
	return dev->spec.ops->local_start ? dev->spec.ops->local_start(dev, resume) : 0;
}

void vu_local_stop(struct vu_device *dev, bool pause)
{
	if (dev->spec.ops && dev->spec.ops->local_stop)
		dev->spec.ops->local_stop(dev, pause);
}

/* Starts ring i at the back-end at base; enabled: it is to process it now. */
static int start_ring(struct vu_device *dev, unsigned i, uint16_t base, bool enabled)
{
	const struct virtio_queue_info *q = &dev->queues[i];
	struct vhost_user_vring ring = {
	    .size = q->size,
	    .base = base,
	    .desc_gpa = q->desc,
	    .avail_gpa = q->driver,
	    .used_gpa = q->device,
	    .kick_fd = q->kick_fd,
	    .call_fd = q->call_fd,
	    .start_disabled = !enabled,
	};

	return vhost_user_frontend_start_queue(&dev->fe, i, &ring);
}

int vu_start_ring(struct vu_device *dev, unsigned q, bool enabled)
{
	if (q >= dev->nqueues || !backend_ring(dev, q))
		return -EINVAL;
	return start_ring(dev, q, 0, enabled);
}

/*
 * At DRIVER_OK: every back-end ring the type wants processed, from 0 (the
 * others wait for vu_start_ring). At resume: those started at pause, from
 * their saved bases.
 */
static int start_rings(struct vu_device *dev, bool from_saved)
{
	for (unsigned i = 0; i < dev->nqueues; i++) {
		bool enabled = ring_enabled(dev, i);
		int err;

		if (!backend_ring(dev, i) || (from_saved ? !dev->saved_started[i] : !enabled))
			continue;
		err = start_ring(dev, i, from_saved ? dev->saved_base[i] : 0, enabled);
		if (err)
			return err;
	}
	return 0;
}

/*
 * Everything a back-end needs to serve the rings: features (unless
 * resuming, when they stand), the in-flight region, memory table, display channel (GPU), rings
 * from 0 or from the saved bases, DRIVER_OK. The acked requests are
 * pipelined, so this costs about one round trip, not one per message.
 */
static int configure_backend(struct vu_device *dev, uint64_t features, bool resuming)
{
	int err = 0, flushed = 0;

	vhost_user_frontend_batch_begin(&dev->fe);
	if (!resuming)
		err = vhost_user_frontend_set_features(&dev->fe, features);
	/* The spec's place for in-flight tracking: after the features, before the rings. */
	if (!err)
		err = vu_inflight_prepare(dev);
	if (!err)
		err = vhost_user_frontend_set_mem_table(&dev->fe, &dev->vm->mem);
	/* gpu: the back-end asks for display info once rings run. */
	if (!err && dev->spec.ops->start && !resuming)
		err = dev->spec.ops->start(dev);
	if (!err)
		err = start_rings(dev, resuming || dev->restoring);
	if (!err)
		err = send_status(dev, dev->transport.status & ~VIRTIO_CONFIG_S_NEEDS_RESET);
	/*
	 * At DRIVER_OK the vCPU goes back to the guest at once: the loop reads
	 * the acks as they come (the back-end serves them in order, before any
	 * kick) and a late or failed one fails the device from there.
	 */
	if (resuming || err)
		flushed = vhost_user_frontend_batch_end(&dev->fe);
	else
		flushed = vhost_user_frontend_batch_detach(&dev->fe);
	return err ? err : flushed;
}

static void log_activation(struct vu_device *dev)
{
	unsigned enabled = 0;

	for (unsigned i = 0; i < dev->nqueues; i++)
		enabled += dev->queues[i].enabled;
	log_info(dev->fe.log_component, "%s: activated %u queue%s in %.2f ms (vCPU held %.2f ms)",
		 dev->name, enabled, enabled == 1 ? "" : "s", (double)dev->activation.ns / 1e6,
		 (double)dev->activation.vcpu_ns / 1e6);
}

void vu_activation_acked(struct vu_device *dev)
{
	if (!dev->activation.start_ns || dev->state == VU_DEV_FAILED) {
		dev->activation.start_ns = 0;
		return;
	}
	dev->activation.ns = dev->fe.last_ack_ns - dev->activation.start_ns;
	dev->activation.start_ns = 0;
	log_activation(dev);
}

/*
 * Moves a device that is not failed to state. Frontend calls may serve the
 * back-end's requests while they wait (VRING_ERR, a hang-up), and a failure
 * met there must survive whatever the caller meant to do next.
 */
static void set_state(struct vu_device *dev, enum vu_dev_state state)
{
	if (dev->state != VU_DEV_FAILED)
		dev->state = state;
}

/*
 * The driver uses the rings it just set up whatever we answer (Linux
 * ignores NEEDS_RESET), so on a failed device they count as live and the
 * loop answers them (takeover.c): the driver's requests fail instead of
 * hanging, also on a device failed before and re-initialised since.
 */
static void take_over_new_rings(struct vu_device *dev)
{
	dev->failure.rings_were_live = true;
	dev->failure.takeover_pending = true;
	virtio_pci_set_needs_reset(&dev->transport, dev->failure.cause);
	signal_fd(dev->watch.work_fd);
}

int vu_dev_activate(void *opaque, uint64_t features, const struct virtio_queue_info *queues,
		    unsigned nqueues)
{
	struct vu_device *dev = opaque;
	uint64_t start = monotonic_ns();
	int err;

	if (nqueues != dev->nqueues)
		return -EIO;
	memcpy(dev->queues, queues, nqueues * sizeof(*queues));
	dev->driver_features = features;
	/*
	 * The VMM's own queues do not need the back-end: served even when it
	 * is gone, so a driver waiting on them (virtio-net's control queue)
	 * gets answers.
	 */
	err = local_start(dev, false);
	if (dev->state == VU_DEV_FAILED) {
		take_over_new_rings(dev);
		return 0;
	}
	if (!err && !dev->reconnect.lost)
		err = configure_backend(dev, features & ~dev->local_features, false);
	if (dev->reconnect.lost) {
		/* No back-end now: the next one gets these rings (reconnect.c). */
		vu_reconnect_note_activation(dev);
		dev->state = VU_DEV_ACTIVE;
		return 0;
	}
	if (err || dev->state == VU_DEV_FAILED) {
		vu_fail_device(dev, "activation failed");
		take_over_new_rings(dev);
		return err ? err : -EIO;
	}
	dev->state = VU_DEV_ACTIVE;
	dev->activation.vcpu_ns = monotonic_ns() - start;
	if (vhost_user_frontend_acks_outstanding(&dev->fe)) {
		dev->activation.start_ns = start;
		vu_arm_ack_timer(dev);
	} else {
		dev->activation.ns = dev->activation.vcpu_ns;
		log_activation(dev);
	}
	return 0;
}

/* Stops every started ring; bases go to saved_base, which ones to saved_started. */
static int stop_rings(struct vu_device *dev)
{
	for (unsigned i = 0; i < dev->nqueues; i++) {
		int err;

		dev->saved_started[i] = dev->fe.queues[i].started;
		if (!dev->saved_started[i])
			continue;
		err = vhost_user_frontend_stop_queue(&dev->fe, i, &dev->saved_base[i]);
		if (err)
			return err;
	}
	return 0;
}

void vu_dev_reset(void *opaque)
{
	struct vu_device *dev = opaque;

	/* Their watches drop themselves at the next kick, unread (takeover.c). */
	for (unsigned i = 0; i < VIRTIO_PCI_MAX_QUEUES; i++)
		dev->takeover[i].on = false;
	vu_local_stop(dev, false);
	vu_type_stop(dev);
	/*
	 * Mappings go with a reset the back-end takes part in. An idle device's
	 * reset (every driver probe starts with one) is not relayed, so the
	 * back-end's start-up mappings stay, as it believes they do.
	 */
	if (dev->state != VU_DEV_IDLE)
		vu_shmem_reset(dev, "device reset");
	if (dev->state == VU_DEV_ACTIVE && stop_rings(dev))
		vu_fail_device(dev, "stopping the rings at reset failed");
	if (dev->state != VU_DEV_IDLE && dev->state != VU_DEV_FAILED && send_status(dev, 0))
		vu_fail_device(dev, "SET_STATUS at reset failed");
	/* The back-end drops its own state too, when it can say so (RESET_DEVICE). */
	if (dev->state != VU_DEV_IDLE && dev->state != VU_DEV_FAILED &&
	    vhost_user_frontend_reset(&dev->fe))
		vu_fail_device(dev, "RESET_DEVICE at reset failed");
	/* The driver starts its rings afresh: nothing left in flight is to be resubmitted. */
	vu_inflight_free(dev);
	if (dev->state == VU_DEV_FAILED) {
		/* The driver let go of the rings: nothing may answer them now. */
		dev->failure.rings_were_live = false;
		dev->failure.takeover_pending = false;
		/* With reconnect on, the next activation may find a back-end again. */
		vu_reconnect_after_reset(dev);
		return;
	}
	dev->state = VU_DEV_IDLE;
	dev->driver_features = 0;
	dev->config_cached = false;
}

/* Waits (bounded) until the back-end has completed what it took off ring i. */
static bool drain_ring(struct vu_device *dev, unsigned i)
{
	const volatile uint16_t *used = guest_memory_ptr(&dev->vm->mem, dev->queues[i].device, 4);
	uint64_t deadline = monotonic_ns() + DRAIN_LIMIT_MS * 1000000ull;
	const struct timespec pause = {.tv_nsec = 100000};

	while (used && used[1] != dev->saved_base[i]) {
		if (monotonic_ns() > deadline) {
			log_warn(dev->fe.log_component, "%s: queue %u: %u requests still in flight",
				 dev->name, i, (uint16_t)(dev->saved_base[i] - used[1]));
			return false;
		}
		nanosleep(&pause, NULL);
	}
	return used != NULL;
}

#define SETTLE_QUIET_MS 20 /* no completion for this long: the rest will not come soon */

/*
 * Before the rings stop, with the vCPUs parked so the driver adds nothing:
 * waits (bounded) until the back-end completed everything made available,
 * or stopped completing for a while (an rx queue keeps buffers for ever).
 * Some back-ends (libvhost-user in QEMU 7.2) fail hard when a request
 * completes after GET_VRING_BASE closed its call fd.
 */
static void settle_ring(struct vu_device *dev, unsigned i)
{
	const volatile uint16_t *avail = guest_memory_ptr(&dev->vm->mem, dev->queues[i].driver, 4);
	const volatile uint16_t *used = guest_memory_ptr(&dev->vm->mem, dev->queues[i].device, 4);
	uint64_t now = monotonic_ns(), deadline = now + DRAIN_LIMIT_MS * 1000000ull;
	uint64_t quiet_since = now;
	const struct timespec pause = {.tv_nsec = 100000};
	uint16_t last_used;

	if (!avail || !used)
		return;
	last_used = used[1];
	while (used[1] != avail[1] && now < deadline &&
	       now - quiet_since < SETTLE_QUIET_MS * 1000000ull) {
		nanosleep(&pause, NULL);
		now = monotonic_ns();
		if (used[1] != last_used) {
			last_used = used[1];
			quiet_since = now;
		}
	}
}

int vu_backend_quiesce(struct vu_device *dev)
{
	bool drained = true;
	int err;

	for (unsigned i = 0; i < dev->nqueues; i++)
		if (backend_ring(dev, i) && dev->fe.queues[i].enabled)
			settle_ring(dev, i);
	err = stop_rings(dev);
	if (err)
		return err;
	for (unsigned i = 0; i < dev->nqueues; i++)
		if (backend_ring(dev, i) && dev->saved_started[i])
			drained &= drain_ring(dev, i);
	return drained ? 0 : -EBUSY;
}

int vu_device_pause(struct vu_device *dev)
{
	int err;

	if (dev->state != VU_DEV_ACTIVE)
		return 0;
	vu_local_stop(dev, true);
	/* Without a back-end nothing is in flight to wait for; the next one restarts the rings. */
	if (dev->reconnect.lost) {
		dev->state = VU_DEV_PAUSED;
		return 0;
	}
	err = vu_backend_quiesce(dev);
	if (err == -EBUSY)
		err = 0; /* a drain that timed out is logged; the pause stands all the same */
	if (err)
		vu_fail_device(dev, "stopping the rings for pause failed");
	if (err && dev->reconnect.lost) {
		dev->state = VU_DEV_PAUSED;
		return 0;
	}
	if (err)
		return err;
	set_state(dev, VU_DEV_PAUSED);
	return dev->state == VU_DEV_FAILED ? -EIO : 0;
}

int vu_device_resume(struct vu_device *dev)
{
	int err;

	/* Paused, then the back-end died: the VMM's own queues go on all the same. */
	if (dev->state == VU_DEV_FAILED && dev->failure.rings_were_live)
		return local_start(dev, true);
	if (dev->state != VU_DEV_PAUSED)
		return 0;
	err = local_start(dev, true);
	if (!err && dev->state != VU_DEV_FAILED && !dev->reconnect.lost)
		err = configure_backend(dev, 0, true);
	if (err)
		vu_fail_device(dev, "restarting the rings at resume failed");
	if (dev->reconnect.lost) {
		dev->state = VU_DEV_ACTIVE;
		return 0;
	}
	if (err || dev->state == VU_DEV_FAILED) {
		vu_fail_device(dev, "restarting the rings at resume failed");
		return err ? err : -EIO;
	}
	/*
	 * A completion while the ring was stopped may have found no call fd to
	 * signal; and a request the driver made available before the pause that
	 * the back-end had not taken yet waits for a kick a new back-end (one
	 * regained during the pause) never got: both are signalled again.
	 */
	for (unsigned i = 0; i < dev->nqueues; i++) {
		if (!backend_ring(dev, i))
			continue;
		signal_fd(dev->queues[i].call_fd);
		if (dev->saved_started[i])
			signal_fd(dev->queues[i].kick_fd);
	}
	dev->state = VU_DEV_ACTIVE;
	return 0;
}

bool vu_backend_ring_wanted(const struct vu_device *dev, unsigned q)
{
	return backend_ring(dev, q) && ring_enabled(dev, q);
}

int vu_backend_restart(struct vu_device *dev)
{
	uint64_t features = dev->driver_features & ~dev->local_features;
	int err;

	if (dev->state == VU_DEV_PAUSED) /* resume sends the rest */
		return vhost_user_frontend_set_features(&dev->fe, features);
	dev->restoring = true;
	err = configure_backend(dev, features, false);
	dev->restoring = false;
	/* The guest may have kicked while nobody listened. */
	for (unsigned i = 0; !err && i < dev->nqueues; i++)
		if (dev->saved_started[i])
			signal_fd(dev->queues[i].kick_fd);
	if (!err && vhost_user_frontend_acks_outstanding(&dev->fe)) {
		dev->activation.start_ns = monotonic_ns();
		vu_arm_ack_timer(dev);
	}
	return err;
}
