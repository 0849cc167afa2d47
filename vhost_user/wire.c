/* vhost-user messages on a unix socket: send with fds, exact-size receive, reply checks. */
#include "vhost_user/wire.h"
#include "vhost_user/wire_gpu.h"
#include "vmm/clock.h"

#include <errno.h>
#include <inttypes.h>
#include <linux/virtio_gpu.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Payload sizes for the tables below. */
#define NONE                                                                                       \
	{                                                                                          \
		0, 0                                                                               \
	}
#define FIXED(n)                                                                                   \
	{                                                                                          \
		(n), (n)                                                                           \
	}
#define RANGE(lo, hi)                                                                              \
	{                                                                                          \
		(lo), (hi)                                                                         \
	}
#define U64 FIXED(sizeof(uint64_t))
/* A layout this module does not check: anything that fits a message. */
#define ANY RANGE(0, VHOST_USER_PAYLOAD_MAX)
#define CONFIG RANGE(VHOST_USER_CONFIG_HDR_SIZE, VHOST_USER_CONFIG_HDR_SIZE + VHOST_USER_CONFIG_MAX)
/* The inflight fields end at byte 20; senders may include the struct's tail padding. */
#define INFLIGHT                                                                                   \
	RANGE(offsetof(struct vhost_user_inflight, queue_size) + sizeof(uint16_t),                 \
	      sizeof(struct vhost_user_inflight))
#define UUID FIXED(16)

/* Requests without a reply of their own, and with one. */
#define REQ(x, size) [VHOST_USER_##x] = {#x, size, false, NONE}
#define CALL(x, size, reply) [VHOST_USER_##x] = {#x, size, true, reply}
static const struct vhost_user_msg_info requests[VHOST_USER_REQUEST_MAX] = {
    CALL(GET_FEATURES, NONE, U64),
    REQ(SET_FEATURES, U64),
    REQ(SET_OWNER, NONE),
    REQ(RESET_OWNER, NONE),
    REQ(SET_MEM_TABLE,
	RANGE(VHOST_USER_MEMORY_SIZE(0), VHOST_USER_MEMORY_SIZE(VHOST_USER_MEM_REGIONS_MAX))),
    REQ(SET_LOG_BASE, FIXED(sizeof(struct vhost_user_log))),
    REQ(SET_LOG_FD, NONE),
    REQ(SET_VRING_NUM, FIXED(sizeof(struct vhost_user_vring_state))),
    REQ(SET_VRING_ADDR, FIXED(sizeof(struct vhost_user_vring_addr))),
    REQ(SET_VRING_BASE, FIXED(sizeof(struct vhost_user_vring_state))),
    CALL(GET_VRING_BASE, FIXED(sizeof(struct vhost_user_vring_state)),
	 FIXED(sizeof(struct vhost_user_vring_state))),
    REQ(SET_VRING_KICK, U64),
    REQ(SET_VRING_CALL, U64),
    REQ(SET_VRING_ERR, U64),
    CALL(GET_PROTOCOL_FEATURES, NONE, U64),
    REQ(SET_PROTOCOL_FEATURES, U64),
    CALL(GET_QUEUE_NUM, NONE, U64),
    REQ(SET_VRING_ENABLE, FIXED(sizeof(struct vhost_user_vring_state))),
    REQ(SEND_RARP, U64),
    REQ(NET_SET_MTU, U64),
    REQ(SET_BACKEND_REQ_FD, NONE),
    REQ(IOTLB_MSG, ANY),
    REQ(SET_VRING_ENDIAN, FIXED(sizeof(struct vhost_user_vring_state))),
    CALL(GET_CONFIG, CONFIG, CONFIG),
    REQ(SET_CONFIG, CONFIG),
    /* A session id (u64) leads; the rest is not decoded here. */
    CALL(CREATE_CRYPTO_SESSION, RANGE(8, VHOST_USER_PAYLOAD_MAX), RANGE(8, VHOST_USER_PAYLOAD_MAX)),
    REQ(CLOSE_CRYPTO_SESSION, U64),
    CALL(POSTCOPY_ADVISE, NONE, U64),
    REQ(POSTCOPY_LISTEN, NONE),
    CALL(POSTCOPY_END, NONE, U64),
    CALL(GET_INFLIGHT_FD, INFLIGHT, INFLIGHT),
    REQ(SET_INFLIGHT_FD, INFLIGHT),
    REQ(GPU_SET_SOCKET, NONE),
    REQ(RESET_DEVICE, NONE),
    REQ(VRING_KICK, FIXED(sizeof(struct vhost_user_vring_state))),
    CALL(GET_MAX_MEM_SLOTS, NONE, U64),
    REQ(ADD_MEM_REG, FIXED(sizeof(struct vhost_user_single_region))),
    REQ(REM_MEM_REG, FIXED(sizeof(struct vhost_user_single_region))),
    REQ(SET_STATUS, U64),
    CALL(GET_STATUS, NONE, U64),
    CALL(GET_SHARED_OBJECT, UUID, U64),
    CALL(SET_DEVICE_STATE_FD, FIXED(sizeof(struct vhost_user_device_state)), U64),
    CALL(CHECK_DEVICE_STATE, NONE, U64),
    CALL(GET_SHMEM_CONFIG, NONE,
	 RANGE(offsetof(struct vhost_user_shmem_config, memory_sizes),
	       sizeof(struct vhost_user_shmem_config))),
};

static const struct vhost_user_msg_info backend_requests[VHOST_USER_BACKEND_REQUEST_MAX] = {
    REQ(BACKEND_IOTLB_MSG, ANY),
    REQ(BACKEND_CONFIG_CHANGE_MSG, NONE),
    REQ(BACKEND_VRING_HOST_NOTIFIER_MSG, FIXED(sizeof(struct vhost_user_vring_area))),
    REQ(BACKEND_VRING_CALL, FIXED(sizeof(struct vhost_user_vring_state))),
    REQ(BACKEND_VRING_ERR, FIXED(sizeof(struct vhost_user_vring_state))),
    REQ(BACKEND_SHARED_OBJECT_ADD, UUID),
    REQ(BACKEND_SHARED_OBJECT_REMOVE, UUID),
    CALL(BACKEND_SHARED_OBJECT_LOOKUP, UUID, U64),
    REQ(BACKEND_SHMEM_MAP, FIXED(sizeof(struct vhost_user_shmem_map))),
    REQ(BACKEND_SHMEM_UNMAP, FIXED(sizeof(struct vhost_user_shmem_map))),
};
#undef REQ
#undef CALL

/* The display protocol's own codes (vhost_user/wire_gpu.h). */
#define REQ(x, size) [GPU_DISPLAY_##x] = {#x, size, false, NONE}
#define CALL(x, size, reply) [GPU_DISPLAY_##x] = {#x, size, true, reply}
static const struct vhost_user_msg_info gpu_messages[GPU_DISPLAY_REQUEST_MAX] = {
    CALL(GET_PROTOCOL_FEATURES, NONE, U64),
    REQ(SET_PROTOCOL_FEATURES, U64),
    CALL(GET_DISPLAY_INFO, NONE, FIXED(sizeof(struct virtio_gpu_resp_display_info))),
    REQ(CURSOR_POS, FIXED(sizeof(struct gpu_display_cursor_pos))),
    REQ(CURSOR_POS_HIDE, FIXED(sizeof(struct gpu_display_cursor_pos))),
    REQ(CURSOR_UPDATE, FIXED(sizeof(struct gpu_display_cursor_update))),
    REQ(SCANOUT, FIXED(sizeof(struct gpu_display_scanout_msg))),
    /* The update's header, then its pixels. */
    REQ(UPDATE, RANGE(sizeof(struct gpu_display_update), UINT32_MAX)),
    REQ(DMABUF_SCANOUT, FIXED(sizeof(struct gpu_display_dmabuf_scanout))),
    /* Empty reply: the back-end waits for it before reusing the buffer. */
    CALL(DMABUF_UPDATE, FIXED(sizeof(struct gpu_display_update)), NONE),
    /* A scanout id asks; the reply is virtio-gpu's own EDID response. */
    CALL(GET_EDID, FIXED(sizeof(uint32_t)), FIXED(sizeof(struct virtio_gpu_resp_edid))),
    /* DMABUF_SCANOUT followed by the buffer's u64 format modifier. */
    REQ(DMABUF_SCANOUT2, FIXED(sizeof(struct gpu_display_dmabuf_scanout) + sizeof(uint64_t))),
};
#undef REQ
#undef CALL
#undef NONE
#undef FIXED
#undef RANGE
#undef U64
#undef ANY
#undef CONFIG
#undef INFLIGHT
#undef UUID

#define PNAME(x) [VHOST_USER_PROTOCOL_F_##x] = #x
static const char *const protocol_feature_names[VHOST_USER_PROTOCOL_F_COUNT] = {
    PNAME(MQ),
    PNAME(LOG_SHMFD),
    PNAME(RARP),
    PNAME(REPLY_ACK),
    PNAME(NET_MTU),
    PNAME(BACKEND_REQ),
    PNAME(CROSS_ENDIAN),
    PNAME(CRYPTO_SESSION),
    PNAME(PAGEFAULT),
    PNAME(CONFIG),
    PNAME(BACKEND_SEND_FD),
    PNAME(HOST_NOTIFIER),
    PNAME(INFLIGHT_SHMFD),
    PNAME(RESET_DEVICE),
    PNAME(INBAND_NOTIFICATIONS),
    PNAME(CONFIGURE_MEM_SLOTS),
    PNAME(STATUS),
    PNAME(XEN_MMAP),
    PNAME(SHARED_OBJECT),
    PNAME(DEVICE_STATE),
    PNAME(SHMEM),
};
#undef PNAME

static const struct vhost_user_msg_info *table_entry(const struct vhost_user_msg_info *table,
						     size_t n, uint32_t index)
{
	return index < n && table[index].name ? &table[index] : NULL;
}

const struct vhost_user_msg_info *vhost_user_request_info(uint32_t request)
{
	return table_entry(requests, VHOST_USER_REQUEST_MAX, request);
}

const struct vhost_user_msg_info *vhost_user_backend_request_info(uint32_t request)
{
	return table_entry(backend_requests, VHOST_USER_BACKEND_REQUEST_MAX, request);
}

const struct vhost_user_msg_info *vhost_user_gpu_msg_info(uint32_t request)
{
	return table_entry(gpu_messages, GPU_DISPLAY_REQUEST_MAX, request);
}

const char *vhost_user_request_name(uint32_t request)
{
	const struct vhost_user_msg_info *info = vhost_user_request_info(request);

	return info ? info->name : "UNKNOWN";
}

const char *vhost_user_backend_request_name(uint32_t request)
{
	const struct vhost_user_msg_info *info = vhost_user_backend_request_info(request);

	return info ? info->name : "UNKNOWN";
}

struct vhost_user_reply_spec vhost_user_reply_spec_of(uint32_t request)
{
	const struct vhost_user_msg_info *info = vhost_user_request_info(request);
	struct vhost_user_reply_spec spec = {
	    .request = request, .min_size = VHOST_USER_ACK_SIZE, .max_size = VHOST_USER_ACK_SIZE};

	if (info && info->has_reply) {
		spec.min_size = info->reply.min;
		spec.max_size = info->reply.max;
	}
	return spec;
}

const char *vhost_user_protocol_feature_name(unsigned bit)
{
	return bit < VHOST_USER_PROTOCOL_F_COUNT && protocol_feature_names[bit]
		   ? protocol_feature_names[bit]
		   : "UNKNOWN";
}

static void set_error(struct vhost_user_error *e, int err, const char *field)
{
	e->err = err;
	e->field = field;
	e->has_values = false;
	e->hex = false;
}

static void set_mismatch(struct vhost_user_error *e, const char *field, uint64_t expected,
			 uint64_t expected_max, uint64_t got, bool hex)
{
	set_error(e, -EPROTO, field);
	e->expected = expected;
	e->expected_max = expected_max;
	e->got = got;
	e->hex = hex;
	e->has_values = true;
}

/* Appends v to out[0..size) at used, in hex when the field is a bit mask or an address. */
static size_t format_value(char *out, size_t size, size_t used, uint64_t v, bool hex)
{
	int n = hex ? snprintf(out + used, size - used, "0x%" PRIx64, v)
		    : snprintf(out + used, size - used, "%" PRIu64, v);

	return n < 0 ? used : used + (size_t)n < size ? used + (size_t)n : size - 1;
}

const char *vhost_user_format_error(char *buf, size_t len, const char *device,
				    const struct vhost_user_error *e)
{
	const char *msg = e->backend_channel ? vhost_user_backend_request_name(e->request)
					     : vhost_user_request_name(e->request);
	char expected[64], got[32];
	size_t used;
	int n;

	if (e->request == 0)
		msg = e->backend_channel ? "back-end channel" : "message";
	n = snprintf(buf, len, "%s: %s: %s: ", device, msg, e->field ? e->field : "error");
	if (n < 0 || (size_t)n >= len)
		return buf;
	if (!e->has_values) {
		snprintf(buf + n, len - (size_t)n, "%s", strerror(-e->err));
		return buf;
	}
	used = format_value(expected, sizeof(expected), 0, e->expected, e->hex);
	if (e->expected_max > e->expected) {
		used += (size_t)snprintf(expected + used, sizeof(expected) - used, "..");
		format_value(expected, sizeof(expected), used, e->expected_max, e->hex);
	}
	format_value(got, sizeof(got), 0, e->got, e->hex);
	snprintf(buf + n, len - (size_t)n, "expected %s, got %s", expected, got);
	return buf;
}

void vhost_user_close_fds(int *fds, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++) {
		if (fds[i] >= 0)
			close(fds[i]);
		fds[i] = -1;
	}
}

/* One SCM_RIGHTS control message in mh, built in control. */
void vhost_user_attach_fds(struct msghdr *mh, void *control, const int *fds, unsigned nfds)
{
	struct cmsghdr *cm;

	if (!nfds)
		return;
	memset(control, 0, CMSG_SPACE(sizeof(int) * nfds));
	mh->msg_control = control;
	mh->msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
	cm = CMSG_FIRSTHDR(mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
	memcpy(CMSG_DATA(cm), fds, sizeof(int) * nfds);
}

/*
 * Waits until sock has events, the deadline of w passes (-ETIMEDOUT) or its
 * cancel fd turns readable (-ECANCELED). A signal only interrupts the wait
 * to look at both again: the deadline bounds the retries, and whoever must
 * end the wait early (the VM stopping) makes the cancel fd readable.
 */
static int wait_for(int sock, short events, const struct vhost_user_wait *w)
{
	struct pollfd pfd[2] = {{.fd = sock, .events = events},
				{.fd = w->cancel_fd, .events = POLLIN}};
	nfds_t n = w->cancel_fd >= 0 ? 2 : 1;

	for (;;) {
		int timeout = -1;
		int r;

		if (w->deadline_ms >= 0) {
			int64_t left = w->deadline_ms - monotonic_ms();
			timeout = left > 0 ? (int)left : 0;
		}
		r = poll(pfd, n, timeout);
		if (r > 0 && n == 2 && pfd[1].revents)
			return -ECANCELED;
		if (r > 0)
			return 0; /* ready, or hung up: the next call will tell */
		if (r == 0)
			return -ETIMEDOUT;
		if (errno != EINTR)
			return -errno;
	}
}

struct vhost_user_wait vhost_user_wait_ms(int timeout_ms, int cancel_fd)
{
	return (struct vhost_user_wait){.deadline_ms =
					    timeout_ms < 0 ? -1 : monotonic_ms() + timeout_ms,
					.cancel_fd = cancel_fd};
}

/* Drops n sent bytes from the front of mh's iovecs. */
static void consume_iov(struct msghdr *mh, size_t n)
{
	while (n > 0 && mh->msg_iovlen > 0) {
		size_t take = n < mh->msg_iov->iov_len ? n : mh->msg_iov->iov_len;

		mh->msg_iov->iov_base = (char *)mh->msg_iov->iov_base + take;
		mh->msg_iov->iov_len -= take;
		n -= take;
		if (mh->msg_iov->iov_len == 0) {
			mh->msg_iov++;
			mh->msg_iovlen--;
		}
	}
}

int vhost_user_sendmsg_fds_wait(int sock, struct iovec *iov, unsigned niov, const int *fds,
				unsigned nfds, const struct vhost_user_wait *w)
{
	char control[CMSG_SPACE(sizeof(int) * VHOST_USER_MAX_FDS)];
	struct msghdr mh = {.msg_iov = iov, .msg_iovlen = niov};
	/* With a wait, never block in sendmsg itself: poll bounds the wait. */
	int flags = MSG_NOSIGNAL | (w ? MSG_DONTWAIT : 0);
	size_t total = 0;

	if (nfds > VHOST_USER_MAX_FDS)
		return -EINVAL;
	for (unsigned i = 0; i < niov; i++)
		total += iov[i].iov_len;
	vhost_user_attach_fds(&mh, control, fds, nfds);
	while (total > 0) {
		ssize_t n = sendmsg(sock, &mh, flags);
		int err;

		if (n < 0 && errno == EINTR && !w)
			continue;
		if (n < 0 && ((errno != EAGAIN && errno != EINTR) || !w))
			return -errno;
		if (n < 0) {
			err = wait_for(sock, POLLOUT, w);
			if (err)
				return err;
			continue;
		}
		total -= (size_t)n;
		mh.msg_control = NULL;
		mh.msg_controllen = 0;
		consume_iov(&mh, (size_t)n);
	}
	return 0;
}

int vhost_user_sendmsg_fds(int sock, struct iovec *iov, unsigned niov, const int *fds,
			   unsigned nfds, int timeout_ms)
{
	struct vhost_user_wait w = vhost_user_wait_ms(timeout_ms, -1);

	return vhost_user_sendmsg_fds_wait(sock, iov, niov, fds, nfds, timeout_ms > 0 ? &w : NULL);
}

int vhost_user_send_wait(int sock, const struct vhost_user_header *hdr, const void *payload,
			 const int *fds, unsigned nfds, const struct vhost_user_wait *w)
{
	struct iovec iov[2] = {
	    {.iov_base = (void *)hdr, .iov_len = sizeof(*hdr)},
	    {.iov_base = (void *)payload, .iov_len = payload ? hdr->size : 0},
	};

	if (hdr->size && !payload)
		return -EINVAL;
	return vhost_user_sendmsg_fds_wait(sock, iov, 2, fds, nfds, w);
}

int vhost_user_send(int sock, const struct vhost_user_header *hdr, const void *payload,
		    const int *fds, unsigned nfds)
{
	return vhost_user_send_wait(sock, hdr, payload, fds, nfds, NULL);
}

int vhost_user_send_queue_flush(struct vhost_user_send_queue *q, int sock,
				const struct vhost_user_wait *w, uint32_t *failed_request)
{
	struct iovec iov = {.iov_base = q->bytes, .iov_len = q->len};
	int err = q->len ? vhost_user_sendmsg_fds_wait(sock, &iov, 1, q->fds, q->nfds, w) : 0;

	if (err)
		*failed_request = q->first_request;
	q->len = 0;
	q->nfds = 0;
	return err;
}

int vhost_user_send_queue_add(struct vhost_user_send_queue *q, int sock,
			      const struct vhost_user_header *hdr, const void *payload,
			      const int *fds, unsigned nfds, const struct vhost_user_wait *w,
			      uint32_t *failed_request)
{
	size_t size = sizeof(*hdr) + hdr->size;
	int err = 0;

	if (nfds > VHOST_USER_MAX_FDS || (hdr->size && !payload) || size > sizeof(q->bytes))
		return -EINVAL;
	if (q->len && (nfds || q->len + size > sizeof(q->bytes)))
		err = vhost_user_send_queue_flush(q, sock, w, failed_request);
	if (err)
		return err;
	if (!q->len) {
		q->first_request = hdr->request;
		if (nfds)
			memcpy(q->fds, fds, nfds * sizeof(*fds));
		q->nfds = nfds;
	}
	memcpy(q->bytes + q->len, hdr, sizeof(*hdr));
	if (hdr->size)
		memcpy(q->bytes + q->len + sizeof(*hdr), payload, hdr->size);
	q->len += size;
	return 0;
}

/* Moves SCM_RIGHTS fds into in; extras are closed and counted. */
static void collect_fds(struct msghdr *mh, struct vhost_user_fd_inbox *in)
{
	struct cmsghdr *cm;

	for (cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
		size_t count, i;

		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		count = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < count; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
			if (in->n < in->max && in->n < VHOST_USER_MAX_FDS) {
				in->fds[in->n++] = fd;
			} else {
				close(fd);
				in->dropped++;
			}
		}
	}
	if (mh->msg_flags & MSG_CTRUNC)
		in->truncated = true;
}

ssize_t vhost_user_recvmsg_fds(int sock, struct iovec *iov, unsigned niov,
			       struct vhost_user_fd_inbox *in)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * VHOST_USER_MAX_FDS)];
	} control;
	struct msghdr mh = {.msg_iov = iov,
			    .msg_iovlen = niov,
			    .msg_control = control.buf,
			    .msg_controllen = sizeof(control.buf)};
	ssize_t n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return -EAGAIN;
	if (n > 0) {
		collect_fds(&mh, in);
		return n;
	}
	if (n == 0)
		collect_fds(&mh, in); /* fds may ride on the hang-up itself */
	n = n == 0 ? -ECONNRESET : -errno;
	vhost_user_close_fds(in->fds, in->n);
	in->n = 0;
	return n;
}

struct recv_state {
	int sock;
	struct vhost_user_wait wait;
	struct vhost_user_fd_inbox in;
};

/* Reads exactly len bytes into buf, collecting any fds on the way. */
static int read_exact(struct recv_state *st, void *buf, size_t len, struct vhost_user_error *e)
{
	size_t done = 0;

	while (done < len) {
		struct iovec iov = {.iov_base = (char *)buf + done, .iov_len = len - done};
		ssize_t n;
		int err = wait_for(st->sock, POLLIN, &st->wait);

		if (err) {
			set_error(e, err,
				  err == -ETIMEDOUT   ? "timeout"
				  : err == -ECANCELED ? "wait abandoned"
						      : "poll");
			return err;
		}
		n = vhost_user_recvmsg_fds(st->sock, &iov, 1, &st->in);
		if (n == -EAGAIN)
			continue;
		if (n < 0) {
			set_error(e, (int)n, n == -ECONNRESET ? "hang-up" : "recvmsg");
			return (int)n;
		}
		done += (size_t)n;
	}
	return 0;
}

int vhost_user_recv(int sock, struct vhost_user_msg *msg, int *fds, unsigned max_fds,
		    unsigned *nfds, int timeout_ms, struct vhost_user_error *e)
{
	struct vhost_user_wait w = vhost_user_wait_ms(timeout_ms, -1);

	return vhost_user_recv_wait(sock, msg, fds, max_fds, nfds, &w, e);
}

int vhost_user_recv_wait(int sock, struct vhost_user_msg *msg, int *fds, unsigned max_fds,
			 unsigned *nfds, const struct vhost_user_wait *w,
			 struct vhost_user_error *e)
{
	struct recv_state st = {
	    .sock = sock,
	    .wait = *w,
	    .in = {.max = max_fds < VHOST_USER_MAX_FDS ? max_fds : VHOST_USER_MAX_FDS}};
	int err;

	*nfds = 0;
	e->request = 0;
	err = read_exact(&st, &msg->hdr, sizeof(msg->hdr), e);
	if (err)
		goto fail;
	e->request = msg->hdr.request;
	if (msg->hdr.size > VHOST_USER_PAYLOAD_MAX) {
		/* The stream cannot be resynchronised after this. */
		set_mismatch(e, "size", 0, VHOST_USER_PAYLOAD_MAX, msg->hdr.size, false);
		err = -EMSGSIZE;
		e->err = err;
		goto fail;
	}
	err = read_exact(&st, &msg->payload, msg->hdr.size, e);
	if (err)
		goto fail;
	if (st.in.dropped) {
		set_mismatch(e, "fds", 0, st.in.max, st.in.n + st.in.dropped, false);
		err = -EPROTO;
		goto fail;
	}
	if (st.in.truncated) {
		/* The kernel dropped what did not fit: how many were sent is unknown. */
		set_error(e, -EPROTO, "fds: more than allowed (control data truncated)");
		err = -EPROTO;
		goto fail;
	}
	if (st.in.n)
		memcpy(fds, st.in.fds, st.in.n * sizeof(int));
	*nfds = st.in.n;
	return 0;
fail:
	vhost_user_close_fds(st.in.fds, st.in.n);
	return err;
}

int vhost_user_check_reply(const struct vhost_user_msg *msg, unsigned nfds,
			   const struct vhost_user_reply_spec *spec, struct vhost_user_error *e)
{
	const uint32_t want_flags = VHOST_USER_VERSION | VHOST_USER_FLAG_REPLY;

	e->request = spec->request;
	if (msg->hdr.request != spec->request) {
		set_mismatch(e, "request", spec->request, 0, msg->hdr.request, false);
		return -EPROTO;
	}
	if (msg->hdr.flags != want_flags) {
		set_mismatch(e, "flags", want_flags, 0, msg->hdr.flags, true);
		return -EPROTO;
	}
	if (msg->hdr.size < spec->min_size || msg->hdr.size > spec->max_size) {
		set_mismatch(e, "size", spec->min_size, spec->max_size, msg->hdr.size, false);
		return -EPROTO;
	}
	if (nfds < spec->min_fds || nfds > spec->max_fds) {
		set_mismatch(e, "fds", spec->min_fds, spec->max_fds, nfds, false);
		return -EPROTO;
	}
	return 0;
}

int vhost_user_recv_reply(int sock, const struct vhost_user_reply_spec *spec,
			  struct vhost_user_msg *reply, int *fds, int timeout_ms,
			  struct vhost_user_error *e)
{
	int scratch[VHOST_USER_MAX_FDS];
	unsigned nfds = 0;
	int err;

	/* Take up to the maximum so an unexpected fd is seen, counted and closed. */
	err = vhost_user_recv(sock, reply, scratch, VHOST_USER_MAX_FDS, &nfds, timeout_ms, e);
	if (err) {
		e->request = spec->request;
		return err;
	}
	err = vhost_user_check_reply(reply, nfds, spec, e);
	if (err) {
		vhost_user_close_fds(scratch, nfds);
		return err;
	}
	if (nfds)
		memcpy(fds, scratch, nfds * sizeof(int));
	return 0;
}
