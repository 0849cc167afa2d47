/* Frontend vring bring-up and tear-down, and config space access. */
#include "vhost_user/frontend_internal.h"
#include "vmm/util.h"

#include <errno.h>
#include <linux/virtio_ring.h>
#include <string.h>

/* Host pointer for a ring part, or NULL when it is not wholly in guest RAM. */
static void *ring_part(const struct vhost_user_frontend *fe, uint64_t gpa, uint64_t len)
{
	return fe->mem ? guest_memory_ptr(fe->mem, gpa, len) : NULL;
}

static int check_ring(struct vhost_user_frontend *fe, unsigned index,
		      const struct vhost_user_vring *ring, struct vhost_user_vring_addr *addr)
{
	/* The event-index words sit after the rings; count them in either case. */
	uint64_t n = ring->size;
	void *desc = ring_part(fe, ring->desc_gpa, 16 * n);
	void *avail = ring_part(fe, ring->avail_gpa, 6 + 2 * n);
	void *used = ring_part(fe, ring->used_gpa, 6 + 8 * n);

	if (index >= fe->num_queues)
		return vu_fail_value(fe, VHOST_USER_SET_VRING_NUM, "index", 0, fe->num_queues - 1,
				     index);
	if (n == 0 || n > VHOST_USER_MAX_QUEUE_SIZE || (n & (n - 1)))
		return vu_fail_value(fe, VHOST_USER_SET_VRING_NUM, "queue size (power of 2)", 1,
				     VHOST_USER_MAX_QUEUE_SIZE, n);
	if (!desc || !avail || !used) {
		return vu_fail_errno(fe, VHOST_USER_SET_VRING_ADDR,
				     !desc    ? "desc"
				     : !avail ? "avail"
					      : "used",
				     -EFAULT);
	}
	memset(addr, 0, sizeof(*addr));
	addr->index = index;
	addr->desc_user_addr = (uint64_t)(uintptr_t)desc;
	addr->avail_user_addr = (uint64_t)(uintptr_t)avail;
	addr->used_user_addr = (uint64_t)(uintptr_t)used;
	return 0;
}

static int set_vring_state(struct vhost_user_frontend *fe, uint32_t request, unsigned index,
			   uint32_t num)
{
	struct vhost_user_vring_state state = {.index = index, .num = num};

	return vu_request(fe, request, &state, sizeof(state), NULL, 0);
}

static int set_vring_fd(struct vhost_user_frontend *fe, uint32_t request, unsigned index, int fd)
{
	uint64_t value = index & VHOST_USER_VRING_INDEX_MASK;

	if (fd < 0)
		value |= VHOST_USER_VRING_NOFD_MASK;
	return vu_request(fe, request, &value, sizeof(value), fd >= 0 ? &fd : NULL, fd >= 0);
}

int vhost_user_frontend_set_call(struct vhost_user_frontend *fe, unsigned index, int fd)
{
	if (index >= fe->num_queues || index >= VHOST_USER_MAX_QUEUES)
		return -EINVAL;
	return set_vring_fd(fe, VHOST_USER_SET_VRING_CALL, index, fd);
}

static bool protocol_acked(const struct vhost_user_frontend *fe)
{
	return fe->backend_features & BIT(VHOST_USER_F_PROTOCOL_FEATURES);
}

int vhost_user_frontend_start_queue(struct vhost_user_frontend *fe, unsigned index,
				    const struct vhost_user_vring *ring)
{
	struct vhost_user_vring_addr addr;
	int err;

	if (index < VHOST_USER_MAX_QUEUES && fe->queues[index].started)
		return -EBUSY;
	err = check_ring(fe, index, ring, &addr);
	if (!err)
		err = set_vring_state(fe, VHOST_USER_SET_VRING_NUM, index, ring->size);
	if (!err)
		err = vu_request(fe, VHOST_USER_SET_VRING_ADDR, &addr, sizeof(addr), NULL, 0);
	if (!err)
		err = set_vring_state(fe, VHOST_USER_SET_VRING_BASE, index, ring->base);
	if (!err)
		err = set_vring_fd(fe, VHOST_USER_SET_VRING_CALL, index, ring->call_fd);
	if (!err)
		err = set_vring_fd(fe, VHOST_USER_SET_VRING_KICK, index, ring->kick_fd);
	/* Without protocol features the ring starts enabled; with them, it waits for this. */
	if (!err && protocol_acked(fe) && !ring->start_disabled)
		err = set_vring_state(fe, VHOST_USER_SET_VRING_ENABLE, index, 1);
	if (err)
		return err;
	fe->queues[index].ring = *ring;
	fe->queues[index].started = true;
	fe->queues[index].enabled = !protocol_acked(fe) || !ring->start_disabled;
	log_debug(fe->log_component, "queue %u started: size %u base %u", index, ring->size,
		  ring->base);
	return 0;
}

int vhost_user_frontend_enable_queue(struct vhost_user_frontend *fe, unsigned index, bool enable)
{
	struct vhost_user_queue_state *q;
	int err;

	if (index >= VHOST_USER_MAX_QUEUES || !fe->queues[index].started)
		return -EINVAL;
	q = &fe->queues[index];
	if (q->enabled == enable)
		return 0;
	if (!protocol_acked(fe))
		return -ENOTSUP; /* only a disable gets here: the ring runs from its start */
	err = set_vring_state(fe, VHOST_USER_SET_VRING_ENABLE, index, enable);
	if (!err)
		q->enabled = enable;
	return err;
}

/* The driver's avail index, read from guest memory. */
static uint16_t read_avail_idx(const struct vhost_user_frontend *fe,
			       const struct vhost_user_vring *ring)
{
	const volatile uint16_t *avail = ring_part(fe, ring->avail_gpa, 4);

	return avail ? avail[1] : 0;
}

int vhost_user_frontend_stop_queue(struct vhost_user_frontend *fe, unsigned index,
				   uint16_t *base_out)
{
	const struct vhost_user_reply_spec spec =
	    vhost_user_reply_spec_of(VHOST_USER_GET_VRING_BASE);
	struct vhost_user_vring_state state = {.index = index};
	struct vhost_user_queue_state *q;
	struct vhost_user_msg reply;
	uint16_t avail_idx;
	int err;

	if (index >= VHOST_USER_MAX_QUEUES || !fe->queues[index].started)
		return -EINVAL;
	q = &fe->queues[index];
	q->started = false;
	q->enabled = false;
	if (protocol_acked(fe)) {
		err = set_vring_state(fe, VHOST_USER_SET_VRING_ENABLE, index, 0);
		if (err)
			return err;
	}
	err = vu_call(fe, VHOST_USER_GET_VRING_BASE, &state, sizeof(state), &spec, &reply, NULL);
	if (err)
		return err;
	if (reply.payload.state.index != index)
		return vu_fail_value(fe, VHOST_USER_GET_VRING_BASE, "index", index, 0,
				     reply.payload.state.index);
	/* Split ring: a 16-bit index no further ahead than the driver's avail index. */
	avail_idx = read_avail_idx(fe, &q->ring);
	if (reply.payload.state.num > 0xffff ||
	    (uint16_t)(avail_idx - reply.payload.state.num) > q->ring.size)
		return vu_fail_value(fe, VHOST_USER_GET_VRING_BASE,
				     "base (at most queue size behind avail idx)", avail_idx, 0,
				     reply.payload.state.num);
	*base_out = (uint16_t)reply.payload.state.num;
	log_debug(fe->log_component, "queue %u stopped at base %u", index, *base_out);
	return 0;
}

static int check_config_access(struct vhost_user_frontend *fe, uint32_t request, uint32_t offset,
			       uint32_t len)
{
	uint32_t size = fe->type->config_size;

	if (!vhost_user_frontend_has_protocol(fe, VHOST_USER_PROTOCOL_F_CONFIG))
		return -ENOTSUP;
	if (offset > size || len > size - offset || len == 0)
		return vu_fail_value(fe, request, "config range", 0, size, (uint64_t)offset + len);
	return 0;
}

int vhost_user_frontend_get_config(struct vhost_user_frontend *fe, uint32_t offset, void *buf,
				   uint32_t len)
{
	const uint32_t size = fe->type->config_size;
	const struct vhost_user_reply_spec spec = {.request = VHOST_USER_GET_CONFIG,
						   .min_size = VHOST_USER_CONFIG_HDR_SIZE + size,
						   .max_size = VHOST_USER_CONFIG_HDR_SIZE + size};
	struct vhost_user_config request = {.offset = 0, .size = size};
	struct vhost_user_msg reply;
	int err = check_config_access(fe, VHOST_USER_GET_CONFIG, offset, len);

	if (!err)
		err = vu_call(fe, VHOST_USER_GET_CONFIG, &request,
			      VHOST_USER_CONFIG_HDR_SIZE + size, &spec, &reply, NULL);
	if (err)
		return err;
	if (reply.payload.config.size != size)
		return vu_fail_value(fe, VHOST_USER_GET_CONFIG, "config.size", size, 0,
				     reply.payload.config.size);
	memcpy(buf, reply.payload.config.region + offset, len);
	return 0;
}

int vhost_user_frontend_set_config(struct vhost_user_frontend *fe, uint32_t offset, const void *buf,
				   uint32_t len)
{
	struct vhost_user_config request = {.offset = offset, .size = len};
	int err = check_config_access(fe, VHOST_USER_SET_CONFIG, offset, len);

	if (err)
		return err;
	memcpy(request.region, buf, len);
	return vu_request(fe, VHOST_USER_SET_CONFIG, &request, VHOST_USER_CONFIG_HDR_SIZE + len,
			  NULL, 0);
}
