/*
 * The vhost-user vsock device type (e.g. vhost-device-vsock). Its config
 * space is one le64, the guest's context id. guest-cid=N says which CID the
 * guest gets: served by the VMM when the back-end has no CONFIG, and checked
 * against the back-end's own when it has, since a guest and a back-end that
 * disagree on the CID never see each other's packets.
 */
#include "vhost_user/device/internal.h"

#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <linux/virtio_ids.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* 0-2 are the hypervisor, loopback and host; 0xffffffff is VMADDR_CID_ANY. */
#define VSOCK_FIRST_GUEST_CID 3ull
#define VSOCK_LAST_GUEST_CID 0xfffffffeull

struct vsock_args {
	uint64_t guest_cid; /* 0: not given */
};
_Static_assert(sizeof(struct vsock_args) <= VU_TYPE_ARGS_MAX, "vsock keys outgrow vu_spec");

static int vsock_parse_key(void *args, const char *key, const char *value, char *err, size_t n)
{
	struct vsock_args *a = args;
	unsigned long long cid;
	char *end;

	if (strcmp(key, "guest-cid"))
		return -ENOENT;
	errno = 0;
	cid = strtoull(value, &end, 0);
	if (!*value || *end || errno || cid < VSOCK_FIRST_GUEST_CID || cid > VSOCK_LAST_GUEST_CID) {
		snprintf(err, n,
			 "bad value for key 'guest-cid': '%s' (want %llu..%llu; 0-2 are reserved)",
			 value, VSOCK_FIRST_GUEST_CID, VSOCK_LAST_GUEST_CID);
		return -EINVAL;
	}
	a->guest_cid = cid;
	return 0;
}

/* With CONFIG: the back-end's CID must be the one asked for. */
static int check_backend_cid(struct vu_device *dev, uint64_t want, char *err, size_t n)
{
	uint64_t le_cid;

	if (vhost_user_frontend_get_config(&dev->fe, 0, &le_cid, sizeof(le_cid))) {
		snprintf(err, n, "GET_CONFIG for the guest's CID failed");
		return -EIO;
	}
	if (want && le64toh(le_cid) != want) {
		snprintf(err, n, "guest-cid=%" PRIu64 " but the back-end serves CID %" PRIu64, want,
			 le64toh(le_cid));
		return -EINVAL;
	}
	return 0;
}

static int vsock_setup(struct vu_device *dev, unsigned ordinal, char *err, size_t n)
{
	const struct vsock_args *a = (const void *)dev->spec.type_args;
	uint64_t le_cid = htole64(a->guest_cid);

	(void)ordinal;
	if (vhost_user_frontend_has_protocol(&dev->fe, VHOST_USER_PROTOCOL_F_CONFIG))
		return check_backend_cid(dev, a->guest_cid, err, n);
	if (!a->guest_cid) {
		snprintf(err, n,
			 "the back-end has no CONFIG, so the guest's CID is ours to give: "
			 "add guest-cid=N");
		return -EINVAL;
	}
	memcpy(dev->config, &le_cid, sizeof(le_cid));
	dev->local_config = true;
	return 0;
}

const struct vu_type_ops vu_vsock_ops = {
    .id = VIRTIO_ID_VSOCK,
    .keys = "guest-cid=N",
    .parse_key = vsock_parse_key,
    .setup = vsock_setup,
};
