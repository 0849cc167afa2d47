/*
 * The vhost-user net device type: one rx/tx pair (no control queue, no MQ:
 * those would be the VMM's to serve). A back-end without CONFIG gets its
 * config space served here: the MAC (mac=, default 52:54:00:12:34:56+n),
 * link up, one pair.
 */
#include "vhost_user/device/internal.h"

#include <errno.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_net.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#define BIT(n) (1ull << (n))
/* virtio-net config: mac[6], le16 status, le16 max_virtqueue_pairs, ... */
#define NET_CFG_MAC 0
#define NET_CFG_STATUS 6
#define NET_CFG_MAX_PAIRS 8

struct net_args {
	uint8_t mac[6];
	bool mac_set;
};
_Static_assert(sizeof(struct net_args) <= VU_TYPE_ARGS_MAX, "net keys outgrow vu_spec");

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

	if (strcmp(key, "mac"))
		return -ENOENT;
	if (parse_mac(value, a->mac)) {
		snprintf(err, n, "bad value for key '%s': '%s'", key, value);
		return -EINVAL;
	}
	a->mac_set = true;
	return 0;
}

static void put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

/* Without the back-end's CONFIG: the VMM serves mac, link status and one queue pair. */
static void net_local_config(struct vu_device *dev, unsigned ordinal)
{
	static const uint8_t default_mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
	const struct net_args *a = (const void *)dev->spec.type_args;

	memcpy(dev->config + NET_CFG_MAC, a->mac_set ? a->mac : default_mac, 6);
	if (!a->mac_set)
		dev->config[NET_CFG_MAC + 5] = (uint8_t)(0x56 + ordinal);
	put_le16(dev->config + NET_CFG_STATUS, VIRTIO_NET_S_LINK_UP);
	put_le16(dev->config + NET_CFG_MAX_PAIRS, 1);
	dev->local_config = true;
	/* MTU would need a config field we do not know; the back-end never sees these bits. */
	dev->fe.device_features &= ~BIT(VIRTIO_NET_F_MTU);
	dev->local_features = BIT(VIRTIO_NET_F_MAC) | BIT(VIRTIO_NET_F_STATUS);
}

static int net_setup(struct vu_device *dev, unsigned ordinal, char *err, size_t n)
{
	(void)err;
	(void)n;
	dev->nqueues = 2; /* no control queue and no MQ: one rx/tx pair */
	if (!vhost_user_frontend_has_protocol(&dev->fe, VHOST_USER_PROTOCOL_F_CONFIG))
		net_local_config(dev, ordinal);
	return 0;
}

uint32_t vu_takeover_net_tx(const struct virtq_chain *c)
{
	(void)c; /* the frame goes nowhere; completing it lets the guest reuse the buffers */
	return 0;
}

uint32_t vu_takeover_net_ctrl(const struct virtq_chain *c)
{
	return vu_chain_put_last_byte(c, VIRTIO_NET_ERR) ? 1 : 0;
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

const struct vu_type_ops vu_net_ops = {
    .id = VIRTIO_ID_NET,
    .state_in_rings = true,
    .keys = "mac=XX:XX:XX:XX:XX:XX",
    .parse_key = net_parse_key,
    .setup = net_setup,
    .takeover_pick = pick_net,
    .takeover_effect = "tx frames are now dropped, control commands fail",
};
