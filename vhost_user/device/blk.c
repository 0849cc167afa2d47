/* The vhost-user blk device type: everything is the back-end's but the answer of a dead one. */
#include "vhost_user/device/internal.h"

#include <linux/virtio_blk.h>
#include <linux/virtio_ids.h>

uint32_t vu_takeover_blk(const struct virtq_chain *c)
{
	return vu_chain_put_last_byte(c, VIRTIO_BLK_S_IOERR) ? 1 : 0;
}

static vu_takeover_serve_fn blk_takeover_pick(const struct vu_device *dev, unsigned q)
{
	(void)dev;
	(void)q;
	return vu_takeover_blk; /* every queue is a request queue */
}

const struct vu_type_ops vu_blk_ops = {
    .id = VIRTIO_ID_BLOCK,
    .state_in_rings = true,
    .reconnects = true,
    .takeover_pick = blk_takeover_pick,
    .takeover_effect = "new requests now fail with an I/O error",
};
