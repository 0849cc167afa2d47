/*
 * A vhost-user device's event-loop side: the back-end's request channel,
 * hang-up of its socket, and finishing a failure on the loop thread (which
 * hands the rings to takeover.c, so new requests fail, not hang).
 */
#include "vhost_user/device/internal.h"

#include <errno.h>
#include <event2/event.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "vmm/clock.h"
#include "vmm/log.h"
#include "vmm/vm.h"

/* Back-end requests run with dev_lock held (loop callback or a vCPU's wait for a reply). */
static void be_config_changed(void *opaque)
{
	struct vu_device *dev = opaque;

	dev->config_cached = false;
	virtio_pci_config_changed(&dev->transport);
}

static int be_vring_call(void *opaque, unsigned index)
{
	struct vu_device *dev = opaque;
	uint64_t one = 1;

	if (index >= dev->nqueues || dev->queues[index].call_fd < 0)
		return -EINVAL;
	return write(dev->queues[index].call_fd, &one, sizeof(one)) < 0 ? -errno : 0;
}

static int be_vring_err(void *opaque, unsigned index)
{
	struct vu_device *dev = opaque;
	char cause[64];

	snprintf(cause, sizeof(cause), "back-end reported an error on queue %u", index);
	vu_fail_device(dev, cause);
	return 0;
}

static int be_shmem_map(void *opaque, const struct vhost_user_shmem_map *map, int fd)
{
	return vu_shmem_backend_map(opaque, map, fd);
}

static int be_shmem_unmap(void *opaque, const struct vhost_user_shmem_map *map)
{
	return vu_shmem_backend_unmap(opaque, map);
}

const struct vhost_user_backend_ops vu_backend_ops = {
    .config_changed = be_config_changed,
    .vring_call = be_vring_call,
    .vring_err = be_vring_err,
    .shmem_map = be_shmem_map,
    .shmem_unmap = be_shmem_unmap,
};

/* The loop's half of a failure: drop the watches, close the connection. */
static void finish_failure(struct vu_device *dev)
{
	if (dev->state != VU_DEV_FAILED || dev->fe.sock < 0)
		return;
	if (dev->watch.sock_ev)
		event_del(dev->watch.sock_ev);
	if (dev->watch.backend_ev)
		event_del(dev->watch.backend_ev);
	vu_type_stop(dev);
	vu_shmem_reset(dev, "back-end disconnected");
	vhost_user_frontend_close(&dev->fe);
	vu_takeover_start(dev);
}

static void on_work(evutil_socket_t fd, short what, void *arg)
{
	struct vu_device *dev = arg;
	uint64_t count;

	(void)what;
	if (read((int)fd, &count, sizeof(count)) < 0 && errno != EAGAIN)
		log_debug(dev->fe.log_component, "work read failed: %s", strerror(errno));
	pthread_mutex_lock(&dev->vm->dev_lock);
	finish_failure(dev);
	vu_reconnect_work(dev);
	/* A failed device whose driver set up new rings: answer those. */
	if (dev->failure.takeover_pending && dev->state == VU_DEV_FAILED && dev->fe.sock < 0)
		vu_takeover_start(dev);
	pthread_mutex_unlock(&dev->vm->dev_lock);
}

/* Fails the device when a deferred ack failed; logs the activation once all are in. */
static void acks_read(struct vu_device *dev, int err)
{
	if (err) {
		dev->activation.start_ns = 0;
		vu_fail_device(dev, "activation failed");
		finish_failure(dev);
		vu_reconnect_work(dev);
	} else if (!vhost_user_frontend_acks_outstanding(&dev->fe)) {
		vu_activation_acked(dev);
	}
}

void vu_arm_ack_timer(struct vu_device *dev)
{
	/* The batch's one deadline; a timer value of 0 would disarm it. */
	int64_t left = dev->fe.ack_deadline_ms - monotonic_ms();
	int ms = left > 0 ? (int)left : 1;
	struct itimerspec when = {
	    .it_value = {.tv_sec = ms / 1000, .tv_nsec = ms % 1000 * 1000000L}};

	if (dev->watch.ack_timer_fd >= 0 &&
	    timerfd_settime(dev->watch.ack_timer_fd, 0, &when, NULL) < 0)
		log_debug(dev->fe.log_component, "ack timer: %s", strerror(errno));
}

static void on_ack_timer(evutil_socket_t fd, short what, void *arg)
{
	struct vu_device *dev = arg;
	uint64_t expirations;
	int err;

	(void)what;
	if (read((int)fd, &expirations, sizeof(expirations)) < 0)
		return;
	pthread_mutex_lock(&dev->vm->dev_lock);
	err = vhost_user_frontend_read_acks(&dev->fe);
	if (!err)
		err = vhost_user_frontend_expire_acks(&dev->fe);
	acks_read(dev, err);
	pthread_mutex_unlock(&dev->vm->dev_lock);
}

/*
 * The main socket carries nothing unasked for but the acks of an
 * activation: readable otherwise (we hold the lock, so no request is
 * outstanding) means hang-up or a rogue peer.
 */
static void on_socket(evutil_socket_t fd, short what, void *arg)
{
	struct vu_device *dev = arg;
	char byte, cause[192];
	ssize_t n;

	(void)what;
	pthread_mutex_lock(&dev->vm->dev_lock);
	if (dev->fe.sock == (int)fd && vhost_user_frontend_acks_outstanding(&dev->fe)) {
		acks_read(dev, vhost_user_frontend_read_acks(&dev->fe));
	} else if (dev->fe.sock == (int)fd) {
		n = recv((int)fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
		if (n == 0) {
			snprintf(cause, sizeof(cause), "back-end hung up (%s closed)",
				 dev->spec.sock);
			dev->fe.hung_up = true;
		} else if (n < 0 && errno != EAGAIN && errno != EINTR)
			snprintf(cause, sizeof(cause), "back-end socket error: %s",
				 strerror(errno));
		else if (n > 0)
			snprintf(cause, sizeof(cause), "back-end sent an unrequested message");
		if (n >= 0 || (errno != EAGAIN && errno != EINTR)) {
			vu_fail_device(dev, cause);
			finish_failure(dev);
			vu_reconnect_work(dev);
		}
	}
	pthread_mutex_unlock(&dev->vm->dev_lock);
}

static bool nothing_to_read(int fd)
{
	char byte;

	return recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT) < 0 &&
	       (errno == EAGAIN || errno == EINTR);
}

static void on_backend_request(evutil_socket_t fd, short what, void *arg)
{
	struct vu_device *dev = arg;

	(void)what;
	pthread_mutex_lock(&dev->vm->dev_lock);
	/*
	 * A vCPU waiting for a reply may have served the request already; the
	 * frontend's read would then wait out its timeout under the lock.
	 */
	if (dev->fe.backend_fd == (int)fd && dev->fe.backend_fd == dev->watch.backend_ev_fd &&
	    !nothing_to_read((int)fd))
		vhost_user_frontend_handle_backend_request(&dev->fe);
	/* The frontend closes the channel on hang-up; stop watching the number. */
	if (dev->fe.backend_fd != dev->watch.backend_ev_fd) {
		event_del(dev->watch.backend_ev);
		dev->watch.backend_ev_fd = -1;
	}
	pthread_mutex_unlock(&dev->vm->dev_lock);
}

static struct event *watch(struct vu_device *dev, int fd, event_callback_fn fn, void *arg)
{
	struct event *ev = event_new(dev->vm->evbase, fd, EV_READ | EV_PERSIST, fn, arg);

	if (ev && event_add(ev, NULL) < 0) {
		event_free(ev);
		ev = NULL;
	}
	return ev;
}

int vu_watches_start(struct vu_device *dev)
{
	dev->watch.work_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (dev->watch.work_fd < 0)
		return -errno;
	dev->watch.ack_timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (dev->watch.ack_timer_fd < 0)
		return -errno;
	dev->watch.work_ev = watch(dev, dev->watch.work_fd, on_work, dev);
	dev->watch.ack_timer_ev = watch(dev, dev->watch.ack_timer_fd, on_ack_timer, dev);
	if (!dev->watch.work_ev || !dev->watch.ack_timer_ev || vu_reconnect_init(dev))
		return -ENOMEM;
	return vu_watches_rebind(dev);
}

/* The connection's own watches (its socket, its back-end channel), dropped and made anew. */
int vu_watches_rebind(struct vu_device *dev)
{
	if (dev->watch.sock_ev)
		event_free(dev->watch.sock_ev);
	if (dev->watch.backend_ev)
		event_free(dev->watch.backend_ev);
	dev->watch.backend_ev = NULL;
	dev->watch.backend_ev_fd = -1;
	dev->watch.sock_ev = watch(dev, dev->fe.sock, on_socket, dev);
	if (!dev->watch.sock_ev)
		return -ENOMEM;
	if (dev->fe.backend_fd >= 0) {
		dev->watch.backend_ev = watch(dev, dev->fe.backend_fd, on_backend_request, dev);
		if (!dev->watch.backend_ev)
			return -ENOMEM;
		dev->watch.backend_ev_fd = dev->fe.backend_fd;
	}
	return 0;
}

void vu_watches_stop(struct vu_device *dev)
{
	struct event **evs[] = {&dev->watch.work_ev, &dev->watch.sock_ev, &dev->watch.backend_ev,
				&dev->watch.ack_timer_ev};

	for (unsigned i = 0; i < sizeof(evs) / sizeof(evs[0]); i++) {
		if (*evs[i])
			event_free(*evs[i]);
		*evs[i] = NULL;
	}
	vu_takeover_release(dev);
	vu_reconnect_release(dev);
	if (dev->watch.work_fd >= 0)
		close(dev->watch.work_fd);
	dev->watch.work_fd = -1;
	if (dev->watch.ack_timer_fd >= 0)
		close(dev->watch.ack_timer_fd);
	dev->watch.ack_timer_fd = -1;
}
