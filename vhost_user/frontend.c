/* The vhost-user frontend: connection, handshake, memory table, vring start and stop. */
#include "vhost_user/frontend.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vhost_user/frontend_internal.h"
#include "vmm/unix_socket.h"
#include "vmm/util.h"

/*
 * Protocol features the frontend itself uses, and so acks when offered:
 * MQ (GET_QUEUE_NUM), REPLY_ACK (every request is acked), BACKEND_REQ and
 * BACKEND_SEND_FD (the back-end's channel, fds for SHMEM_MAP), CONFIG
 * (GET/SET_CONFIG), RESET_DEVICE (sent at a guest device reset), STATUS
 * (SET/GET_STATUS) and SHMEM (GET_SHMEM_CONFIG). Acking a feature tells
 * the back-end the frontend will follow its rules, so nothing else is
 * acked unless the caller adds it (protocol_extra).
 */
static const uint64_t wanted_protocol_features =
    BIT(VHOST_USER_PROTOCOL_F_MQ) | BIT(VHOST_USER_PROTOCOL_F_REPLY_ACK) |
    BIT(VHOST_USER_PROTOCOL_F_BACKEND_REQ) | BIT(VHOST_USER_PROTOCOL_F_CONFIG) |
    BIT(VHOST_USER_PROTOCOL_F_BACKEND_SEND_FD) | BIT(VHOST_USER_PROTOCOL_F_RESET_DEVICE) |
    BIT(VHOST_USER_PROTOCOL_F_STATUS) | BIT(VHOST_USER_PROTOCOL_F_SHMEM);

uint64_t vhost_user_frontend_wanted_protocol(const struct vhost_user_frontend *fe)
{
	return wanted_protocol_features | fe->protocol_extra;
}

int vhost_user_frontend_init(struct vhost_user_frontend *fe, const char *name, uint32_t type_id)
{
	unsigned i;

	memset(fe, 0, sizeof(*fe));
	if (strlen(name) >= sizeof(fe->name))
		return -EINVAL;
	strcpy(fe->name, name);
	snprintf(fe->log_component, sizeof(fe->log_component), "vhost-user %s", name);
	fe->type = vhost_user_type_find(type_id, &fe->type_fallback);
	fe->sock = -1;
	fe->backend_fd = -1;
	fe->cancel_fd = -1;
	fe->timeout_ms = VHOST_USER_DEFAULT_TIMEOUT_MS;
	for (i = 0; i < VHOST_USER_MAX_QUEUES; i++) {
		fe->queues[i].ring.kick_fd = -1;
		fe->queues[i].ring.call_fd = -1;
	}
	return 0;
}

void vhost_user_frontend_set_backend_ops(struct vhost_user_frontend *fe,
					 const struct vhost_user_backend_ops *ops, void *opaque)
{
	fe->ops = ops;
	fe->ops_opaque = opaque;
}

int vhost_user_frontend_backend_fd(const struct vhost_user_frontend *fe)
{
	return fe->backend_fd;
}

int vhost_user_frontend_try_connect(struct vhost_user_frontend *fe, const char *path)
{
	int sock;

	if (fe->sock >= 0)
		return -EISCONN;
	sock = unix_socket_connect(path, SOCK_NONBLOCK, 0);
	if (sock < 0)
		return sock;
	fe->sock = sock;
	fe->broken = false;
	fe->hung_up = false;
	return 0;
}

int vhost_user_frontend_connect(struct vhost_user_frontend *fe, const char *path, unsigned retry_ms)
{
	int sock;

	if (fe->sock >= 0)
		return -EISCONN;
	/*
	 * Non-blocking, for connect too: a listener whose backlog is full
	 * answers EAGAIN (retried until retry_ms), and every later send waits
	 * for room only as long as the device's timeout.
	 */
	sock = unix_socket_connect(path, SOCK_NONBLOCK, retry_ms);
	if (sock < 0) {
		log_error(fe->log_component, "%s: connect to %s: %s%s", fe->name, path,
			  strerror(-sock),
			  sock == -EAGAIN ? " (the back-end's listen backlog is full)" : "");
		return sock;
	}
	fe->sock = sock;
	fe->broken = false;
	fe->hung_up = false;
	log_debug(fe->log_component, "connected to %s", path);
	return 0;
}

void vhost_user_frontend_close(struct vhost_user_frontend *fe)
{
	unsigned i;

	if (fe->sock >= 0)
		close(fe->sock);
	if (fe->backend_fd >= 0)
		close(fe->backend_fd);
	fe->sock = -1;
	fe->backend_fd = -1;
	fe->batching = false;
	fe->npending = 0;
	for (i = 0; i < VHOST_USER_MAX_QUEUES; i++)
		fe->queues[i].started = fe->queues[i].enabled = false;
}

/* Logs err for step and marks the device broken when the connection is unusable. */
int vu_fail(struct vhost_user_frontend *fe, const struct vhost_user_error *e)
{
	char text[256];

	vhost_user_format_error(text, sizeof(text), fe->name, e);
	/* Abandoned because the VM is stopping: no fault of the back-end's. */
	if (e->err == -ECANCELED)
		log_debug(fe->log_component, "%s", text);
	else
		log_error(fe->log_component, "%s", text);
	if (e->err != -ENOTSUP && e->err != -EINVAL)
		fe->broken = true;
	if (e->err == -ECONNRESET || e->err == -EPIPE)
		fe->hung_up = true;
	return e->err;
}

int vu_fail_errno(struct vhost_user_frontend *fe, uint32_t request, const char *field, int err)
{
	struct vhost_user_error e = {.err = err, .request = request, .field = field};

	return vu_fail(fe, &e);
}

int vu_fail_value(struct vhost_user_frontend *fe, uint32_t request, const char *field,
		  uint64_t expected_min, uint64_t expected_max, uint64_t got)
{
	struct vhost_user_error e = {.err = -EPROTO,
				     .request = request,
				     .field = field,
				     .expected = expected_min,
				     .expected_max = expected_max,
				     .got = got,
				     .has_values = true};

	return vu_fail(fe, &e);
}

static uint64_t supported_features(const struct vhost_user_frontend *fe)
{
	return fe->type->feature_mask | vhost_user_transport_features();
}

static int negotiate_features(struct vhost_user_frontend *fe)
{
	int err = vu_get_u64(fe, VHOST_USER_GET_FEATURES, &fe->backend_features);

	if (err)
		return err;
	if (fe->backend_features & BIT(VIRTIO_F_RING_PACKED))
		log_warn(fe->log_component,
			 "back-end offers RING_PACKED; masked (split rings only)");
	if (!(fe->backend_features & BIT(VIRTIO_F_VERSION_1)))
		return vu_fail_value(fe, VHOST_USER_GET_FEATURES, "VERSION_1 bit", 1, 0, 0);
	fe->device_features = fe->backend_features & supported_features(fe);
	log_info(fe->log_component, "features offered 0x%" PRIx64 ", passed to driver 0x%" PRIx64,
		 fe->backend_features, fe->device_features);
	return 0;
}

static int negotiate_protocol(struct vhost_user_frontend *fe)
{
	int err;

	fe->protocol_offered = 0;
	fe->protocol_features = 0;
	if (!(fe->backend_features & BIT(VHOST_USER_F_PROTOCOL_FEATURES)))
		return 0;
	err = vu_get_u64(fe, VHOST_USER_GET_PROTOCOL_FEATURES, &fe->protocol_offered);
	if (err)
		return err;
	/* REPLY_ACK applies only after this message, so ask no ack for it. */
	err = vu_set_u64(fe, VHOST_USER_SET_PROTOCOL_FEATURES,
			 fe->protocol_offered & vhost_user_frontend_wanted_protocol(fe));
	if (err)
		return err;
	fe->protocol_features = fe->protocol_offered & vhost_user_frontend_wanted_protocol(fe);
	log_info(fe->log_component, "protocol features offered 0x%" PRIx64 ", acked 0x%" PRIx64,
		 fe->protocol_offered, fe->protocol_features);
	return 0;
}

static int query_queue_num(struct vhost_user_frontend *fe)
{
	uint64_t num;
	int err;

	fe->backend_queue_num = fe->type->min_queues;
	if (vhost_user_frontend_has_protocol(fe, VHOST_USER_PROTOCOL_F_MQ)) {
		err = vu_get_u64(fe, VHOST_USER_GET_QUEUE_NUM, &num);
		if (err)
			return err;
		if (num == 0 || num > VHOST_USER_SANE_QUEUE_NUM)
			return vu_fail_value(fe, VHOST_USER_GET_QUEUE_NUM, "queue count", 1,
					     VHOST_USER_SANE_QUEUE_NUM, num);
		fe->backend_queue_num = (unsigned)num;
	}
	if (fe->backend_queue_num < fe->type->min_queues)
		return vu_fail_value(fe, VHOST_USER_GET_QUEUE_NUM, "queue count",
				     fe->type->min_queues, VHOST_USER_SANE_QUEUE_NUM,
				     fe->backend_queue_num);
	fe->num_queues = fe->backend_queue_num < VHOST_USER_MAX_QUEUES ? fe->backend_queue_num
								       : VHOST_USER_MAX_QUEUES;
	return 0;
}

static int setup_backend_channel(struct vhost_user_frontend *fe)
{
	int pair[2];
	int err;

	if (!vhost_user_frontend_has_protocol(fe, VHOST_USER_PROTOCOL_F_BACKEND_REQ))
		return 0;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0)
		return vu_fail_errno(fe, VHOST_USER_SET_BACKEND_REQ_FD, "socketpair", -errno);
	/*
	 * Non-blocking: a back-end that never reads our replies must not wedge
	 * us in send (the channel is closed instead). Served from now on, even
	 * while we wait for this message's ack: the back-end may use the
	 * channel before acking.
	 */
	if (fcntl(pair[0], F_SETFL, O_NONBLOCK) < 0) {
		err = -errno;
		close(pair[0]);
		close(pair[1]);
		return vu_fail_errno(fe, VHOST_USER_SET_BACKEND_REQ_FD, "fcntl", err);
	}
	fe->backend_fd = pair[0];
	err = vu_request(fe, VHOST_USER_SET_BACKEND_REQ_FD, NULL, 0, &pair[1], 1);
	close(pair[1]);
	if (err && fe->backend_fd >= 0) {
		close(fe->backend_fd);
		fe->backend_fd = -1;
	}
	return err;
}

int vhost_user_frontend_handshake(struct vhost_user_frontend *fe)
{
	int err;

	if (fe->sock < 0)
		return -ENOTCONN;
	err = vu_request(fe, VHOST_USER_SET_OWNER, NULL, 0, NULL, 0);
	if (!err)
		err = negotiate_features(fe);
	if (!err)
		err = negotiate_protocol(fe);
	if (!err)
		err = query_queue_num(fe);
	if (!err)
		err = setup_backend_channel(fe);
	if (err)
		return err;
	log_info(fe->log_component, "%s device: %u queues (back-end reports %u)", fe->type->name,
		 fe->num_queues, fe->backend_queue_num);
	return 0;
}

int vhost_user_frontend_set_features(struct vhost_user_frontend *fe, uint64_t driver_features)
{
	uint64_t wire = driver_features;
	int err;

	if (driver_features & ~fe->device_features) {
		log_error(fe->log_component,
			  "%s: SET_FEATURES: driver acked 0x%" PRIx64
			  " not offered (offered 0x%" PRIx64 ")",
			  fe->name, driver_features & ~fe->device_features, fe->device_features);
		return -EINVAL;
	}
	if (fe->backend_features & BIT(VHOST_USER_F_PROTOCOL_FEATURES))
		wire |= BIT(VHOST_USER_F_PROTOCOL_FEATURES);
	err = vu_set_u64(fe, VHOST_USER_SET_FEATURES, wire);
	if (!err)
		fe->acked_features = driver_features;
	return err;
}

int vhost_user_frontend_set_mem_table(struct vhost_user_frontend *fe,
				      const struct guest_memory *mem)
{
	struct vhost_user_memory table;
	int fds[VHOST_USER_MEM_REGIONS_MAX];
	unsigned i;
	int err;

	if (mem->nregions == 0 || mem->nregions > VHOST_USER_MEM_REGIONS_MAX)
		return vu_fail_errno(fe, VHOST_USER_SET_MEM_TABLE, "nregions", -EINVAL);
	memset(&table, 0, sizeof(table));
	table.nregions = mem->nregions;
	for (i = 0; i < mem->nregions; i++) {
		const struct mem_region *r = &mem->regions[i];

		table.regions[i].guest_phys_addr = r->gpa;
		table.regions[i].memory_size = r->size;
		table.regions[i].userspace_addr = (uint64_t)(uintptr_t)r->host;
		table.regions[i].mmap_offset = 0;
		fds[i] = r->fd;
	}
	err = vu_request(fe, VHOST_USER_SET_MEM_TABLE, &table,
			 (uint32_t)VHOST_USER_MEMORY_SIZE(mem->nregions), fds, mem->nregions);
	if (!err)
		fe->mem = mem;
	return err;
}

int vhost_user_frontend_set_status(struct vhost_user_frontend *fe, uint8_t status)
{
	if (!vhost_user_frontend_has_protocol(fe, VHOST_USER_PROTOCOL_F_STATUS))
		return -ENOTSUP;
	return vu_set_u64(fe, VHOST_USER_SET_STATUS, status);
}

int vhost_user_frontend_get_status(struct vhost_user_frontend *fe, uint8_t *status)
{
	uint64_t value;
	int err;

	if (!vhost_user_frontend_has_protocol(fe, VHOST_USER_PROTOCOL_F_STATUS))
		return -ENOTSUP;
	err = vu_get_u64(fe, VHOST_USER_GET_STATUS, &value);
	if (err)
		return err;
	if (value > 0xff)
		return vu_fail_value(fe, VHOST_USER_GET_STATUS, "status", 0, 0xff, value);
	*status = (uint8_t)value;
	return 0;
}

int vhost_user_frontend_reset(struct vhost_user_frontend *fe)
{
	unsigned i;
	int first_err = 0;

	for (i = 0; i < fe->num_queues; i++) {
		uint16_t base;
		int err;

		if (!fe->queues[i].started)
			continue;
		err = vhost_user_frontend_stop_queue(fe, i, &base);
		if (err && !first_err)
			first_err = err;
	}
	if (!first_err && vhost_user_frontend_has_protocol(fe, VHOST_USER_PROTOCOL_F_RESET_DEVICE))
		first_err = vu_request(fe, VHOST_USER_RESET_DEVICE, NULL, 0, NULL, 0);
	return first_err;
}
