/* Unit tests for the vhost-user frontend against a scripted fake back-end thread. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/unit/check_main.h"
#include "vhost_user/frontend.h"
#include "vmm/util.h"

#define F_BLK_SIZE BIT(6)

/* What the fake back-end does; zero-initialised means "behave". */
struct fake_backend {
	int sock;
	uint64_t features;
	uint64_t protocol;
	uint64_t queue_num;
	uint32_t hang_up_at;	/* close the socket on receiving this request */
	uint32_t silent_at;	/* never answer this request */
	uint32_t bad_flags_at;	/* answer this request with flags 0x1 */
	uint32_t nack_at;	/* ack this request with failure */
	uint32_t vring_base;	/* GET_VRING_BASE answer */
	char state[64];		/* DEVICE_STATE: what save sends, what load received */
	unsigned check_result;	/* CHECK_DEVICE_STATE answer */
	int channel;		/* back-end request channel received, or -1 */
	uint64_t inflight_size; /* GET_INFLIGHT_FD: the mmap_size answered (memfd of 4 KiB more) */
	struct vhost_user_inflight inflight_set; /* SET_INFLIGHT_FD: its payload */
	uint64_t inflight_set_fd_size;		 /* and the size of the fd that came with it */
	uint32_t seen[64];			 /* requests in arrival order */
	unsigned nseen;
};

static void reply_u64(struct fake_backend *fb, uint32_t request, uint32_t flags, uint64_t v)
{
	struct vhost_user_header hdr = {request, flags, 8};

	vhost_user_send(fb->sock, &hdr, &v, NULL, 0);
}

static void answer(struct fake_backend *fb, struct vhost_user_msg *m)
{
	uint32_t flags = VHOST_USER_VERSION | VHOST_USER_FLAG_REPLY;
	uint32_t r = m->hdr.request;

	if (r == fb->bad_flags_at)
		flags = VHOST_USER_VERSION;
	if (r == VHOST_USER_GET_FEATURES)
		reply_u64(fb, r, flags, fb->features);
	else if (r == VHOST_USER_GET_PROTOCOL_FEATURES)
		reply_u64(fb, r, flags, fb->protocol);
	else if (r == VHOST_USER_GET_QUEUE_NUM)
		reply_u64(fb, r, flags, fb->queue_num);
	else if (r == VHOST_USER_GET_VRING_BASE) {
		struct vhost_user_vring_state st = {m->payload.state.index, fb->vring_base};
		struct vhost_user_header hdr = {r, flags, sizeof(st)};
		vhost_user_send(fb->sock, &hdr, &st, NULL, 0);
	} else if (m->hdr.flags & VHOST_USER_FLAG_NEED_REPLY)
		reply_u64(fb, r, flags, r == fb->nack_at ? 1 : 0);
}

/* SET_DEVICE_STATE_FD: reply (no fd of our own), then stream over the fd to EOF. */
static void device_state(struct fake_backend *fb, const struct vhost_user_msg *m, int fd)
{
	reply_u64(fb, m->hdr.request, VHOST_USER_VERSION | VHOST_USER_FLAG_REPLY, 1ull << 8);
	if (m->payload.device_state.direction == VHOST_USER_DEVICE_STATE_SAVE) {
		ck_assert_int_eq(write(fd, fb->state, strlen(fb->state)),
				 (ssize_t)strlen(fb->state));
	} else {
		ssize_t n, got = 0;

		memset(fb->state, 0, sizeof(fb->state));
		while ((n = read(fd, fb->state + got, sizeof(fb->state) - 1 - (size_t)got)) > 0)
			got += n;
	}
	close(fd);
}

/* GET_INFLIGHT_FD: a memfd 4 KiB larger than the mmap_size it answers. */
static void inflight_reply(struct fake_backend *fb, const struct vhost_user_msg *m)
{
	struct vhost_user_inflight r = m->payload.inflight;
	struct vhost_user_header hdr = {m->hdr.request, VHOST_USER_VERSION | VHOST_USER_FLAG_REPLY,
					sizeof(r)};
	int fd = memfd_create("inflight", MFD_CLOEXEC);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, (off_t)fb->inflight_size + 4096), 0);
	r.mmap_size = fb->inflight_size;
	r.mmap_offset = 0;
	vhost_user_send(fb->sock, &hdr, &r, &fd, 1);
	close(fd);
}

static void *fake_backend_thread(void *arg)
{
	struct fake_backend *fb = arg;
	struct vhost_user_error e = {0};
	struct vhost_user_msg m;
	int fds[VHOST_USER_MAX_FDS];
	unsigned nfds;

	while (vhost_user_recv(fb->sock, &m, fds, VHOST_USER_MAX_FDS, &nfds, -1, &e) == 0) {
		if (fb->nseen < 64)
			fb->seen[fb->nseen++] = m.hdr.request;
		if (m.hdr.request == VHOST_USER_SET_BACKEND_REQ_FD && nfds == 1) {
			fb->channel = fds[0];
			nfds = 0;
		}
		if (m.hdr.request == VHOST_USER_SET_DEVICE_STATE_FD && nfds == 1) {
			device_state(fb, &m, fds[0]);
			continue;
		}
		if (m.hdr.request == VHOST_USER_GET_INFLIGHT_FD) {
			inflight_reply(fb, &m);
			continue;
		}
		if (m.hdr.request == VHOST_USER_SET_INFLIGHT_FD && nfds == 1) {
			struct stat st;

			fb->inflight_set = m.payload.inflight;
			fb->inflight_set_fd_size = fstat(fds[0], &st) ? 0 : (uint64_t)st.st_size;
		}
		if (m.hdr.request == VHOST_USER_CHECK_DEVICE_STATE) {
			reply_u64(fb, m.hdr.request, VHOST_USER_VERSION | VHOST_USER_FLAG_REPLY,
				  fb->check_result);
			continue;
		}
		vhost_user_close_fds(fds, nfds);
		if (m.hdr.request == fb->hang_up_at)
			break;
		if (m.hdr.request != fb->silent_at)
			answer(fb, &m);
	}
	close(fb->sock);
	return NULL;
}

struct fixture {
	struct fake_backend fb;
	struct vhost_user_frontend fe;
	pthread_t thread;
};

static void default_backend(struct fake_backend *fb)
{
	memset(fb, 0, sizeof(*fb));
	fb->features = BIT(32) | BIT(VHOST_USER_F_PROTOCOL_FEATURES) | BIT(34) /* PACKED */ |
		       F_BLK_SIZE | BIT(7) /* not a blk feature we pass */;
	fb->protocol = BIT(VHOST_USER_PROTOCOL_F_MQ) | BIT(VHOST_USER_PROTOCOL_F_REPLY_ACK) |
		       BIT(VHOST_USER_PROTOCOL_F_BACKEND_REQ) | BIT(VHOST_USER_PROTOCOL_F_CONFIG) |
		       BIT(VHOST_USER_PROTOCOL_F_LOG_SHMFD);
	fb->queue_num = 1;
	fb->channel = -1;
}

/* Wires fe to a fake back-end over a socketpair; fe takes one end. */
static void start(struct fixture *fx)
{
	int sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	fx->fb.sock = sv[1];
	ck_assert_int_eq(vhost_user_frontend_init(&fx->fe, "blk0", 2), 0);
	fx->fe.sock = sv[0];
	fx->fe.timeout_ms = 300;
	pthread_create(&fx->thread, NULL, fake_backend_thread, &fx->fb);
}

static void finish(struct fixture *fx)
{
	vhost_user_frontend_close(&fx->fe);
	pthread_join(fx->thread, NULL);
	if (fx->fb.channel >= 0)
		close(fx->fb.channel);
}

START_TEST(handshake_masks_and_negotiates)
{
	struct fixture fx;

	default_backend(&fx.fb);
	start(&fx);
	ck_assert_int_eq(vhost_user_frontend_handshake(&fx.fe), 0);
	ck_assert_uint_eq(fx.fe.device_features, BIT(32) | F_BLK_SIZE);
	/* LOG_SHMFD is offered but never acked: we do no migration. */
	ck_assert_uint_eq(fx.fe.protocol_features,
			  fx.fb.protocol & ~BIT(VHOST_USER_PROTOCOL_F_LOG_SHMFD));
	ck_assert_uint_eq(fx.fe.num_queues, 1);
	ck_assert_int_ge(vhost_user_frontend_backend_fd(&fx.fe), 0);
	ck_assert_int_eq(vhost_user_frontend_set_features(&fx.fe, BIT(34)), -EINVAL);
	ck_assert_int_eq(vhost_user_frontend_set_features(&fx.fe, BIT(32)), 0);
	ck_assert(!fx.fe.broken);
	finish(&fx);
	ck_assert_uint_eq(fx.fb.seen[0], VHOST_USER_SET_OWNER);
	ck_assert_uint_eq(fx.fb.seen[1], VHOST_USER_GET_FEATURES);
	ck_assert_uint_eq(fx.fb.seen[2], VHOST_USER_GET_PROTOCOL_FEATURES);
	ck_assert_uint_eq(fx.fb.seen[3], VHOST_USER_SET_PROTOCOL_FEATURES);
	ck_assert_uint_eq(fx.fb.seen[4], VHOST_USER_GET_QUEUE_NUM);
	ck_assert_uint_eq(fx.fb.seen[5], VHOST_USER_SET_BACKEND_REQ_FD);
}
END_TEST

static void expect_handshake_failure(struct fixture *fx, int err)
{
	start(fx);
	ck_assert_int_eq(vhost_user_frontend_handshake(&fx->fe), err);
	ck_assert(fx->fe.broken);
	/* A broken device refuses further requests instead of touching the socket. */
	ck_assert_int_eq(vhost_user_frontend_set_features(&fx->fe, 0), -EIO);
	finish(fx);
}

START_TEST(bad_queue_num_rejected)
{
	struct fixture fx;

	default_backend(&fx.fb);
	fx.fb.queue_num = 0;
	expect_handshake_failure(&fx, -EPROTO);
	default_backend(&fx.fb);
	fx.fb.queue_num = VHOST_USER_SANE_QUEUE_NUM + 1;
	expect_handshake_failure(&fx, -EPROTO);
}
END_TEST

START_TEST(hang_up_reported_not_fatal)
{
	struct fixture fx;

	default_backend(&fx.fb);
	fx.fb.hang_up_at = VHOST_USER_GET_PROTOCOL_FEATURES;
	expect_handshake_failure(&fx, -ECONNRESET);
}
END_TEST

START_TEST(bad_reply_flags_rejected)
{
	struct fixture fx;

	default_backend(&fx.fb);
	fx.fb.bad_flags_at = VHOST_USER_GET_FEATURES;
	expect_handshake_failure(&fx, -EPROTO);
}
END_TEST

START_TEST(silent_backend_times_out)
{
	struct fixture fx;

	default_backend(&fx.fb);
	fx.fb.silent_at = VHOST_USER_GET_QUEUE_NUM;
	expect_handshake_failure(&fx, -ETIMEDOUT);
}
END_TEST

START_TEST(nack_is_an_error_but_not_broken)
{
	const struct ram_range range = {0, 1 << 20};
	struct guest_memory mem;
	struct fixture fx;

	ck_assert_int_eq(guest_memory_init(&mem, &range, 1), 0);
	default_backend(&fx.fb);
	fx.fb.nack_at = VHOST_USER_SET_MEM_TABLE;
	start(&fx);
	ck_assert_int_eq(vhost_user_frontend_handshake(&fx.fe), 0);
	ck_assert_int_eq(vhost_user_frontend_set_mem_table(&fx.fe, &mem), -EREMOTEIO);
	ck_assert(!fx.fe.broken);
	finish(&fx);
	guest_memory_destroy(&mem);
}
END_TEST

/* A base further ahead than the driver's avail index is a lie; ring outside RAM refused. */
START_TEST(vring_checks)
{
	const struct ram_range range = {0, 1 << 20};
	struct vhost_user_vring ring = {.size = 8,
					.desc_gpa = 0x1000,
					.avail_gpa = 0x2000,
					.used_gpa = 0x3000,
					.kick_fd = -1,
					.call_fd = -1};
	struct guest_memory mem;
	struct fixture fx;
	uint16_t base;

	ck_assert_int_eq(guest_memory_init(&mem, &range, 1), 0);
	default_backend(&fx.fb);
	fx.fb.vring_base = 9; /* avail idx is 0, ring size 8 */
	start(&fx);
	ck_assert_int_eq(vhost_user_frontend_handshake(&fx.fe), 0);
	ck_assert_int_eq(vhost_user_frontend_set_mem_table(&fx.fe, &mem), 0);
	ring.used_gpa = (1 << 20) - 16;
	ck_assert_int_eq(vhost_user_frontend_start_queue(&fx.fe, 0, &ring), -EFAULT);
	fx.fe.broken = false;
	ring.used_gpa = 0x3000;
	ring.size = 6;
	ck_assert_int_eq(vhost_user_frontend_start_queue(&fx.fe, 0, &ring), -EPROTO);
	fx.fe.broken = false;
	ring.size = 8;
	ck_assert_int_eq(vhost_user_frontend_start_queue(&fx.fe, 0, &ring), 0);
	ck_assert_int_eq(vhost_user_frontend_stop_queue(&fx.fe, 0, &base), -EPROTO);
	finish(&fx);
	guest_memory_destroy(&mem);
}
END_TEST

struct callback_log {
	unsigned config_changes;
	unsigned calls;
	unsigned last_index;
};

static void on_config(void *opaque)
{
	((struct callback_log *)opaque)->config_changes++;
}

static int on_call(void *opaque, unsigned index)
{
	struct callback_log *log = opaque;

	log->calls++;
	log->last_index = index;
	return 0;
}

static const struct vhost_user_backend_ops test_ops = {.config_changed = on_config,
						       .vring_call = on_call};

/* Sends a back-end request and returns the frontend's status answer (or -1: none). */
static int64_t backend_request(struct fixture *fx, uint32_t request, const void *payload,
			       uint32_t size, int expect_err)
{
	struct vhost_user_header hdr = {request, VHOST_USER_VERSION | VHOST_USER_FLAG_NEED_REPLY,
					size};
	struct vhost_user_error e = {0};
	struct vhost_user_msg reply;
	unsigned nfds;

	ck_assert_int_eq(vhost_user_send(fx->fb.channel, &hdr, payload, NULL, 0), 0);
	ck_assert_int_eq(vhost_user_frontend_handle_backend_request(&fx->fe), expect_err);
	if (vhost_user_recv(fx->fb.channel, &reply, NULL, 0, &nfds, 500, &e))
		return -1;
	ck_assert_uint_eq(reply.hdr.flags, VHOST_USER_VERSION | VHOST_USER_FLAG_REPLY);
	ck_assert_uint_eq(reply.hdr.request, request);
	return (int64_t)reply.payload.u64;
}

START_TEST(backend_requests_served_and_refused)
{
	struct vhost_user_vring_state call0 = {0, 0}, call99 = {99, 0};
	struct callback_log log = {0};
	struct fixture fx;

	default_backend(&fx.fb);
	start(&fx);
	vhost_user_frontend_set_backend_ops(&fx.fe, &test_ops, &log);
	ck_assert_int_eq(vhost_user_frontend_handshake(&fx.fe), 0);
	ck_assert_int_ge(fx.fb.channel, 0);
	ck_assert_int_eq(backend_request(&fx, VHOST_USER_BACKEND_CONFIG_CHANGE_MSG, NULL, 0, 0), 0);
	ck_assert_uint_eq(log.config_changes, 1);
	ck_assert_int_eq(backend_request(&fx, VHOST_USER_BACKEND_VRING_CALL, &call0, 8, 0), 0);
	ck_assert_uint_eq(log.calls, 1);
	ck_assert_int_gt(backend_request(&fx, VHOST_USER_BACKEND_VRING_CALL, &call99, 8, -ERANGE),
			 0);
	ck_assert_int_gt(backend_request(&fx, VHOST_USER_BACKEND_VRING_CALL, &call0, 4, -EPROTO),
			 0);
	ck_assert_int_gt(backend_request(&fx, 77, NULL, 0, -ENOTSUP), 0);
	ck_assert_int_gt(backend_request(&fx, VHOST_USER_BACKEND_VRING_ERR, &call0, 8, -ENOTSUP),
			 0);
	ck_assert_uint_eq(log.calls, 1);
	/* The back-end closes its channel: the frontend drops it and carries on. */
	close(fx.fb.channel);
	fx.fb.channel = -1;
	ck_assert_int_eq(vhost_user_frontend_handle_backend_request(&fx.fe), -ECONNRESET);
	ck_assert_int_eq(vhost_user_frontend_backend_fd(&fx.fe), -1);
	ck_assert(!fx.fe.broken);
	finish(&fx);
}
END_TEST

static unsigned count_seen(const struct fake_backend *fb, uint32_t request)
{
	unsigned n = 0;

	for (unsigned i = 0; i < fb->nseen; i++)
		n += fb->seen[i] == request;
	return n;
}

/* A ring started disabled gets no ENABLE until asked; a repeated state sends nothing. */
START_TEST(ring_enable_follows_requests)
{
	const struct ram_range range = {0, 1 << 20};
	struct vhost_user_vring ring = {.size = 8,
					.desc_gpa = 0x1000,
					.avail_gpa = 0x2000,
					.used_gpa = 0x3000,
					.kick_fd = -1,
					.call_fd = -1,
					.start_disabled = true};
	struct guest_memory mem;
	struct fixture fx;

	ck_assert_int_eq(guest_memory_init(&mem, &range, 1), 0);
	default_backend(&fx.fb);
	start(&fx);
	ck_assert_int_eq(vhost_user_frontend_handshake(&fx.fe), 0);
	ck_assert_int_eq(vhost_user_frontend_set_mem_table(&fx.fe, &mem), 0);
	ck_assert_int_eq(vhost_user_frontend_enable_queue(&fx.fe, 0, true), -EINVAL);
	ck_assert_int_eq(vhost_user_frontend_start_queue(&fx.fe, 0, &ring), 0);
	ck_assert(!fx.fe.queues[0].enabled);
	ck_assert_int_eq(vhost_user_frontend_enable_queue(&fx.fe, 0, false), 0);
	ck_assert_int_eq(vhost_user_frontend_enable_queue(&fx.fe, 0, true), 0);
	ck_assert_int_eq(vhost_user_frontend_enable_queue(&fx.fe, 0, true), 0);
	ck_assert(fx.fe.queues[0].enabled);
	ck_assert_int_eq(vhost_user_frontend_enable_queue(&fx.fe, 0, false), 0);
	ck_assert(!fx.fe.queues[0].enabled);
	ck_assert_int_eq(vhost_user_frontend_enable_queue(&fx.fe, 64, true), -EINVAL);
	finish(&fx);
	ck_assert_uint_eq(count_seen(&fx.fb, VHOST_USER_SET_VRING_ENABLE), 2);
	guest_memory_destroy(&mem);
}
END_TEST

/* No PROTOCOL_FEATURES: no protocol messages, and rings start enabled without ENABLE. */
START_TEST(legacy_backend)
{
	const struct ram_range range = {0, 1 << 20};
	struct vhost_user_vring ring = {.size = 8,
					.desc_gpa = 0x1000,
					.avail_gpa = 0x2000,
					.used_gpa = 0x3000,
					.kick_fd = -1,
					.call_fd = -1};
	struct guest_memory mem;
	struct fixture fx;
	unsigned i;

	ck_assert_int_eq(guest_memory_init(&mem, &range, 1), 0);
	default_backend(&fx.fb);
	fx.fb.features = BIT(32);
	start(&fx);
	ck_assert_int_eq(vhost_user_frontend_handshake(&fx.fe), 0);
	ck_assert_uint_eq(fx.fe.protocol_features, 0);
	ck_assert_uint_eq(fx.fe.num_queues, 1);
	ck_assert_int_eq(vhost_user_frontend_backend_fd(&fx.fe), -1);
	ck_assert_int_eq(vhost_user_frontend_set_mem_table(&fx.fe, &mem), 0);
	ring.start_disabled = true; /* cannot be honoured: the ring runs from its start */
	ck_assert_int_eq(vhost_user_frontend_start_queue(&fx.fe, 0, &ring), 0);
	ck_assert(fx.fe.queues[0].enabled);
	ck_assert_int_eq(vhost_user_frontend_enable_queue(&fx.fe, 0, true), 0);
	ck_assert_int_eq(vhost_user_frontend_enable_queue(&fx.fe, 0, false), -ENOTSUP);
	ck_assert_int_eq(vhost_user_frontend_get_status(&fx.fe, &(uint8_t){0}), -ENOTSUP);
	finish(&fx);
	for (i = 0; i < fx.fb.nseen; i++) {
		ck_assert_uint_ne(fx.fb.seen[i], VHOST_USER_GET_PROTOCOL_FEATURES);
		ck_assert_uint_ne(fx.fb.seen[i], VHOST_USER_SET_VRING_ENABLE);
	}
	ck_assert_uint_eq(fx.fb.seen[fx.fb.nseen - 1], VHOST_USER_SET_VRING_KICK);
	guest_memory_destroy(&mem);
}
END_TEST

/* Only what the frontend uses is acked; a caller's own additions go with it. */
START_TEST(acks_only_what_it_uses)
{
	const uint64_t unused = BIT(VHOST_USER_PROTOCOL_F_DEVICE_STATE) |
				BIT(VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS) |
				BIT(VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD) |
				BIT(VHOST_USER_PROTOCOL_F_HOST_NOTIFIER);
	struct fixture fx;

	default_backend(&fx.fb);
	fx.fb.protocol |= unused | BIT(VHOST_USER_PROTOCOL_F_RESET_DEVICE);
	start(&fx);
	ck_assert_int_eq(vhost_user_frontend_handshake(&fx.fe), 0);
	ck_assert_uint_eq(fx.fe.protocol_features & unused, 0);
	ck_assert(vhost_user_frontend_has_protocol(&fx.fe, VHOST_USER_PROTOCOL_F_RESET_DEVICE));
	finish(&fx);

	default_backend(&fx.fb);
	fx.fb.protocol |= unused;
	start(&fx);
	fx.fe.protocol_extra = BIT(VHOST_USER_PROTOCOL_F_DEVICE_STATE);
	ck_assert_int_eq(vhost_user_frontend_handshake(&fx.fe), 0);
	ck_assert_uint_eq(fx.fe.protocol_features & unused,
			  BIT(VHOST_USER_PROTOCOL_F_DEVICE_STATE));
	finish(&fx);
}
END_TEST

/*
 * INFLIGHT_SHMFD: acked only when asked for; a region too small for the
 * queues is refused; a good one is handed back whole.
 */
START_TEST(inflight_region_checked_and_handed_back)
{
	struct vhost_user_inflight region;
	struct fixture fx;
	int fd;

	default_backend(&fx.fb);
	fx.fb.protocol |= BIT(VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD);
	start(&fx);
	ck_assert_int_eq(vhost_user_frontend_handshake(&fx.fe), 0);
	ck_assert_int_eq(vhost_user_frontend_get_inflight(&fx.fe, 1, 128, &region, &fd), -ENOTSUP);
	finish(&fx);

	default_backend(&fx.fb);
	fx.fb.protocol |= BIT(VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD);
	fx.fb.inflight_size = 16 + 128 * 16 - 1;
	start(&fx);
	fx.fe.protocol_extra = BIT(VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD);
	ck_assert_int_eq(vhost_user_frontend_handshake(&fx.fe), 0);
	ck_assert_int_eq(vhost_user_frontend_get_inflight(&fx.fe, 1, 128, &region, &fd), -EPROTO);
	ck_assert_int_eq(fd, -1);
	ck_assert(fx.fe.broken); /* a back-end that answers so is not to be trusted further */
	finish(&fx);

	default_backend(&fx.fb);
	fx.fb.protocol |= BIT(VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD);
	fx.fb.inflight_size = 2 * 2112;
	start(&fx);
	fx.fe.protocol_extra = BIT(VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD);
	ck_assert_int_eq(vhost_user_frontend_handshake(&fx.fe), 0);
	/* Asked inside a batch, as at activation: the request must leave before its reply comes. */
	vhost_user_frontend_batch_begin(&fx.fe);
	ck_assert_int_eq(vhost_user_frontend_set_features(&fx.fe, BIT(32)), 0);
	ck_assert_int_eq(vhost_user_frontend_get_inflight(&fx.fe, 2, 128, &region, &fd), 0);
	ck_assert_int_eq(vhost_user_frontend_batch_end(&fx.fe), 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_uint_eq(region.mmap_size, 2 * 2112);
	ck_assert_int_eq(vhost_user_frontend_set_inflight(&fx.fe, &region, fd), 0);
	finish(&fx);
	ck_assert_uint_eq(fx.fb.inflight_set.mmap_size, 2 * 2112);
	ck_assert_uint_eq(fx.fb.inflight_set.num_queues, 2);
	ck_assert_uint_eq(fx.fb.inflight_set.queue_size, 128);
	ck_assert_uint_eq(fx.fb.inflight_set_fd_size, 2 * 2112 + 4096);
	close(fd);
}
END_TEST

/* RESET_DEVICE goes out at a reset only when negotiated. */
START_TEST(reset_sends_reset_device_when_negotiated)
{
	bool sent;

	for (int with = 0; with < 2; with++) {
		struct fixture fx;

		default_backend(&fx.fb);
		if (with)
			fx.fb.protocol |= BIT(VHOST_USER_PROTOCOL_F_RESET_DEVICE);
		start(&fx);
		ck_assert_int_eq(vhost_user_frontend_handshake(&fx.fe), 0);
		ck_assert_int_eq(vhost_user_frontend_reset(&fx.fe), 0);
		finish(&fx);
		sent = false;
		for (unsigned i = 0; i < fx.fb.nseen; i++)
			sent |= fx.fb.seen[i] == VHOST_USER_RESET_DEVICE;
		ck_assert_int_eq(sent, with);
	}
}
END_TEST

/* DEVICE_STATE both ways through the pipe; a failed CHECK fails the transfer. */
START_TEST(device_state_save_and_load)
{
	struct fixture fx;
	uint8_t *data;
	size_t len;

	default_backend(&fx.fb);
	fx.fb.protocol |= BIT(VHOST_USER_PROTOCOL_F_DEVICE_STATE);
	strcpy(fx.fb.state, "inode table");
	start(&fx);
	ck_assert_int_eq(vhost_user_frontend_save_state(&fx.fe, &data, &len), -ENOTSUP);
	fx.fe.protocol_extra = BIT(VHOST_USER_PROTOCOL_F_DEVICE_STATE);
	ck_assert_int_eq(vhost_user_frontend_handshake(&fx.fe), 0);
	ck_assert_int_eq(vhost_user_frontend_save_state(&fx.fe, &data, &len), 0);
	ck_assert_uint_eq(len, 11);
	ck_assert(!memcmp(data, "inode table", 11));
	ck_assert_int_eq(vhost_user_frontend_load_state(&fx.fe, (const uint8_t *)"restored", 8), 0);
	free(data);
	fx.fb.check_result = 1;
	ck_assert_int_ne(vhost_user_frontend_save_state(&fx.fe, &data, &len), 0);
	ck_assert_ptr_null(data);
	finish(&fx);
	ck_assert_str_eq(fx.fb.state, "restored");
}
END_TEST

START_TEST(device_types)
{
	struct vhost_user_type fallback;
	const struct vhost_user_type *t;

	t = vhost_user_type_find(2, &fallback);
	ck_assert_str_eq(t->name, "blk");
	ck_assert_uint_eq(t->config_size, 60);
	t = vhost_user_type_by_name("fs", &fallback);
	ck_assert_uint_eq(t->id, 26);
	ck_assert_uint_eq(t->min_queues, 2);
	t = vhost_user_type_by_name("type=99", &fallback);
	ck_assert_ptr_eq(t, &fallback);
	ck_assert_str_eq(t->name, "type=99");
	ck_assert_ptr_null(vhost_user_type_by_name("type=", &fallback));
	ck_assert_ptr_null(vhost_user_type_by_name("bogus", &fallback));
	ck_assert_uint_eq(vhost_user_transport_features() & BIT(34), 0);
}
END_TEST

static Suite *frontend_suite(void)
{
	Suite *s = suite_create("vhost_user_frontend");
	TCase *tc = tcase_create("frontend");

	tcase_add_test(tc, handshake_masks_and_negotiates);
	tcase_add_test(tc, bad_queue_num_rejected);
	tcase_add_test(tc, hang_up_reported_not_fatal);
	tcase_add_test(tc, bad_reply_flags_rejected);
	tcase_add_test(tc, silent_backend_times_out);
	tcase_add_test(tc, nack_is_an_error_but_not_broken);
	tcase_add_test(tc, vring_checks);
	tcase_add_test(tc, backend_requests_served_and_refused);
	tcase_add_test(tc, ring_enable_follows_requests);
	tcase_add_test(tc, legacy_backend);
	tcase_add_test(tc, acks_only_what_it_uses);
	tcase_add_test(tc, reset_sends_reset_device_when_negotiated);
	tcase_add_test(tc, inflight_region_checked_and_handed_back);
	tcase_add_test(tc, device_state_save_and_load);
	tcase_add_test(tc, device_types);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(frontend_suite)
