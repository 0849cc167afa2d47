/* Answering the rings of a dead back-end, so that the guest's requests fail instead of hanging. */
#include "vhost_user/device/internal.h"

#include <endian.h>
#include <errno.h>
#include <event2/event.h>
#include <linux/virtio_ring.h>
#include <string.h>
#include <unistd.h>

#include "vmm/log.h"
#include "vmm/vm.h"

#include "vmm/util.h"

/* The chain's buffers, never more than the array holds whatever nbufs says. */
static unsigned chain_bufs(const struct virtq_chain *c)
{
	return c->nbufs < VIRTQ_MAX_BUFS ? c->nbufs : VIRTQ_MAX_BUFS;
}

bool vu_chain_put_last_byte(const struct virtq_chain *c, uint8_t value)
{
	for (unsigned i = chain_bufs(c); i-- > 0;) {
		if (c->bufs[i].writable && c->bufs[i].len) {
			((uint8_t *)c->bufs[i].host)[c->bufs[i].len - 1] = value;
			return true;
		}
	}
	return false;
}

vu_takeover_serve_fn vu_takeover_pick(const struct vu_device *dev, unsigned q)
{
	const struct vu_type_ops *ops = dev->spec.ops;

	return ops && ops->takeover_pick ? ops->takeover_pick(dev, q) : NULL;
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
	/*
	 * Off since the guest's reset: the kick is not ours to read (a back-end
	 * regained after the reset reads it, and libvhost-user ones panic on a
	 * kick fd someone else emptied). The watch drops itself, here on the
	 * loop thread, where removing an event is safe.
	 */
	if (!t->on || dev->state != VU_DEV_FAILED) {
		event_del(t->kick_ev);
		pthread_mutex_unlock(&dev->vm->dev_lock);
		return;
	}
	if (read((int)fd, &count, sizeof(count)) < 0 && errno != EAGAIN)
		log_debug(dev->fe.log_component, "kick read failed: %s", strerror(errno));
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
	virtq_set_ratelimit(&t->vq, &dev->rl);
	/* What the back-end took and never completed is answered here with the rest. */
	t->vq.used_idx = le16toh(((volatile struct virtq_used *)t->vq.used)->idx);
	t->vq.last_avail_idx = t->vq.used_idx;
	t->serve = serve;
	t->dev = dev;
	t->index = i;
	if (!t->kick_ev)
		t->kick_ev = event_new(dev->vm->evbase, q->kick_fd, EV_READ | EV_PERSIST,
				       on_takeover_kick, t);
	/* Again after a reset: the watch dropped itself then. */
	if (!t->kick_ev || event_add(t->kick_ev, NULL) < 0)
		return false;
	t->on = true;
	/* A polling back-end (DPDK) may have told the driver not to kick. */
	virtq_want_kicks(&t->vq);
	takeover_serve(dev, i);
	return true;
}

void vu_takeover_start(struct vu_device *dev)
{
	unsigned taken = 0;

	dev->failure.takeover_pending = false;
	if (!dev->failure.rings_were_live)
		return;
	for (unsigned i = 0; i < dev->nqueues; i++) {
		vu_takeover_serve_fn serve = vu_takeover_pick(dev, i);

		/* The VMM's own queues never depended on the back-end: they go on as they were. */
		if (vu_queue_local(dev, i))
			continue;
		if (serve && dev->queues[i].enabled && take_queue(dev, i, serve))
			taken++;
	}
	/* Once per takeover, and a guest may reset the device into another: rate-limited. */
	if (taken && log_ratelimit_allow(&dev->rl, LOG_RATELIMIT_BURST))
		log_info(dev->fe.log_component, "%s: %s", dev->name,
			 dev->spec.ops->takeover_effect);
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
