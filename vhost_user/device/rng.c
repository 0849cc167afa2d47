/* vhost-user rng: relayed like any type; its only state is its ring. */
#include <linux/virtio_ids.h>

#include "vhost_user/device/internal.h"

const struct vu_type_ops vu_rng_ops = {
    .id = VIRTIO_ID_RNG,
    .state_in_rings = true,
};
