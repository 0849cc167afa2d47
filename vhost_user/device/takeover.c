/* Answering the rings of a dead back-end, so that the guest's requests fail instead of hanging. */
#include "vhost_user/device/internal.h"

#include <endian.h>
#include <errno.h>
#include <event2/event.h>
#include <linux/fuse.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include "vmm/log.h"
#include "vmm/vm.h"

#define BIT(n) (1ull << (n))
/* virtio-fs: queue 1 is the notification queue (device-writable only); requests follow it. */
#define FS_F_NOTIFICATION 0
#define FS_NOTIFICATION_QUEUE 1

/* The chain's buffers, never more than the array holds whatever nbufs says. */
static unsigned chain_bufs(const struct virtq_chain *c)
{
	return c->nbufs < VIRTQ_MAX_BUFS ? c->nbufs : VIRTQ_MAX_BUFS;
}

int vu_chain_read(const struct virtq_chain *c, void *dst, size_t len)
{
	uint8_t *out = dst;
	size_t done = 0;

	for (unsigned i = 0; i < chain_bufs(c) && !c->bufs[i].writable && done < len; i++) {
		size_t take = c->bufs[i].len < len - done ? c->bufs[i].len : len - done;

		memcpy(out + done, c->bufs[i].host, take);
		done += take;
	}
	return done == len ? 0 : -EINVAL;
}

static uint64_t writable_bytes(const struct virtq_chain *c)
{
	uint64_t sum = 0;

	for (unsigned i = 0; i < chain_bufs(c); i++)
		sum += c->bufs[i].writable ? c->bufs[i].len : 0;
	return sum;
}

int vu_chain_write(const struct virtq_chain *c, const void *src, size_t len)
{
	const uint8_t *in = src;
	size_t done = 0;

	if (writable_bytes(c) < len)
		return -ENOSPC;
	for (unsigned i = 0; i < chain_bufs(c) && done < len; i++) {
		size_t take;

		if (!c->bufs[i].writable)
			continue;
		take = c->bufs[i].len < len - done ? c->bufs[i].len : len - done;
		memcpy(c->bufs[i].host, in + done, take);
		done += take;
	}
	return 0;
}

/* Puts value into the chain's last writable byte (blk status, net ack); false without one. */
static bool put_last_writable_byte(const struct virtq_chain *c, uint8_t value)
{
	for (unsigned i = chain_bufs(c); i-- > 0;) {
		if (c->bufs[i].writable && c->bufs[i].len) {
			((uint8_t *)c->bufs[i].host)[c->bufs[i].len - 1] = value;
			return true;
		}
	}
	return false;
}

uint32_t vu_takeover_blk(const struct virtq_chain *c)
{
	return put_last_writable_byte(c, VIRTIO_BLK_S_IOERR) ? 1 : 0;
}

uint32_t vu_takeover_fs(const struct virtq_chain *c)
{
	struct fuse_in_header in;
	struct fuse_out_header out;

	if (vu_chain_read(c, &in, sizeof(in)))
		return 0; /* too short for a FUSE request: nothing to answer it with */
	out.len = htole32(sizeof(out));
	out.error = (int32_t)htole32((uint32_t)-EIO);
	out.unique = in.unique; /* both little-endian: copied as is */
	/* FORGET and BATCH_FORGET have no reply buffers; a short one takes no header. */
	return vu_chain_write(c, &out, sizeof(out)) ? 0 : sizeof(out);
}

uint32_t vu_takeover_net_tx(const struct virtq_chain *c)
{
	(void)c; /* the frame goes nowhere; completing it lets the guest reuse the buffers */
	return 0;
}

uint32_t vu_takeover_net_ctrl(const struct virtq_chain *c)
{
	return put_last_writable_byte(c, VIRTIO_NET_ERR) ? 1 : 0;
}

static int highest_enabled_queue(const struct vu_device *dev)
{
	for (unsigned i = dev->nqueues; i-- > 0;) {
		if (dev->queues[i].enabled)
			return (int)i;
	}
	return -1;
}

/*
 * The control queue follows the driver's rx/tx pairs: index 2 *
 * max_virtqueue_pairs with MQ, else 2. The driver read max_virtqueue_pairs
 * from dev->config during probe: served locally, or the bytes of the
 * back-end's last GET_CONFIG, which stay there after the back-end died (a
 * config-change notice only marks them stale, and the field is fixed once
 * the device is live). A value naming no enabled queue (0, out of range,
 * a cache that never held the field) falls back to the highest enabled
 * queue: Linux enables every queue it sets up, and the control queue is
 * its last.
 */
int vu_takeover_net_ctrl_queue(const struct vu_device *dev)
{
	size_t at = offsetof(struct virtio_net_config, max_virtqueue_pairs);
	unsigned pairs = 1;
	int fallback = highest_enabled_queue(dev);

	if (!(dev->driver_features & BIT(VIRTIO_NET_F_CTRL_VQ)))
		return -1;
	if (dev->driver_features & BIT(VIRTIO_NET_F_MQ))
		pairs = dev->config[at] | (unsigned)dev->config[at + 1] << 8;
	if (pairs >= 1 && 2 * pairs < dev->nqueues && dev->queues[2 * pairs].enabled)
		return (int)(2 * pairs);
	/* An odd index would be a tx queue; the control queue's is always even. */
	return fallback >= 2 && fallback % 2 == 0 ? fallback : -1;
}

static vu_takeover_serve_fn pick_net(const struct vu_device *dev, unsigned q)
{
	int ctrl = vu_takeover_net_ctrl_queue(dev);

	if (ctrl >= 0 && q == (unsigned)ctrl)
		return vu_takeover_net_ctrl;
	if (ctrl >= 0 && q > (unsigned)ctrl)
		return NULL; /* past the control queue: no queue the driver uses */
	/* rx (even) stays alone: nothing arrives, and its buffers wait for a reset. */
	return q % 2 ? vu_takeover_net_tx : NULL;
}

vu_takeover_serve_fn vu_takeover_pick(const struct vu_device *dev, unsigned q)
{
	switch (dev->fe.type->id) {
	case VIRTIO_ID_BLOCK:
		return vu_takeover_blk;
	case VIRTIO_ID_FS:
		/* Notification buffers are the device's to fill: nothing to answer. */
		if (q == FS_NOTIFICATION_QUEUE && (dev->driver_features & BIT(FS_F_NOTIFICATION)))
			return NULL;
		return vu_takeover_fs;
	case VIRTIO_ID_NET:
		return pick_net(dev, q);
	}
	return NULL;
}

int vu_takeover_drain(struct virtq *vq, struct virtq_chain *chain, vu_takeover_serve_fn serve)
{
	int pushed = 0, got = 0;

	/* One ring's worth per call: a guest that keeps adding cannot hold the loop. */
	for (unsigned n = 0; n < vq->size && (got = virtq_pop(vq, chain)) > 0; n++) {
		if (virtq_push(vq, chain->head, serve(chain)) < 0)
			break;
		pushed++;
	}
	return pushed ? pushed : got < 0 ? got : 0;
}

static void takeover_serve(struct vu_device *dev, unsigned q)
{
	struct vu_takeover *t = &dev->takeover[q];
	int served = vu_takeover_drain(&t->vq, &t->chain, t->serve);
	uint64_t one = 1;

	if (served > 0 && virtq_should_notify(&t->vq))
		virtio_pci_notify_queue(&dev->transport, q);
	/*
	 * Stopped at the bound: more may wait that the driver will not kick
	 * for again. Kick ourselves, to come back after the loop's other work.
	 */
	if (served == t->vq.size && write(dev->queues[q].kick_fd, &one, sizeof(one)) < 0)
		log_debug(dev->fe.log_component, "kick write failed: %s", strerror(errno));
}

static void on_takeover_kick(evutil_socket_t fd, short what, void *arg)
{
	struct vu_takeover *t = arg;
	struct vu_device *dev = t->dev;
	uint64_t count;

	(void)what;
	pthread_mutex_lock(&dev->vm->dev_lock);
	if (read((int)fd, &count, sizeof(count)) < 0 && errno != EAGAIN)
		log_debug(dev->fe.log_component, "kick read failed: %s", strerror(errno));
	if (t->on && dev->state == VU_DEV_FAILED)
		takeover_serve(dev, t->index);
	pthread_mutex_unlock(&dev->vm->dev_lock);
}

/* Takes queue i over; false when its ring is unusable or it cannot be watched. */
static bool take_queue(struct vu_device *dev, unsigned i, vu_takeover_serve_fn serve)
{
	const struct virtio_queue_info *q = &dev->queues[i];
	struct vu_takeover *t = &dev->takeover[i];

	if (virtq_init(&t->vq, &dev->vm->mem, q->size, q->desc, q->driver, q->device,
		       dev->driver_features & BIT(VIRTIO_RING_F_EVENT_IDX)))
		return false;
	/* What the back-end took and never completed is answered here with the rest. */
	t->vq.used_idx = le16toh(((volatile struct virtq_used *)t->vq.used)->idx);
	t->vq.last_avail_idx = t->vq.used_idx;
	t->serve = serve;
	t->dev = dev;
	t->index = i;
	if (!t->kick_ev) {
		t->kick_ev = event_new(dev->vm->evbase, q->kick_fd, EV_READ | EV_PERSIST,
				       on_takeover_kick, t);
		if (!t->kick_ev || event_add(t->kick_ev, NULL) < 0)
			return false;
	}
	t->on = true;
	/* A polling back-end (DPDK) may have told the driver not to kick. */
	virtq_want_kicks(&t->vq);
	takeover_serve(dev, i);
	return true;
}

static const char *takeover_effect(uint32_t type_id)
{
	switch (type_id) {
	case VIRTIO_ID_BLOCK:
		return "new requests now fail with an I/O error";
	case VIRTIO_ID_FS:
		return "new FUSE requests now fail with EIO";
	case VIRTIO_ID_NET:
		return "tx frames are now dropped, control commands fail";
	}
	return "";
}

void vu_takeover_start(struct vu_device *dev)
{
	unsigned taken = 0;

	if (!dev->rings_were_live)
		return;
	for (unsigned i = 0; i < dev->nqueues; i++) {
		vu_takeover_serve_fn serve = vu_takeover_pick(dev, i);

		if (serve && dev->queues[i].enabled && take_queue(dev, i, serve))
			taken++;
	}
	if (taken)
		log_info(dev->fe.log_component, "%s: %s", dev->name,
			 takeover_effect(dev->fe.type->id));
}

void vu_takeover_release(struct vu_device *dev)
{
	for (unsigned i = 0; i < VIRTIO_PCI_MAX_QUEUES; i++) {
		if (dev->takeover[i].kick_ev)
			event_free(dev->takeover[i].kick_ev);
		dev->takeover[i].kick_ev = NULL;
		dev->takeover[i].on = false;
	}
}
