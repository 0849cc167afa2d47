/* The device-type table: queue minimums, config sizes, and feature masks per virtio id. */
#include "vhost_user/types.h"
#include "vmm/util.h"

#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_ring.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TYPE(id_, name_, queues_, config_, features_)                                              \
	{                                                                                          \
		.id = (id_), .name = (name_), .min_queues = (queues_), .config_size = (config_),   \
		.feature_mask = (features_)                                                        \
	}

/*
 * Feature masks name only what a driver may negotiate with the back-end
 * alone. Net's control-queue features stay out: the back-end never sees
 * that queue. The ones the VMM implements on it (CTRL_VQ, CTRL_RX,
 * CTRL_MAC_ADDR, MQ) are the device layer's local features
 * (vhost_user/device/net.c); the rest (GUEST_ANNOUNCE, CTRL_VLAN,
 * CTRL_GUEST_OFFLOADS, RSS, ...) would need the back-end's help.
 */
static const struct vhost_user_type device_types[] = {
    TYPE(VIRTIO_ID_NET, "net", 2, 24,
	 BIT(0) /* CSUM */ | BIT(1) /* GUEST_CSUM */ | BIT(3) /* MTU */ | BIT(5) /* MAC */ |
	     BIT(7) | BIT(8) | BIT(9) | BIT(10) /* GUEST_TSO4/6, ECN, UFO */ | BIT(11) | BIT(12) |
	     BIT(13) | BIT(14) /* HOST_TSO4/6, ECN, UFO */ | BIT(15) /* MRG_RXBUF */ |
	     BIT(16) /* STATUS */),
    TYPE(VIRTIO_ID_BLOCK, "blk", 1, 60,
	 BIT(1) /* SIZE_MAX */ | BIT(2) /* SEG_MAX */ | BIT(4) /* GEOMETRY */ | BIT(5) /* RO */ |
	     BIT(6) /* BLK_SIZE */ | BIT(9) /* FLUSH */ | BIT(10) /* TOPOLOGY */ |
	     BIT(11) /* CONFIG_WCE */ | BIT(12) /* MQ */ | BIT(13) /* DISCARD */ |
	     BIT(14) /* WRITE_ZEROES */),
    TYPE(VIRTIO_ID_CONSOLE, "console", 2, 12, BIT(0) | BIT(1) | BIT(2)),
    TYPE(VIRTIO_ID_RNG, "rng", 1, 0, 0),
    TYPE(VIRTIO_ID_SCSI, "scsi", 3, 36, BIT(0) | BIT(1) | BIT(2) | BIT(3)),
    TYPE(VIRTIO_ID_GPU, "gpu", 2, 16, BIT(0) | BIT(1) | BIT(2) | BIT(3) | BIT(4)),
    TYPE(VIRTIO_ID_INPUT, "input", 2, 136, 0),
    TYPE(VIRTIO_ID_VSOCK, "vsock", 3, 8, BIT(1) /* SEQPACKET */),
    TYPE(VIRTIO_ID_SOUND, "snd", 4, 12, 0),
    TYPE(VIRTIO_ID_FS, "fs", 2, 40, BIT(0) /* NOTIFICATION */),
    TYPE(VIRTIO_ID_VIDEO_ENCODER, "video-enc", 2, 0, 0),
    TYPE(VIRTIO_ID_VIDEO_DECODER, "video-dec", 2, 0, 0),
    TYPE(VIRTIO_ID_SCMI, "scmi", 1, 0, BIT(0) | BIT(1)),
    TYPE(VIRTIO_ID_I2C_ADAPTER, "i2c", 1, 0, BIT(0)),
    TYPE(VIRTIO_ID_CAN, "can", 3, 2, BIT(0) | BIT(1) | BIT(2) | BIT(3)),
    TYPE(VIRTIO_ID_GPIO, "gpio", 2, 8, BIT(0) /* IRQ */),
};

uint64_t vhost_user_transport_features(void)
{
	/* Not ACCESS_PLATFORM (no IOMMU), not RING_PACKED or IN_ORDER (split rings only). */
	return BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_RING_F_INDIRECT_DESC) |
	       BIT(VIRTIO_RING_F_EVENT_IDX);
}

const struct vhost_user_type *vhost_user_type_find(uint32_t id, struct vhost_user_type *fallback)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(device_types); i++) {
		if (device_types[i].id == id)
			return &device_types[i];
	}
	fallback->id = id;
	snprintf(fallback->name_buf, sizeof(fallback->name_buf), "type=%u", id);
	fallback->name = fallback->name_buf;
	fallback->min_queues = 1;
	fallback->config_size = 0;
	fallback->feature_mask = 0;
	return fallback;
}

const struct vhost_user_type *vhost_user_type_by_name(const char *name,
						      struct vhost_user_type *fallback)
{
	size_t i;
	char *end;
	unsigned long id;

	for (i = 0; i < ARRAY_SIZE(device_types); i++) {
		if (strcmp(device_types[i].name, name) == 0)
			return &device_types[i];
	}
	if (strncmp(name, "type=", 5) != 0 || name[5] == '\0')
		return NULL;
	id = strtoul(name + 5, &end, 0);
	if (*end != '\0' || id == 0 || id > UINT32_MAX)
		return NULL;
	return vhost_user_type_find((uint32_t)id, fallback);
}
