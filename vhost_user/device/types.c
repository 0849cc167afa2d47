/* The device layer's type table: each type file's ops, found by virtio id. */
#include "vhost_user/device/internal.h"

extern const struct vu_type_ops vu_blk_ops, vu_fs_ops, vu_net_ops, vu_gpu_ops, vu_vsock_ops,
    vu_rng_ops;
extern const struct vu_type_ops vu_generic_ops;

/* Adding a device type with behaviour of its own: a file, and a line here. */
static const struct vu_type_ops *const type_ops[] = {
    &vu_blk_ops, &vu_fs_ops, &vu_net_ops, &vu_gpu_ops, &vu_vsock_ops, &vu_rng_ops,
};

const struct vu_type_ops *vu_type_ops_find(uint32_t id)
{
	for (unsigned i = 0; i < sizeof(type_ops) / sizeof(type_ops[0]); i++) {
		if (type_ops[i]->id == id)
			return type_ops[i];
	}
	return &vu_generic_ops;
}
