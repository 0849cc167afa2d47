/* What the frontend knows about each virtio device type it can front for a back-end. */
#ifndef VHOST_USER_TYPES_H
#define VHOST_USER_TYPES_H

#include <stdint.h>

struct vhost_user_type {
	uint32_t id;	       /* virtio device id */
	const char *name;      /* "blk", "net", ...; "type=N" for unknown ids */
	unsigned min_queues;   /* queues the device cannot work without */
	uint32_t config_size;  /* exact size of its config space; 0: none */
	uint64_t feature_mask; /* device-specific features we pass to a driver */
	char name_buf[24];     /* holds "type=N" for a fallback entry */
};

/* Transport features the frontend can honour for any device (split rings only). */
uint64_t vhost_user_transport_features(void);

/*
 * The table entry for a virtio device id. Unknown ids get a fallback entry
 * written into *fallback (name "type=N", one queue, no config, transport
 * features only), which is then returned; fallback must outlive its use.
 */
const struct vhost_user_type *vhost_user_type_find(uint32_t id, struct vhost_user_type *fallback);

/* Looks a type up by name ("blk", "fs", or "type=N"); NULL when neither. */
const struct vhost_user_type *vhost_user_type_by_name(const char *name,
						      struct vhost_user_type *fallback);

#endif
