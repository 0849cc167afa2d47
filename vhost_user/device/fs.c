/*
 * The vhost-user fs device type. virtiofsd has no CONFIG, so the VMM serves
 * config space: the mount tag (tag=NAME, default "fs") and the number of
 * request queues (queues=N, default 1). Queue 0 is hiprio, queue 1 the
 * notification queue when NOTIFICATION is negotiated, then the requests.
 */
#include "vhost_user/device/internal.h"

#include <endian.h>
#include <errno.h>
#include <linux/fuse.h>
#include <linux/virtio_ids.h>
#include <stdio.h>
#include <string.h>

#include "vmm/util.h"
#define FS_TAG_LEN 36
#define FS_CFG_NUM_QUEUES 36 /* config: tag[36], le32 num_request_queues */
#define FS_F_NOTIFICATION 0
#define FS_NOTIFICATION_QUEUE 1

struct fs_args {
	char tag[FS_TAG_LEN + 1];
	unsigned queues; /* request queues; 0 = default */
};
_Static_assert(sizeof(struct fs_args) <= VU_TYPE_ARGS_MAX, "fs keys outgrow vu_spec");

static int fs_parse_key(void *args, const char *key, const char *value, char *err, size_t n)
{
	struct fs_args *a = args;

	if (!strcmp(key, "tag")) {
		if (*value && strlen(value) <= FS_TAG_LEN) {
			strcpy(a->tag, value);
			return 0;
		}
	} else if (!strcmp(key, "queues")) {
		if (!vu_parse_uint(value, 1, VIRTIO_PCI_MAX_QUEUES - 1, &a->queues))
			return 0;
	} else {
		return -ENOENT;
	}
	snprintf(err, n, "bad value for key '%s': '%s'", key, value);
	return -EINVAL;
}

static void fs_finish_args(void *args)
{
	struct fs_args *a = args;

	if (!a->tag[0])
		strcpy(a->tag, "fs");
}

static int fs_setup(struct vu_device *dev, unsigned ordinal, char *err, size_t n)
{
	const struct fs_args *a = (const void *)dev->spec.type_args;
	unsigned requests = a->queues ? a->queues : 1;
	uint32_t le_requests = htole32(requests);

	(void)ordinal;
	(void)err;
	(void)n;
	dev->nqueues = 1 + requests;
	memcpy(dev->config, a->tag, strlen(a->tag)); /* zero-padded, no NUL needed */
	memcpy(dev->config + FS_CFG_NUM_QUEUES, &le_requests, sizeof(le_requests));
	dev->local_config = true;
	return 0;
}

uint32_t vu_takeover_fs(const struct virtq_chain *c)
{
	struct fuse_in_header in;
	struct fuse_out_header out;

	if (virtq_chain_read(c, &in, sizeof(in)))
		return 0; /* too short for a FUSE request: nothing to answer it with */
	out.len = htole32(sizeof(out));
	out.error = (int32_t)htole32((uint32_t)-EIO);
	out.unique = in.unique; /* both little-endian: copied as is */
	/* FORGET and BATCH_FORGET have no reply buffers; a short one takes no header. */
	return virtq_chain_write(c, &out, sizeof(out)) ? 0 : sizeof(out);
}

static vu_takeover_serve_fn fs_takeover_pick(const struct vu_device *dev, unsigned q)
{
	/* Notification buffers are the device's to fill: nothing to answer. */
	if (q == FS_NOTIFICATION_QUEUE && (dev->driver_features & BIT(FS_F_NOTIFICATION)))
		return NULL;
	return vu_takeover_fs;
}

const struct vu_type_ops vu_fs_ops = {
    .id = VIRTIO_ID_FS,
    .keys = "tag=NAME, queues=N",
    .parse_key = fs_parse_key,
    .finish_args = fs_finish_args,
    .setup = fs_setup,
    .takeover_pick = fs_takeover_pick,
    .takeover_effect = "new FUSE requests now fail with EIO",
    .no_reconnect = "the FUSE session died with the back-end: open files and inodes are gone",
};
