/*
 * The vhost-user net device type: N rx/tx pairs at the back-end and a
 * control queue the VMM serves itself (the back-end never sees it), so
 * CTRL_VQ, CTRL_RX, CTRL_MAC_ADDR and MQ can be offered. A back-end
 * without CONFIG gets its config space served here: the MAC (mac=,
 * default 52:54:00:12:34:56+n), link up, N pairs.
 */
#include "vhost_user/device/internal.h"

#include <errno.h>
#include <event2/event.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "vmm/log.h"
#include "vmm/util.h"
#include "vmm/vm.h"

/* virtio-net config: mac[6], le16 status, le16 max_virtqueue_pairs, ... */
#define NET_CFG_MAC 0
#define NET_CFG_STATUS 6
#define NET_CFG_MAX_PAIRS 8
#define NET_CFG_OURS 10 /* the bytes net_config_read may override */
/* Queue pairs at most: 2N data queues and the control queue fit the transport. */
#define NET_MAX_PAIRS ((VIRTIO_PCI_MAX_QUEUES - 1) / 2)
/* What the VMM implements on the control queue; never sent to the back-end. */
#define NET_CTRL_FEATURES                                                                          \
	(BIT(VIRTIO_NET_F_CTRL_VQ) | BIT(VIRTIO_NET_F_CTRL_RX) | BIT(VIRTIO_NET_F_MQ) |            \
	 BIT(VIRTIO_NET_F_CTRL_MAC_ADDR))

struct net_args {
	uint8_t mac[6];
	bool mac_set;
	unsigned pairs; /* queues=N: rx/tx pairs offered (MQ when above 1); 0 = 1 */
};
_Static_assert(sizeof(struct net_args) <= VU_TYPE_ARGS_MAX, "net keys outgrow vu_spec");

/* One MAC filter list of TABLE_SET, as the driver sent it (kept up to this many). */
struct net_mac_table {
	uint32_t n;
	uint8_t mac[VU_NET_MAC_TABLE_MAX][6];
};

/* dev->type_state of a net device: the control queue and what its commands set. */
struct net_state {
	struct vu_device *dev;
	unsigned pairs; /* the driver's VQ_PAIRS_SET; 1 until then */
	bool serving;	/* the loop answers the control queue's kicks */
	int ctrl;	/* the control queue's index since its ring was set up, else -1 */
	struct virtq vq;
	struct virtq_chain chain;
	/* Only the loop thread adds or removes watches: a start or stop wakes it. */
	int wake_fd;
	struct event *wake_ev;
	struct event *kick_ev;
	int kick_ev_fd;
	/* Kept, not enforced: which frames reach the guest is the back-end's choice. */
	bool promisc, allmulti;
	bool mac_set;
	uint8_t mac[6];
	struct net_mac_table uni, multi;
	uint8_t cmd[VU_NET_CTRL_MAX_CMD]; /* the readable part of the command being served */
};

static int parse_mac(const char *text, uint8_t mac[6])
{
	unsigned b[6];
	char tail;

	if (sscanf(text, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5],
		   &tail) != 6)
		return -EINVAL;
	for (unsigned i = 0; i < 6; i++)
		mac[i] = (uint8_t)b[i];
	return mac[0] & 1 ? -EINVAL : 0; /* a multicast address cannot be a station's */
}

static int net_parse_key(void *args, const char *key, const char *value, char *err, size_t n)
{
	struct net_args *a = args;

	if (!strcmp(key, "queues")) {
		if (!vu_parse_uint(value, 1, NET_MAX_PAIRS, &a->pairs))
			return 0;
		snprintf(err, n, "bad value for key 'queues': '%s' (want 1..%u pairs)", value,
			 NET_MAX_PAIRS);
		return -EINVAL;
	}
	if (strcmp(key, "mac"))
		return -ENOENT;
	if (parse_mac(value, a->mac)) {
		snprintf(err, n, "bad value for key '%s': '%s'", key, value);
		return -EINVAL;
	}
	a->mac_set = true;
	return 0;
}

static struct net_state *state_of(const struct vu_device *dev)
{
	return dev->type_state;
}

unsigned vu_net_max_pairs(const struct vu_device *dev)
{
	return dev->nqueues >= 3 ? (dev->nqueues - 1) / 2 : 1;
}

/* MQ counts only with the control queue it is commanded through. */
static bool mq_on(const struct vu_device *dev)
{
	uint64_t both = BIT(VIRTIO_NET_F_CTRL_VQ) | BIT(VIRTIO_NET_F_MQ);

	return (dev->driver_features & both) == both;
}

int vu_net_ctrl_queue(const struct vu_device *dev)
{
	if (!(dev->driver_features & BIT(VIRTIO_NET_F_CTRL_VQ)))
		return -1;
	return mq_on(dev) ? (int)(2 * vu_net_max_pairs(dev)) : 2;
}

/* The control queue, and data queues past the layout's pairs (the driver has no use for them). */
static bool net_queue_local(const struct vu_device *dev, unsigned q)
{
	unsigned pairs = mq_on(dev) ? vu_net_max_pairs(dev) : 1;

	return (int)q == vu_net_ctrl_queue(dev) || q >= 2 * pairs;
}

/* Only the pairs the driver asked for (the spec's default is one); apply_pairs starts the rest. */
static bool net_ring_enabled(const struct vu_device *dev, unsigned q)
{
	const struct net_state *st = state_of(dev);

	return q < 2 * (st ? st->pairs : 1);
}

/* Without the back-end's CONFIG: the VMM serves mac, link status and N queue pairs. */
static void net_local_config(struct vu_device *dev, unsigned ordinal, unsigned pairs)
{
	static const uint8_t default_mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
	const struct net_args *a = (const void *)dev->spec.type_args;

	memcpy(dev->config + NET_CFG_MAC, a->mac_set ? a->mac : default_mac, 6);
	if (!a->mac_set)
		dev->config[NET_CFG_MAC + 5] = (uint8_t)(0x56 + ordinal);
	put_le16(dev->config + NET_CFG_STATUS, VIRTIO_NET_S_LINK_UP);
	put_le16(dev->config + NET_CFG_MAX_PAIRS, (uint16_t)pairs);
	dev->local_config = true;
	/* MTU would need a config field we do not know; the back-end never sees these bits. */
	dev->fe.device_features &= ~BIT(VIRTIO_NET_F_MTU);
	dev->local_features |= BIT(VIRTIO_NET_F_MAC) | BIT(VIRTIO_NET_F_STATUS);
}

/*
 * With the back-end's CONFIG, its max_virtqueue_pairs (meaningful when it
 * offers MQ itself) may lower *pairs; a value beyond what its queue count
 * allows is overridden by net_config_read, so the control queue stays
 * where the driver will look for it.
 */
static int backend_pairs(struct vu_device *dev, unsigned *pairs, char *err, size_t n)
{
	unsigned theirs;

	if (vhost_user_frontend_get_config(&dev->fe, 0, dev->config, dev->fe.type->config_size)) {
		snprintf(err, n, "GET_CONFIG failed");
		return -EIO;
	}
	if (!(dev->fe.backend_features & BIT(VIRTIO_NET_F_MQ)))
		return 0;
	theirs = get_le16(dev->config + NET_CFG_MAX_PAIRS);
	if (theirs >= 1 && theirs <= *pairs)
		*pairs = theirs;
	else
		log_warn(dev->fe.log_component, "%s: back-end's max_virtqueue_pairs %u: using %u",
			 dev->name, theirs, *pairs);
	return 0;
}

/*
 * Pairs offered: what queues=N asks for (default one), never more than the
 * back-end's queues allow. Not its count alone: DPDK reports 128 queues
 * whatever its port has, and a driver that sets up pairs nobody polls has
 * its frames on them go nowhere. With more than one pair the VMM serves
 * the control queue that steers them (CTRL_VQ, CTRL_RX, CTRL_MAC_ADDR,
 * MQ); one pair is a plain rx/tx device.
 */
static int net_setup(struct vu_device *dev, unsigned ordinal, char *err, size_t n)
{
	const struct net_args *a = (const void *)dev->spec.type_args;
	unsigned pairs = dev->fe.num_queues / 2, want = a->pairs ? a->pairs : 1;
	int r = 0;

	if (want > pairs) {
		snprintf(err, n, "queues=%u but the back-end has queues for %u pairs", want, pairs);
		return -EINVAL;
	}
	pairs = want;
	if (vhost_user_frontend_has_protocol(&dev->fe, VHOST_USER_PROTOCOL_F_CONFIG))
		r = backend_pairs(dev, &pairs, err, n);
	else
		net_local_config(dev, ordinal, pairs);
	if (pairs == 1) {
		dev->nqueues = 2; /* one rx/tx pair, no control queue: the back-end sees it all */
		return r;
	}
	dev->nqueues = 2 * pairs + 1;
	dev->nlocal_queues = 1;
	dev->local_features |= NET_CTRL_FEATURES;
	return r;
}

/* max_virtqueue_pairs is always the VMM's N, and a MAC set by the driver reads back. */
static void net_config_read(struct vu_device *dev, uint32_t offset, void *data, unsigned len)
{
	const struct net_state *st = state_of(dev);
	uint8_t ours[NET_CFG_OURS];

	memcpy(ours, dev->config, sizeof(ours));
	put_le16(ours + NET_CFG_MAX_PAIRS, (uint16_t)vu_net_max_pairs(dev));
	if (st && st->mac_set)
		memcpy(ours + NET_CFG_MAC, st->mac, 6);
	for (uint32_t i = offset; i < offset + len && i < NET_CFG_OURS; i++)
		((uint8_t *)data)[i - offset] = ours[i];
}

static void wake_loop(struct net_state *st)
{
	uint64_t one = 1;

	if (write(st->wake_fd, &one, sizeof(one)) < 0)
		log_debug(st->dev->fe.log_component, "wake write failed: %s", strerror(errno));
}

/* The driver's defaults after a reset: no filter set, one pair. */
static void forget_commands(struct net_state *st)
{
	st->pairs = 1;
	st->promisc = st->allmulti = st->mac_set = false;
	st->uni.n = st->multi.n = 0;
}

static int net_local_start(struct vu_device *dev, bool resume)
{
	struct net_state *st = state_of(dev);
	int ctrl = vu_net_ctrl_queue(dev);
	const struct virtio_queue_info *q;

	if (!st || (resume && st->ctrl < 0))
		return 0; /* no control queue was set up: nothing to go on with */
	if (!resume) {
		forget_commands(st);
		st->ctrl = -1;
		if (ctrl < 0 || !dev->queues[ctrl].enabled)
			return 0;
		q = &dev->queues[ctrl];
		if (virtq_init(&st->vq, &dev->vm->mem, q->size, q->desc, q->driver, q->device,
			       dev->driver_features & BIT(VIRTIO_RING_F_EVENT_IDX)))
			return -EINVAL;
		st->ctrl = ctrl;
	}
	st->serving = true;
	wake_loop(st); /* also serves what the driver queued before DRIVER_OK or during a pause */
	return 0;
}

static void net_local_stop(struct vu_device *dev, bool pause)
{
	struct net_state *st = state_of(dev);

	if (!st)
		return;
	st->serving = false;
	if (!pause)
		st->ctrl = -1;
	wake_loop(st);
}

/* Answers an RX class command: accepted and kept; the back-end decides what reaches the guest. */
static uint8_t ctrl_rx(struct net_state *st, uint8_t cmd, const uint8_t *data, size_t len)
{
	if (!(st->dev->driver_features & BIT(VIRTIO_NET_F_CTRL_RX)) || len != 1 || data[0] > 1)
		return VIRTIO_NET_ERR;
	if (cmd == VIRTIO_NET_CTRL_RX_PROMISC)
		st->promisc = data[0];
	else if (cmd == VIRTIO_NET_CTRL_RX_ALLMULTI)
		st->allmulti = data[0];
	else
		return VIRTIO_NET_ERR; /* ALLUNI and the rest need CTRL_RX_EXTRA, not offered */
	return VIRTIO_NET_OK;
}

/* One list of TABLE_SET at data[*at]: le32 entries, then 6 bytes each. */
static bool parse_table(struct net_mac_table *t, const uint8_t *data, size_t len, size_t *at)
{
	uint32_t n;

	if (len - *at < 4)
		return false;
	n = get_le32(data + *at);
	*at += 4;
	if (n > (len - *at) / 6)
		return false;
	t->n = n;
	memcpy(t->mac, data + *at, 6 * (n < VU_NET_MAC_TABLE_MAX ? n : VU_NET_MAC_TABLE_MAX));
	*at += 6 * (size_t)n;
	return true;
}

static uint8_t ctrl_mac(struct net_state *st, uint8_t cmd, const uint8_t *data, size_t len)
{
	uint64_t f = st->dev->driver_features;
	struct net_mac_table uni, multi;
	size_t at = 0;

	if (cmd == VIRTIO_NET_CTRL_MAC_ADDR_SET) {
		if (!(f & BIT(VIRTIO_NET_F_CTRL_MAC_ADDR)) || len != 6 || data[0] & 1)
			return VIRTIO_NET_ERR;
		memcpy(st->mac, data, 6);
		st->mac_set = true;
		return VIRTIO_NET_OK;
	}
	if (cmd != VIRTIO_NET_CTRL_MAC_TABLE_SET || !(f & BIT(VIRTIO_NET_F_CTRL_RX)))
		return VIRTIO_NET_ERR;
	/* Both lists must fill the command exactly; only then is either kept. */
	if (!parse_table(&uni, data, len, &at) || !parse_table(&multi, data, len, &at) || at != len)
		return VIRTIO_NET_ERR;
	st->uni = uni;
	st->multi = multi;
	return VIRTIO_NET_OK;
}

/*
 * Has the back-end process exactly the first pairs rx/tx pairs: rings of
 * pairs first used now are started (until then the back-end never had
 * them, so they begin at 0), the others enabled or disabled.
 */
static int apply_pairs(struct vu_device *dev, unsigned pairs)
{
	int err = 0, flushed;

	vhost_user_frontend_batch_begin(&dev->fe);
	for (unsigned q = 0; q < 2 * vu_net_max_pairs(dev) && !err; q++) {
		if (dev->fe.queues[q].started)
			err = vhost_user_frontend_enable_queue(&dev->fe, q, q < 2 * pairs);
		else if (q < 2 * pairs)
			err = vu_start_ring(dev, q, true);
	}
	flushed = vhost_user_frontend_batch_end(&dev->fe);
	/* The batch may also have read the activation's acks. */
	if (!flushed && !vhost_user_frontend_acks_outstanding(&dev->fe))
		vu_activation_acked(dev);
	return err ? err : flushed;
}

static uint8_t ctrl_mq(struct net_state *st, uint8_t cmd, const uint8_t *data, size_t len)
{
	struct vu_device *dev = st->dev;
	unsigned pairs;
	int err;

	if (!mq_on(dev) || cmd != VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET || len != 2)
		return VIRTIO_NET_ERR;
	pairs = get_le16(data);
	if (pairs < 1 || pairs > vu_net_max_pairs(dev))
		return VIRTIO_NET_ERR;
	for (unsigned q = 0; q < 2 * pairs; q++)
		if (!dev->queues[q].enabled)
			return VIRTIO_NET_ERR; /* the driver set up no ring for a pair it asks for
						*/
	if (dev->state != VU_DEV_ACTIVE)
		return VIRTIO_NET_ERR; /* a failed back-end: nothing to enable */
	err = apply_pairs(dev, pairs);
	if (err == -ENOTSUP)
		return VIRTIO_NET_ERR; /* rings without protocol features cannot be disabled */
	if (err) {
		vu_fail_device(dev, "SET_VRING_ENABLE for VQ_PAIRS_SET failed");
		return VIRTIO_NET_ERR;
	}
	st->pairs = pairs;
	return VIRTIO_NET_OK;
}

static uint8_t ctrl_command(struct net_state *st, const uint8_t *cmd, size_t len)
{
	const uint8_t *data = cmd + 2;

	switch (cmd[0]) {
	case VIRTIO_NET_CTRL_RX:
		return ctrl_rx(st, cmd[1], data, len - 2);
	case VIRTIO_NET_CTRL_MAC:
		return ctrl_mac(st, cmd[1], data, len - 2);
	case VIRTIO_NET_CTRL_MQ:
		return ctrl_mq(st, cmd[1], data, len - 2);
	default:
		return VIRTIO_NET_ERR;
	}
}

uint32_t vu_net_ctrl_answer(struct vu_device *dev, const struct virtq_chain *c)
{
	struct net_state *st = state_of(dev);
	uint8_t ack = VIRTIO_NET_ERR, cls = 0xff, cmd = 0xff;

	if (!st || c->writable_len < 1)
		return 0; /* nowhere to put the ack: the command is not carried out */
	if (c->readable_len >= 2 && c->readable_len <= sizeof(st->cmd) &&
	    !virtq_chain_read(c, st->cmd, c->readable_len)) {
		cls = st->cmd[0];
		cmd = st->cmd[1];
		ack = ctrl_command(st, st->cmd, c->readable_len);
	}
	if (ack != VIRTIO_NET_OK)
		log_warn_ratelimited(&dev->rl, dev->fe.log_component,
				     "%s: control command %u.%u (%llu bytes) refused", dev->name,
				     cls, cmd, (unsigned long long)c->readable_len);
	return virtq_chain_write(c, &ack, 1) ? 0 : 1;
}

/* Answers at most one ring's worth of commands; more waiting kicks the queue again. */
static void serve_ctrl(struct net_state *st)
{
	struct vu_device *dev = st->dev;
	unsigned n, pushed = 0;
	int got = 0;

	for (n = 0; n < st->vq.size && (got = virtq_pop(&st->vq, &st->chain)) > 0; n++)
		if (virtq_push(&st->vq, st->chain.head, vu_net_ctrl_answer(dev, &st->chain)) == 0)
			pushed++;
	if (got < 0) {
		st->serving = false;
		virtio_pci_set_needs_reset(&dev->transport, "malformed control queue");
	}
	if (pushed && virtq_should_notify(&st->vq))
		virtio_pci_notify_queue(&dev->transport, (unsigned)st->ctrl);
	if (st->serving && n == st->vq.size)
		wake_loop(st);
}

static void on_ctrl_kick(evutil_socket_t fd, short what, void *arg)
{
	struct net_state *st = arg;
	uint64_t count;

	(void)what;
	pthread_mutex_lock(&st->dev->vm->dev_lock);
	if (!st->serving) {
		/* Not ours now; the queue may be the back-end's next: leave its kicks alone. */
		event_del(st->kick_ev);
	} else {
		if (read((int)fd, &count, sizeof(count)) < 0 && errno != EAGAIN)
			log_debug(st->dev->fe.log_component, "kick read: %s", strerror(errno));
		serve_ctrl(st);
	}
	pthread_mutex_unlock(&st->dev->vm->dev_lock);
}

/* Watches the control queue's kick fd while serving, and nothing else. */
static void sync_kick_watch(struct net_state *st)
{
	int want = st->serving ? st->dev->queues[st->ctrl].kick_fd : -1;

	if (st->kick_ev && st->kick_ev_fd != want) {
		event_free(st->kick_ev);
		st->kick_ev = NULL;
	}
	if (want < 0)
		return;
	if (!st->kick_ev) {
		st->kick_ev =
		    event_new(st->dev->vm->evbase, want, EV_READ | EV_PERSIST, on_ctrl_kick, st);
		st->kick_ev_fd = want;
	}
	if (!st->kick_ev || event_add(st->kick_ev, NULL) < 0) {
		st->serving = false;
		virtio_pci_set_needs_reset(&st->dev->transport, "cannot watch the control queue");
	}
}

static void on_wake(evutil_socket_t fd, short what, void *arg)
{
	struct net_state *st = arg;
	uint64_t count;

	(void)what;
	if (read((int)fd, &count, sizeof(count)) < 0 && errno != EAGAIN)
		log_debug(st->dev->fe.log_component, "wake read: %s", strerror(errno));
	pthread_mutex_lock(&st->dev->vm->dev_lock);
	sync_kick_watch(st);
	if (st->serving)
		serve_ctrl(st);
	pthread_mutex_unlock(&st->dev->vm->dev_lock);
}

static void net_destroy(struct vu_device *dev)
{
	struct net_state *st = state_of(dev);

	if (!st)
		return;
	if (st->kick_ev)
		event_free(st->kick_ev);
	if (st->wake_ev)
		event_free(st->wake_ev);
	if (st->wake_fd >= 0)
		close(st->wake_fd);
	free(st);
	dev->type_state = NULL;
}

static int net_create(struct vu_device *dev)
{
	struct net_state *st = calloc(1, sizeof(*st));

	if (!st)
		return -ENOMEM;
	dev->type_state = st;
	st->dev = dev;
	st->ctrl = -1;
	st->pairs = 1;
	st->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (st->wake_fd < 0) {
		net_destroy(dev);
		return -errno;
	}
	st->wake_ev = event_new(dev->vm->evbase, st->wake_fd, EV_READ | EV_PERSIST, on_wake, st);
	if (!st->wake_ev || event_add(st->wake_ev, NULL) < 0) {
		net_destroy(dev);
		return -ENOMEM;
	}
	return 0;
}

uint32_t vu_takeover_net_tx(const struct virtq_chain *c)
{
	(void)c; /* the frame goes nowhere; completing it lets the guest reuse the buffers */
	return 0;
}

/* The control queue is the VMM's (takeover.c leaves it alone); tx frames are dropped. */
static vu_takeover_serve_fn pick_net(const struct vu_device *dev, unsigned q)
{
	(void)dev;
	/* rx (even) stays alone: nothing arrives, and its buffers wait for a reset. */
	return q % 2 ? vu_takeover_net_tx : NULL;
}

const struct vu_type_ops vu_net_ops = {
    .id = VIRTIO_ID_NET,
    .state_in_rings = true,
    .reconnects = true,
    .keys = "mac=XX:XX:XX:XX:XX:XX, queues=N",
    .parse_key = net_parse_key,
    .setup = net_setup,
    .create = net_create,
    .destroy = net_destroy,
    .config_read = net_config_read,
    .queue_local = net_queue_local,
    .ring_enabled = net_ring_enabled,
    .local_start = net_local_start,
    .local_stop = net_local_stop,
    .takeover_pick = pick_net,
    .takeover_effect = "tx frames are now dropped",
};
