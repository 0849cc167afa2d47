/*
 * Losing and regaining a back-end (reconnect=on, the default for blk and
 * net). A hang-up does not fail the device: the guest's requests wait in
 * the rings, the loop tries the socket again with a bounded backoff, and a
 * back-end that comes back gets the whole handshake, the memory table and
 * the rings restarted at their used index, then a kick on every ring (the
 * guest may have kicked while nobody listened). Past reconnect-timeout, or
 * when the new back-end cannot serve what the guest already acked, the
 * device fails as it would without reconnect (NEEDS_RESET, takeover).
 *
 * With INFLIGHT_SHMFD (inflight.c) the new back-end gets the old one's
 * region before its rings and resubmits what that one had in flight, in
 * the order it took them; the rings' base is the used index all the same.
 * Without in-flight tracking the rings restart at the used index: the new
 * back-end serves again every request the old one took but did not
 * complete. That loses nothing as long as the old one completed in order;
 * one that completed out of order leaves requests completed twice (those
 * past the used index it had completed) and requests never completed
 * (those before it it had not), which a blk guest sees as a hung request.
 */
#include "vhost_user/device/internal.h"

#include <errno.h>
#include <event2/event.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "vmm/clock.h"
#include "vmm/log.h"
#include "virtio/virtqueue.h"
#include "vmm/vm.h"

#define FIRST_RETRY_MS 5
#define LONGEST_RETRY_MS 200

bool vu_reconnect_wanted(const struct vu_device *dev)
{
	return dev->spec.reconnect == 1 && dev->fe.hung_up && !dev->reconnect.lost &&
	       !(dev->vm && vm_exit_requested(dev->vm));
}

static unsigned reconnect_timeout_ms(const struct vu_device *dev)
{
	return dev->spec.reconnect_timeout_ms ? dev->spec.reconnect_timeout_ms
					      : VU_RECONNECT_TIMEOUT_MS;
}

static void signal_work(struct vu_device *dev)
{
	uint64_t one = 1;

	if (dev->watch.work_fd >= 0 && write(dev->watch.work_fd, &one, sizeof(one)) < 0)
		log_debug(dev->fe.log_component, "work eventfd: %s", strerror(errno));
}

void vu_backend_lost(struct vu_device *dev, const char *cause)
{
	struct vu_reconnect *rc = &dev->reconnect;

	rc->lost = true;
	rc->since_ms = monotonic_ms();
	rc->backoff_ms = FIRST_RETRY_MS;
	/*
	 * Lost again while the rings restarted on a new back-end: what the
	 * device needs is still what the first loss recorded, not the half
	 * the new one got before it died.
	 */
	if (!rc->restarting) {
		rc->device_features = dev->fe.device_features;
		rc->protocol_features = dev->fe.protocol_features;
		rc->num_queues = dev->fe.num_queues;
		/* A paused device's rings are stopped at the back-end: those it will restart count.
		 */
		for (unsigned i = 0; i < dev->nqueues && i < VHOST_USER_MAX_QUEUES; i++)
			rc->started[i] = dev->state == VU_DEV_PAUSED || rc->graceful
					     ? dev->saved_started[i]
					     : dev->fe.queues[i].started;
	}
	snprintf(rc->cause, sizeof(rc->cause), "%s", cause);
	log_warn(dev->fe.log_component,
		 "%s: lost the back-end (%s); the guest's requests wait, reconnecting to %s for "
		 "up to %u ms%s",
		 dev->name, cause, dev->spec.sock, reconnect_timeout_ms(dev),
		 dev->state == VU_DEV_IDLE || vhost_user_frontend_has_protocol(
						  &dev->fe, VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD)
		     ? ""
		     : "; without INFLIGHT_SHMFD its rings restart at the used index, which is "
		       "exact only if it completed in order (checked then)");
	/* Closing the socket and arming the retry timer belong to the loop thread. */
	signal_work(dev);
}

void vu_reconnect_note_activation(struct vu_device *dev)
{
	for (unsigned i = 0; i < dev->nqueues && i < VHOST_USER_MAX_QUEUES; i++)
		dev->reconnect.started[i] = vu_backend_ring_wanted(dev, i);
}

static void arm_retry(struct vu_device *dev, unsigned ms)
{
	struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = ms % 1000 * 1000};

	if (dev->reconnect.timer)
		event_add(dev->reconnect.timer, &tv);
}

/* Drains the socket directory's events; true if one names the socket. */
static bool socket_event(struct vu_device *dev)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	char path[PATH_MAX];
	const char *name;
	bool hit = false;
	ssize_t n;

	snprintf(path, sizeof(path), "%s", dev->spec.sock);
	name = basename(path);
	while ((n = read(dev->reconnect.watch_fd, buf, sizeof(buf))) > 0) {
		for (ssize_t off = 0; off + (ssize_t)sizeof(struct inotify_event) <= n;) {
			const struct inotify_event *ev = (const void *)(buf + off);

			hit |= ev->len && !strcmp(ev->name, name);
			off += (ssize_t)(sizeof(*ev) + ev->len);
		}
	}
	return hit;
}

static void on_socket_dir(evutil_socket_t fd, short what, void *arg)
{
	struct vu_device *dev = arg;

	(void)fd;
	(void)what;
	pthread_mutex_lock(&dev->vm->dev_lock);
	/* A back-end binds, then listens: the first tries may still be refused. */
	if (socket_event(dev) && dev->reconnect.lost) {
		dev->reconnect.appeared_ms = monotonic_ms();
		dev->reconnect.backoff_ms = FIRST_RETRY_MS;
		arm_retry(dev, 0);
	}
	pthread_mutex_unlock(&dev->vm->dev_lock);
}

static void unwatch_socket(struct vu_device *dev)
{
	struct vu_reconnect *rc = &dev->reconnect;

	if (rc->watch_ev)
		event_free(rc->watch_ev);
	rc->watch_ev = NULL;
	if (rc->watch_fd > 0)
		close(rc->watch_fd);
	rc->watch_fd = 0;
}

/*
 * Watches the socket's directory, so that a back-end that comes back is
 * tried at once rather than at the next backoff tick. Without inotify
 * (or a watch on that directory) the timer alone retries.
 */
static void watch_socket(struct vu_device *dev)
{
	struct vu_reconnect *rc = &dev->reconnect;
	char dir[PATH_MAX];
	int fd;

	if (rc->watch_ev)
		return;
	snprintf(dir, sizeof(dir), "%s", dev->spec.sock);
	fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (fd < 0)
		return;
	if (inotify_add_watch(fd, dirname(dir), IN_CREATE | IN_MOVED_TO | IN_ATTRIB) < 0) {
		log_debug(dev->fe.log_component, "%s: no inotify watch on %s: %s", dev->name, dir,
			  strerror(errno));
		close(fd);
		return;
	}
	rc->watch_fd = fd;
	rc->watch_ev = event_new(dev->vm->evbase, fd, EV_READ | EV_PERSIST, on_socket_dir, dev);
	if (!rc->watch_ev || event_add(rc->watch_ev, NULL) < 0)
		unwatch_socket(dev);
}

/* Loop thread, dev_lock held: drops the dead connection once and starts retrying. */
void vu_reconnect_work(struct vu_device *dev)
{
	if (!dev->reconnect.lost)
		return;
	if (dev->fe.sock >= 0) {
		if (dev->watch.sock_ev)
			event_del(dev->watch.sock_ev);
		if (dev->watch.backend_ev)
			event_del(dev->watch.backend_ev);
		dev->watch.backend_ev_fd = -1;
		vu_shmem_reset(dev, "back-end disconnected");
		vhost_user_frontend_close(&dev->fe);
		vu_inflight_connection_gone(dev);
	}
	watch_socket(dev);
	if (dev->reconnect.timer && !evtimer_pending(dev->reconnect.timer, NULL))
		arm_retry(dev, 0);
}

/* The bits a new back-end lacks of what the guest and the VMM already rely on. */
static int check_same_backend(struct vu_device *dev, char *why, size_t n)
{
	const struct vu_reconnect *rc = &dev->reconnect;
	uint64_t features = rc->device_features & ~dev->fe.device_features;
	uint64_t protocol = rc->protocol_features & ~dev->fe.protocol_features;

	if (features || protocol) {
		snprintf(why, n,
			 "the new back-end lacks features 0x%" PRIx64
			 " and protocol features 0x%" PRIx64 " the device already uses",
			 features, protocol);
		return -EPROTO;
	}
	if (dev->fe.num_queues != rc->num_queues) {
		snprintf(why, n, "the new back-end has %u queues, the device %u",
			 dev->fe.num_queues, rc->num_queues);
		return -EPROTO;
	}
	/* What the driver saw at probe stays what it sees. */
	dev->fe.device_features = rc->device_features;
	return 0;
}

/* Gives up on the back-end: the device fails as it would have without reconnect. */
static void give_up(struct vu_device *dev, const char *why)
{
	char cause[256];

	snprintf(cause, sizeof(cause), "%s", why);
	vhost_user_frontend_close(&dev->fe);
	vu_inflight_connection_gone(dev);
	dev->reconnect.lost = false;
	dev->reconnect.gave_up = true;
	dev->fe.hung_up = false;
	vu_fail_device(dev, cause);
	vu_type_stop(dev);
	vu_takeover_start(dev);
}

/* The rings as the guest left them: restarted at the used index, kicked. */
static int restart_rings(struct vu_device *dev)
{
	for (unsigned i = 0; i < dev->nqueues && i < VHOST_USER_MAX_QUEUES; i++) {
		const volatile uint16_t *used =
		    guest_memory_ptr(&dev->vm->mem, dev->queues[i].device, 4);
		const volatile uint16_t *avail =
		    guest_memory_ptr(&dev->vm->mem, dev->queues[i].driver, 4);

		dev->saved_started[i] = dev->reconnect.started[i];
		dev->saved_base[i] = used ? used[1] : 0;
		if (dev->saved_started[i] && used && avail) {
			dev->reconnect.rings_restarted++;
			dev->reconnect.requests_waiting += (uint16_t)(avail[1] - used[1]);
		}
	}
	vu_inflight_report(dev);
	return vu_backend_restart(dev);
}

/*
 * The new back-end's handshake and checks, run without dev_lock: a slow or
 * stalling back-end must not hold up the vCPUs (and every other device)
 * for its deadline. Safe because while reconnect.lost stands nothing but
 * this loop-thread path touches dev->fe. 0, -EAGAIN (try again) or -EPROTO.
 */
static int handshake_new_backend(struct vu_device *dev, char *why, size_t n)
{
	int err = vhost_user_frontend_try_connect(&dev->fe, dev->spec.sock);

	if (err)
		return -EAGAIN;
	err = vhost_user_frontend_handshake(&dev->fe);
	if (err) {
		/* It died again on the way: try once more; anything else is its fault. */
		bool again = dev->fe.hung_up;

		snprintf(why, n, "the new back-end failed the handshake (%s)", strerror(-err));
		vhost_user_frontend_close(&dev->fe);
		return again ? -EAGAIN : -EPROTO;
	}
	return check_same_backend(dev, why, n);
}

/*
 * Without in-flight tracking a ring restarts at its used index, which is
 * right only if the old back-end completed in order: else some requests
 * after that index were completed already and some before it never were.
 * Better a failed device (errors the guest sees) than a replay that
 * completes descriptors twice and loses others.
 */
static int check_restart_safe(struct vu_device *dev, char *why, size_t n)
{
	if (dev->reconnect.graceful ||
	    vhost_user_frontend_has_protocol(&dev->fe, VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD))
		return 0;
	for (unsigned i = 0; i < dev->nqueues && i < VHOST_USER_MAX_QUEUES; i++) {
		const struct virtio_queue_info *q = &dev->queues[i];
		uint16_t at, used_head, avail_head;

		if (!dev->reconnect.started[i] ||
		    virtq_completed_in_order(&dev->vm->mem, q->size, q->driver, q->device, &at,
					     &used_head, &avail_head) != 0)
			continue;
		snprintf(why, n,
			 "the old back-end completed out of order (queue %u: used[%u] is head %u, "
			 "avail[%u] head %u) and offers no INFLIGHT_SHMFD: a restart at the used "
			 "index would serve some requests twice and others never",
			 i, at, used_head, at, avail_head);
		return -EPROTO;
	}
	return 0;
}

/* dev_lock held: the handshaken back-end takes over the device's rings. */
static int adopt_new_backend(struct vu_device *dev, char *why, size_t n)
{
	int err = vu_watches_rebind(dev) ? -EPROTO : 0;

	if (!err && (dev->state == VU_DEV_ACTIVE || dev->state == VU_DEV_PAUSED))
		err = check_restart_safe(dev, why, n);
	if (err)
		return err;
	dev->reconnect.lost = false;
	dev->reconnect.restarting = true;
	dev->reconnect.rings_restarted = dev->reconnect.requests_waiting = 0;
	if (dev->state == VU_DEV_ACTIVE || dev->state == VU_DEV_PAUSED)
		err = restart_rings(dev);
	if (err && dev->fe.hung_up) {
		/* Gone again while its rings started (the failure may have said so): wait for the
		 * next one. */
		if (!dev->reconnect.lost)
			vu_backend_lost(dev, "hung up while its rings restarted");
		vu_reconnect_work(dev);
		err = 0;
	}
	dev->reconnect.restarting = false;
	if (dev->reconnect.lost)
		return 0;
	dev->reconnect.graceful = false;
	if (err) {
		snprintf(why, n, "restarting the rings on the new back-end failed (%s)",
			 strerror(-err));
		return -EPROTO;
	}
	vu_config_recheck(dev);
	return 0;
}

/* What one try came to: logged, given up on, or retried after the backoff. */
static void settle_try(struct vu_device *dev, int err, const char *why)
{
	struct vu_reconnect *rc = &dev->reconnect;
	uint64_t now = monotonic_ms(), waited = now - rc->since_ms;
	char cause[224], appeared[48] = "";

	if (rc->appeared_ms)
		snprintf(appeared, sizeof(appeared), "; %" PRIu64 " ms after its socket appeared",
			 now - rc->appeared_ms);

	if (!err && !rc->lost) {
		rc->count++;
		log_info(dev->fe.log_component,
			 "%s: back-end back after %" PRIu64
			 " ms (reconnect %u; %s, %u ring%s restarted, %u request%s waiting%s)",
			 dev->name, waited, rc->count, vu_state_name(dev->state),
			 rc->rings_restarted, rc->rings_restarted == 1 ? "" : "s",
			 rc->requests_waiting, rc->requests_waiting == 1 ? "" : "s", appeared);
	} else if (err == -EPROTO) {
		give_up(dev, why);
	} else if (err && waited >= reconnect_timeout_ms(dev)) {
		snprintf(cause, sizeof(cause),
			 "back-end gone for %" PRIu64 " ms (reconnect-timeout=%u): %s", waited,
			 reconnect_timeout_ms(dev), rc->cause);
		give_up(dev, cause);
	} else if (err) {
		arm_retry(dev, rc->backoff_ms);
		rc->backoff_ms =
		    rc->backoff_ms * 2 > LONGEST_RETRY_MS ? LONGEST_RETRY_MS : rc->backoff_ms * 2;
	}
	if (!rc->lost) { /* regained, or given up */
		unwatch_socket(dev);
		rc->appeared_ms = 0;
	}
}

static void on_retry(evutil_socket_t fd, short what, void *arg)
{
	struct vu_device *dev = arg;
	struct vu_reconnect *rc = &dev->reconnect;
	char why[224] = "";
	bool go;
	int err;

	(void)fd;
	(void)what;
	pthread_mutex_lock(&dev->vm->dev_lock);
	go = rc->lost && dev->fe.sock < 0 && !vm_exit_requested(dev->vm);
	pthread_mutex_unlock(&dev->vm->dev_lock);
	if (!go)
		return;
	err = handshake_new_backend(dev, why, sizeof(why));
	pthread_mutex_lock(&dev->vm->dev_lock);
	if (!err && vm_exit_requested(dev->vm))
		vhost_user_frontend_close(&dev->fe);
	else if (!err)
		err = adopt_new_backend(dev, why, sizeof(why));
	if (!vm_exit_requested(dev->vm))
		settle_try(dev, err, why);
	pthread_mutex_unlock(&dev->vm->dev_lock);
}

int vu_reconnect_init(struct vu_device *dev)
{
	dev->reconnect.timer = evtimer_new(dev->vm->evbase, on_retry, dev);
	return dev->reconnect.timer ? 0 : -ENOMEM;
}

void vu_reconnect_release(struct vu_device *dev)
{
	if (dev->reconnect.timer)
		event_free(dev->reconnect.timer);
	dev->reconnect.timer = NULL;
	unwatch_socket(dev);
	vu_inflight_free(dev);
}

void vu_reconnect_after_reset(struct vu_device *dev)
{
	/*
	 * Only a device that reconnecting gave up on (gone too long, or back
	 * unable to serve): one failed by a back-end that answered wrongly
	 * keeps failing at once (EIO, not a wait).
	 */
	if (dev->spec.reconnect != 1 || dev->fe.sock >= 0 || dev->reconnect.lost ||
	    !dev->reconnect.gave_up)
		return;
	dev->reconnect.gave_up = false;
	dev->failure.cause[0] = '\0';
	dev->state = VU_DEV_IDLE;
	dev->fe.hung_up = true;
	vu_backend_lost(dev, "a fresh try after the device's reset");
}

int vu_device_reconnect(struct vu_device *dev)
{
	if (dev->reconnect.lost)
		return -EALREADY;
	if (dev->state == VU_DEV_FAILED)
		return -EIO;
	/*
	 * The back-end is alive: its rings are stopped and drained first, so
	 * the next one restarts them exactly, whatever order it completed in.
	 */
	dev->reconnect.graceful = dev->state == VU_DEV_ACTIVE && vu_backend_quiesce(dev) == 0;
	dev->fe.hung_up = true;
	vu_backend_lost(dev, "reconnect asked for on the control socket");
	vu_reconnect_work(dev);
	return 0;
}
