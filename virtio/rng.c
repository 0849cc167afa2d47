/* virtio-rng served in the VMM: fills device-writable buffers with getrandom. */
#include "virtio/rng.h"

#include <errno.h>
#include <event2/event.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_ring.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "virtio/virtqueue.h"
#include "vmm/snapfmt.h"
#include "vmm/vm.h"

#define RNG_QUEUE_SIZE 64
#define RNG_MAX_BYTES_PER_CHAIN (64u << 10) /* bounds the work one buffer can ask for */

struct virtio_rng {
	struct virtio_pci transport;
	struct vm *vm;
	struct event *kick_ev;
	bool active;
	struct virtq vq;
	struct virtq_chain chain;
};

static uint64_t rng_features(void *dev)
{
	(void)dev;
	return 1ull << VIRTIO_RING_F_EVENT_IDX;
}

/* An eventfd write is the one thread-safe way to wake the loop's handler. */
static void self_kick(struct virtio_rng *rng)
{
	uint64_t one = 1;

	if (write(virtio_pci_kick_fd(&rng->transport, 0), &one, sizeof(one)) < 0)
		log_debug("virtio-rng", "kick already saturated");
}

static int rng_activate(void *dev, uint64_t features, const struct virtio_queue_info *queues,
			unsigned nqueues)
{
	struct virtio_rng *rng = dev;
	const struct virtio_queue_info *q = &queues[0];
	int err;

	if (nqueues != 1 || !q->enabled)
		return -EINVAL;
	err = virtq_init(&rng->vq, &rng->vm->mem, q->size, q->desc, q->driver, q->device,
			 features & (1ull << VIRTIO_RING_F_EVENT_IDX));
	if (err)
		return err;
	virtq_set_ratelimit(&rng->vq, &rng->transport.rl);
	rng->active = true;
	/* Buffers queued before DRIVER_OK would otherwise wait for the next kick. */
	self_kick(rng);
	return 0;
}

static void rng_reset(void *dev)
{
	struct virtio_rng *rng = dev;

	rng->active = false;
}

static const struct virtio_device_ops rng_ops = {
    .features = rng_features,
    .activate = rng_activate,
    .reset = rng_reset,
};

/* Fills the chain's writable buffers; returns the bytes written. */
static uint32_t fill_chain(const struct virtq_chain *c)
{
	uint32_t total = 0;
	unsigned i;

	for (i = 0; i < c->nbufs && total < RNG_MAX_BYTES_PER_CHAIN; i++) {
		const struct virtq_buf *b = &c->bufs[i];
		size_t want = b->len, done = 0;

		if (!b->writable)
			continue;
		if (want > RNG_MAX_BYTES_PER_CHAIN - total)
			want = RNG_MAX_BYTES_PER_CHAIN - total;
		while (done < want) {
			ssize_t n = getrandom((char *)b->host + done, want - done, GRND_NONBLOCK);
			if (n <= 0)
				return total + (uint32_t)done; /* entropy not ready: short buffer */
			done += (size_t)n;
		}
		total += (uint32_t)done;
		if (done < b->len)
			break;
	}
	return total;
}

/* Serves at most one ring's worth of chains; true if more may be waiting. */
static bool serve_queue(struct virtio_rng *rng)
{
	unsigned served;
	bool pushed = false, more = false;

	for (served = 0; served < rng->vq.size; served++) {
		int got = virtq_pop(&rng->vq, &rng->chain);
		if (got < 0) {
			virtio_pci_set_needs_reset(&rng->transport, "malformed virtqueue");
			break;
		}
		if (got == 0)
			break;
		virtq_push(&rng->vq, rng->chain.head, fill_chain(&rng->chain));
		pushed = true;
	}
	if (served == rng->vq.size)
		more = true;
	if (pushed && virtq_should_notify(&rng->vq))
		virtio_pci_notify_queue(&rng->transport, 0);
	return more;
}

static void on_kick(evutil_socket_t fd, short what, void *arg)
{
	struct virtio_rng *rng = arg;
	uint64_t count;

	(void)what;
	pthread_mutex_lock(&rng->vm->dev_lock);
	if (read(fd, &count, sizeof(count)) < 0 && errno != EAGAIN)
		log_debug("virtio-rng", "kick read failed");
	if (rng->active && serve_queue(rng))
		self_kick(rng); /* let other events run before the rest */
	pthread_mutex_unlock(&rng->vm->dev_lock);
}

int virtio_rng_create(struct vm *vm, struct pci_bus *bus, const struct virtio_pci_platform *plat,
		      struct virtio_rng **out)
{
	struct virtio_pci_params params = {
	    .name = "virtio-rng",
	    .device_type = VIRTIO_ID_RNG,
	    .num_queues = 1,
	    .queue_max_size = RNG_QUEUE_SIZE,
	    .config_size = 0,
	    .ops = &rng_ops,
	};
	struct virtio_pci_platform kvm;
	struct virtio_rng *rng;
	int err;

	rng = calloc(1, sizeof(*rng));
	if (!rng)
		return -ENOMEM;
	rng->vm = vm;
	params.dev = rng;
	if (!plat) {
		kvm = virtio_pci_kvm_platform(vm);
		plat = &kvm;
	}
	err = virtio_pci_init(&rng->transport, bus, &vm->mem, &params, plat);
	if (err)
		goto fail;
	rng->kick_ev = event_new(vm->evbase, virtio_pci_kick_fd(&rng->transport, 0),
				 EV_READ | EV_PERSIST, on_kick, rng);
	if (!rng->kick_ev || event_add(rng->kick_ev, NULL) < 0) {
		err = -ENOMEM;
		pci_unregister_function(bus, &rng->transport.fn);
		virtio_pci_destroy(&rng->transport);
		goto fail;
	}
	*out = rng;
	return 0;
fail:
	log_error("virtio-rng", "cannot create: %s", strerror(-err));
	if (rng->kick_ev)
		event_free(rng->kick_ev);
	free(rng);
	return err;
}

void virtio_rng_destroy(struct virtio_rng *rng)
{
	if (!rng)
		return;
	event_free(rng->kick_ev);
	virtio_pci_destroy(&rng->transport);
	free(rng);
}

struct virtio_pci *virtio_rng_transport(struct virtio_rng *rng)
{
	return &rng->transport;
}

void virtio_rng_save(const struct virtio_rng *rng, struct snap_buf *b)
{
	virtio_pci_save(&rng->transport, b);
	snap_put_u8(b, rng->active);
	snap_put_u16(b, rng->vq.last_avail_idx);
	snap_put_u16(b, rng->vq.used_idx);
	snap_put_u16(b, rng->vq.signalled_used);
	snap_put_u8(b, rng->vq.signalled_valid);
}

bool virtio_rng_load(struct virtio_rng *rng, struct snap_reader *rd)
{
	uint8_t active = 0, valid = 0;
	uint16_t last = 0, used = 0, signalled = 0;

	if (!virtio_pci_load(&rng->transport, rd))
		return false;
	snap_get_u8(rd, "rng active", &active);
	snap_get_u16(rd, "rng last avail", &last);
	snap_get_u16(rd, "rng used", &used);
	snap_get_u16(rd, "rng signalled", &signalled);
	if (!snap_get_u8(rd, "rng signalled valid", &valid))
		return false;
	if (active != rng->active)
		return snap_fail(rd, "rng active", "%u in the snapshot, %u after replay", active,
				 rng->active);
	rng->vq.last_avail_idx = last;
	rng->vq.used_idx = used;
	rng->vq.signalled_used = signalled;
	rng->vq.signalled_valid = valid;
	return true;
}
