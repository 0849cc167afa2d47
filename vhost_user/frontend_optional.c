/*
 * Frontend requests of optional sub-protocols: the GPU display socket,
 * shared-memory config and the in-flight tracking region.
 */
#include "vhost_user/frontend.h"

#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vhost_user/frontend_internal.h"
#include "vhost_user/inflight.h"

#define SHMEM_PAGE_SIZE 4096ull

int vhost_user_frontend_gpu_set_socket(struct vhost_user_frontend *fe, int fd)
{
	if (fe->sock < 0)
		return -ENOTCONN;
	if (fe->broken)
		return -EIO;
	if (fd < 0)
		return -EBADF;
	/*
	 * No NEED_REPLY even with REPLY_ACK: libvhost-user's GPU back-end asks
	 * for the display protocol features on the new socket before it would
	 * ack, so waiting here would deadlock against the display channel.
	 * Sent at once (the caller closes fd on return), but after what a
	 * batch queued: the back-end must see the memory table first.
	 */
	return vu_send_unqueued(fe, VHOST_USER_GPU_SET_SOCKET, &fd, 1);
}

/*
 * Sizes must be page multiples (they become BARs and memory slots) and fit
 * the window the BARs are placed in; 0 marks an unused id.
 */
static int check_shmem_sizes(struct vhost_user_frontend *fe, const struct vhost_user_msg *reply,
			     uint64_t max_size)
{
	const struct vhost_user_shmem_config *cfg = &reply->payload.shmem_config;
	uint32_t need;
	unsigned i;

	if (cfg->nregions > VHOST_USER_SHMEM_REGIONS_MAX)
		return vu_fail_value(fe, VHOST_USER_GET_SHMEM_CONFIG, "nregions", 0,
				     VHOST_USER_SHMEM_REGIONS_MAX, cfg->nregions);
	need = (uint32_t)(offsetof(struct vhost_user_shmem_config, memory_sizes) +
			  cfg->nregions * sizeof(uint64_t));
	if (reply->hdr.size < need)
		return vu_fail_value(fe, VHOST_USER_GET_SHMEM_CONFIG, "size", need,
				     sizeof(struct vhost_user_shmem_config), reply->hdr.size);
	for (i = 0; i < cfg->nregions; i++) {
		if (cfg->memory_sizes[i] % SHMEM_PAGE_SIZE != 0)
			return vu_fail_value(fe, VHOST_USER_GET_SHMEM_CONFIG,
					     "region size (page multiple)", 0, 0,
					     cfg->memory_sizes[i]);
		if (cfg->memory_sizes[i] > max_size)
			return vu_fail_value(fe, VHOST_USER_GET_SHMEM_CONFIG,
					     "region size (the MMIO window)", 0, max_size,
					     cfg->memory_sizes[i]);
	}
	return 0;
}

int vhost_user_frontend_get_shmem_config(struct vhost_user_frontend *fe, uint64_t *sizes,
					 unsigned max, uint64_t max_size, unsigned *nregions)
{
	const struct vhost_user_reply_spec spec =
	    vhost_user_reply_spec_of(VHOST_USER_GET_SHMEM_CONFIG);
	struct vhost_user_msg reply;
	unsigned i;
	int err;

	*nregions = 0;
	if (!vhost_user_frontend_has_protocol(fe, VHOST_USER_PROTOCOL_F_SHMEM))
		return -ENOTSUP;
	err = vu_call(fe, VHOST_USER_GET_SHMEM_CONFIG, NULL, 0, &spec, &reply, NULL);
	if (!err)
		err = check_shmem_sizes(fe, &reply, max_size);
	if (err)
		return err;
	if (reply.payload.shmem_config.nregions > max)
		return -ENOSPC;
	for (i = 0; i < reply.payload.shmem_config.nregions; i++)
		sizes[i] = reply.payload.shmem_config.memory_sizes[i];
	*nregions = reply.payload.shmem_config.nregions;
	return 0;
}

int vhost_user_frontend_get_inflight(struct vhost_user_frontend *fe, uint16_t num_queues,
				     uint16_t queue_size, struct vhost_user_inflight *region,
				     int *fd)
{
	struct vhost_user_reply_spec spec = vhost_user_reply_spec_of(VHOST_USER_GET_INFLIGHT_FD);
	const struct vhost_user_inflight ask = {.num_queues = num_queues, .queue_size = queue_size};
	struct vhost_user_msg reply;
	const char *field;
	struct stat st;
	int got = -1, err;

	*fd = -1;
	if (!vhost_user_frontend_has_protocol(fe, VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD))
		return -ENOTSUP;
	spec.min_fds = spec.max_fds = 1;
	err = vu_call(fe, VHOST_USER_GET_INFLIGHT_FD, &ask, sizeof(ask), &spec, &reply, &got);
	if (err)
		return err;
	if (fstat(got, &st) < 0) {
		err = vu_fail_errno(fe, VHOST_USER_GET_INFLIGHT_FD, "fd", errno);
		close(got);
		return err;
	}
	err = vhost_user_inflight_check(&reply.payload.inflight, num_queues, queue_size,
					(uint64_t)st.st_size, &field);
	if (err) {
		err = vu_fail_value(fe, VHOST_USER_GET_INFLIGHT_FD, field,
				    vhost_user_inflight_min_size(num_queues, queue_size),
				    VHOST_USER_INFLIGHT_MAX_SIZE, reply.payload.inflight.mmap_size);
		close(got);
		return err;
	}
	*region = reply.payload.inflight;
	region->num_queues = num_queues;
	region->queue_size = queue_size;
	*fd = got;
	return 0;
}

int vhost_user_frontend_set_inflight(struct vhost_user_frontend *fe,
				     const struct vhost_user_inflight *region, int fd)
{
	if (!vhost_user_frontend_has_protocol(fe, VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD))
		return -ENOTSUP;
	return vu_request(fe, VHOST_USER_SET_INFLIGHT_FD, region, sizeof(*region), &fd, 1);
}
