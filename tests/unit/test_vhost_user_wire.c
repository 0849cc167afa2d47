/* Unit tests for the vhost-user wire module over socketpairs: parsing, strict checks, fds. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "tests/lib/fds.h"
#include "tests/unit/check_main.h"
#include "vhost_user/wire.h"
#include "vhost_user/wire_gpu.h"
#include "vmm/util.h"

static void make_pair(int sv[2])
{
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
}

/* Sends a reply-shaped message from the "back-end" end. */
static void send_reply(int sock, uint32_t request, uint32_t flags, const void *payload,
		       uint32_t size, const int *fds, unsigned nfds)
{
	struct vhost_user_header hdr = {.request = request, .flags = flags, .size = size};

	ck_assert_int_eq(vhost_user_send(sock, &hdr, payload, fds, nfds), 0);
}

static const struct vhost_user_reply_spec u64_spec = {
    .request = VHOST_USER_GET_FEATURES, .min_size = 8, .max_size = 8};

START_TEST(good_u64_reply_parses)
{
	const uint32_t ok = VHOST_USER_VERSION | VHOST_USER_FLAG_REPLY;
	uint64_t features = 0x175007e46ull;
	struct vhost_user_error e = {0};
	struct vhost_user_msg msg;
	int sv[2];

	make_pair(sv);
	send_reply(sv[1], VHOST_USER_GET_FEATURES, ok, &features, 8, NULL, 0);
	ck_assert_int_eq(vhost_user_recv_reply(sv[0], &u64_spec, &msg, NULL, 1000, &e), 0);
	ck_assert_uint_eq(msg.payload.u64, features);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

/* Each malformed reply must fail with -EPROTO naming the field at fault. */
static void expect_rejected(uint32_t request, uint32_t flags, uint32_t size, unsigned nfds,
			    const char *field)
{
	uint8_t payload[64] = {0};
	struct vhost_user_error e = {0};
	struct vhost_user_msg msg;
	int fds[2] = {-1, -1};
	int sv[2], before, i;

	make_pair(sv);
	before = test_open_fds();
	ck_assert_int_ge(before, 0);
	for (i = 0; i < (int)nfds; i++)
		fds[i] = eventfd(0, EFD_CLOEXEC);
	send_reply(sv[1], request, flags, payload, size, fds, nfds);
	for (i = 0; i < (int)nfds; i++)
		close(fds[i]);
	ck_assert_int_eq(vhost_user_recv_reply(sv[0], &u64_spec, &msg, fds, 1000, &e), -EPROTO);
	ck_assert_str_eq(e.field, field);
	ck_assert_int_eq(test_open_fds(), before); /* received fds were closed */
	close(sv[0]);
	close(sv[1]);
}

START_TEST(bad_replies_rejected)
{
	const uint32_t ok = VHOST_USER_VERSION | VHOST_USER_FLAG_REPLY;

	expect_rejected(VHOST_USER_GET_FEATURES, VHOST_USER_FLAG_REPLY, 8, 0, "flags"); /* v0 */
	expect_rejected(VHOST_USER_GET_FEATURES, 0x2 | VHOST_USER_FLAG_REPLY, 8, 0, "flags");
	expect_rejected(VHOST_USER_GET_FEATURES, VHOST_USER_VERSION, 8, 0, "flags"); /* no REPLY */
	expect_rejected(VHOST_USER_GET_FEATURES, ok | VHOST_USER_FLAG_NEED_REPLY, 8, 0, "flags");
	expect_rejected(VHOST_USER_GET_PROTOCOL_FEATURES, ok, 8, 0, "request");
	expect_rejected(VHOST_USER_GET_FEATURES, ok, 4, 0, "size");
	expect_rejected(VHOST_USER_GET_FEATURES, ok, 16, 0, "size");
	expect_rejected(VHOST_USER_GET_FEATURES, ok, 8, 1, "fds");
	expect_rejected(VHOST_USER_GET_FEATURES, ok, 8, 2, "fds");
}
END_TEST

START_TEST(bounded_size_accepted_within_range)
{
	const struct vhost_user_reply_spec spec = {
	    .request = VHOST_USER_GET_CONFIG, .min_size = 12, .max_size = 12 + 60};
	const uint32_t ok = VHOST_USER_VERSION | VHOST_USER_FLAG_REPLY;
	struct vhost_user_config cfg = {.size = 60};
	struct vhost_user_error e = {0};
	struct vhost_user_msg msg;
	int sv[2];

	make_pair(sv);
	send_reply(sv[1], VHOST_USER_GET_CONFIG, ok, &cfg, 12 + 60, NULL, 0);
	ck_assert_int_eq(vhost_user_recv_reply(sv[0], &spec, &msg, NULL, 1000, &e), 0);
	send_reply(sv[1], VHOST_USER_GET_CONFIG, ok, &cfg, 12 + 61, NULL, 0);
	ck_assert_int_eq(vhost_user_recv_reply(sv[0], &spec, &msg, NULL, 1000, &e), -EPROTO);
	ck_assert_str_eq(e.field, "size");
	close(sv[0]);
	close(sv[1]);
}
END_TEST

START_TEST(timeout_fires)
{
	struct vhost_user_error e = {0};
	struct vhost_user_msg msg;
	struct timespec t0, t1;
	long elapsed_ms;
	int sv[2];

	make_pair(sv);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ck_assert_int_eq(vhost_user_recv_reply(sv[0], &u64_spec, &msg, NULL, 150, &e), -ETIMEDOUT);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	elapsed_ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	ck_assert_int_ge(elapsed_ms, 140);
	ck_assert_int_lt(elapsed_ms, 2000);
	ck_assert_str_eq(e.field, "timeout");
	ck_assert_uint_eq(e.request, VHOST_USER_GET_FEATURES);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

START_TEST(hangup_detected)
{
	struct vhost_user_error e = {0};
	struct vhost_user_msg msg;
	unsigned nfds;
	int sv[2];

	make_pair(sv);
	close(sv[1]);
	ck_assert_int_eq(vhost_user_recv(sv[0], &msg, NULL, 0, &nfds, 1000, &e), -ECONNRESET);
	ck_assert_str_eq(e.field, "hang-up");
	/* Sending to a closed peer must fail, not raise SIGPIPE. */
	msg.hdr = (struct vhost_user_header){VHOST_USER_SET_OWNER, VHOST_USER_VERSION, 0};
	ck_assert_int_eq(vhost_user_send(sv[0], &msg.hdr, NULL, NULL, 0), -EPIPE);
	close(sv[0]);
}
END_TEST

/* A peer that dies half-way through a message is a hang-up too. */
START_TEST(hangup_mid_message)
{
	struct vhost_user_header hdr = {VHOST_USER_GET_FEATURES, 5, 8};
	struct vhost_user_error e = {0};
	struct vhost_user_msg msg;
	unsigned nfds;
	int sv[2];

	make_pair(sv);
	ck_assert_int_eq(write(sv[1], &hdr, sizeof(hdr)), sizeof(hdr));
	ck_assert_int_eq(write(sv[1], "abc", 3), 3);
	close(sv[1]);
	ck_assert_int_eq(vhost_user_recv(sv[0], &msg, NULL, 0, &nfds, 1000, &e), -ECONNRESET);
	close(sv[0]);
}
END_TEST

START_TEST(oversize_payload_rejected)
{
	struct vhost_user_header hdr = {VHOST_USER_GET_CONFIG, 5, VHOST_USER_PAYLOAD_MAX + 1};
	struct vhost_user_error e = {0};
	struct vhost_user_msg msg;
	unsigned nfds;
	int sv[2];

	make_pair(sv);
	ck_assert_int_eq(write(sv[1], &hdr, sizeof(hdr)), sizeof(hdr));
	ck_assert_int_eq(vhost_user_recv(sv[0], &msg, NULL, 0, &nfds, 1000, &e), -EMSGSIZE);
	ck_assert_str_eq(e.field, "size");
	close(sv[0]);
	close(sv[1]);
}
END_TEST

struct dribble {
	int sock;
	uint8_t bytes[12 + 8];
};

/* Writes one byte at a time with pauses, so every read comes up short. */
static void *dribble_thread(void *arg)
{
	struct dribble *d = arg;
	const struct timespec pause = {.tv_nsec = 2 * 1000 * 1000};
	size_t i;

	for (i = 0; i < sizeof(d->bytes); i++) {
		if (write(d->sock, &d->bytes[i], 1) != 1)
			break;
		nanosleep(&pause, NULL);
	}
	return NULL;
}

START_TEST(partial_reads_reassemble)
{
	struct vhost_user_header hdr = {VHOST_USER_GET_FEATURES,
					VHOST_USER_VERSION | VHOST_USER_FLAG_REPLY, 8};
	uint64_t value = 0x0123456789abcdefull;
	struct vhost_user_error e = {0};
	struct vhost_user_msg msg;
	struct dribble d;
	pthread_t thread;
	int sv[2];

	make_pair(sv);
	d.sock = sv[1];
	memcpy(d.bytes, &hdr, 12);
	memcpy(d.bytes + 12, &value, 8);
	pthread_create(&thread, NULL, dribble_thread, &d);
	ck_assert_int_eq(vhost_user_recv_reply(sv[0], &u64_spec, &msg, NULL, 2000, &e), 0);
	ck_assert_uint_eq(msg.payload.u64, value);
	pthread_join(thread, NULL);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

START_TEST(fds_travel_and_are_not_leaked)
{
	const struct vhost_user_reply_spec spec = {.request = VHOST_USER_GET_INFLIGHT_FD,
						   .min_size = sizeof(struct vhost_user_inflight),
						   .max_size = sizeof(struct vhost_user_inflight),
						   .min_fds = 1,
						   .max_fds = 1};
	struct vhost_user_inflight inflight = {.mmap_size = 4096};
	struct vhost_user_error e = {0};
	struct vhost_user_msg msg;
	uint64_t one = 1, got = 0;
	int sv[2], efd, fds[1] = {-1};
	int before;

	make_pair(sv);
	before = test_open_fds();
	ck_assert_int_ge(before, 0);
	efd = eventfd(0, EFD_CLOEXEC);
	send_reply(sv[1], VHOST_USER_GET_INFLIGHT_FD, VHOST_USER_VERSION | VHOST_USER_FLAG_REPLY,
		   &inflight, sizeof(inflight), &efd, 1);
	ck_assert_int_eq(vhost_user_recv_reply(sv[0], &spec, &msg, fds, 1000, &e), 0);
	ck_assert_int_ge(fds[0], 0);
	ck_assert_int_ne(fds[0], efd);
	/* The received fd is the same eventfd. */
	ck_assert_int_eq(write(fds[0], &one, 8), 8);
	ck_assert_int_eq(read(efd, &got, 8), 8);
	ck_assert_uint_eq(got, 1);
	close(fds[0]);
	close(efd);
	/* Missing fd: rejected. */
	send_reply(sv[1], VHOST_USER_GET_INFLIGHT_FD, VHOST_USER_VERSION | VHOST_USER_FLAG_REPLY,
		   &inflight, sizeof(inflight), NULL, 0);
	ck_assert_int_eq(vhost_user_recv_reply(sv[0], &spec, &msg, fds, 1000, &e), -EPROTO);
	ck_assert_str_eq(e.field, "fds");
	ck_assert_int_eq(test_open_fds(), before);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

START_TEST(too_many_fds_closed)
{
	struct vhost_user_error e = {0};
	struct vhost_user_msg msg;
	int sv[2], sent[3], got[1], before, i;
	unsigned nfds = 0;
	uint64_t v = 0;

	make_pair(sv);
	before = test_open_fds();
	ck_assert_int_ge(before, 0);
	for (i = 0; i < 3; i++)
		sent[i] = eventfd(0, EFD_CLOEXEC);
	send_reply(sv[1], VHOST_USER_GET_FEATURES, 5, &v, 8, sent, 3);
	for (i = 0; i < 3; i++)
		close(sent[i]);
	ck_assert_int_eq(vhost_user_recv(sv[0], &msg, got, 1, &nfds, 1000, &e), -EPROTO);
	ck_assert_uint_eq(nfds, 0);
	ck_assert_str_eq(e.field, "fds");
	ck_assert_int_eq(test_open_fds(), before);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

/* Bytes waiting to be read on sock. */
static int bytes_queued(int sock)
{
	int n = -1;

	ck_assert_int_eq(ioctl(sock, FIONREAD, &n), 0);
	return n;
}

static void queue_u64(struct vhost_user_send_queue *q, int sock, uint32_t request, uint64_t value,
		      const int *fds, unsigned nfds)
{
	struct vhost_user_header hdr = {
	    .request = request, .flags = VHOST_USER_VERSION, .size = sizeof(value)};
	uint32_t failed = 0;

	ck_assert_int_eq(vhost_user_send_queue_add(q, sock, &hdr, &value, fds, nfds, NULL, &failed),
			 0);
}

/* Receives one message and checks its request, value and fd count. */
static void expect_u64(int sock, uint32_t request, uint64_t value, unsigned want_fds, int *fd)
{
	struct vhost_user_error e = {0};
	struct vhost_user_msg msg;
	unsigned nfds = 0;
	int fds[VHOST_USER_MAX_FDS];

	ck_assert_int_eq(vhost_user_recv(sock, &msg, fds, VHOST_USER_MAX_FDS, &nfds, 1000, &e), 0);
	ck_assert_uint_eq(msg.hdr.request, request);
	ck_assert_uint_eq(msg.payload.u64, value);
	ck_assert_uint_eq(nfds, want_fds);
	if (fd)
		*fd = nfds ? fds[0] : -1;
}

START_TEST(send_queue_writes_together_fds_start_a_write)
{
	struct vhost_user_send_queue *q = calloc(1, sizeof(*q));
	int sv[2], efd = eventfd(0, EFD_CLOEXEC), got_fd = -1;
	uint32_t failed = 0;
	uint64_t count = 0;

	make_pair(sv);
	queue_u64(q, sv[0], VHOST_USER_SET_VRING_NUM, 256, NULL, 0);
	queue_u64(q, sv[0], VHOST_USER_SET_VRING_BASE, 0, NULL, 0);
	ck_assert_int_eq(bytes_queued(sv[1]), 0); /* nothing written yet */
	/* A message with an fd sends the queue before it and starts the next write. */
	queue_u64(q, sv[0], VHOST_USER_SET_VRING_CALL, 0, &efd, 1);
	ck_assert_int_eq(bytes_queued(sv[1]), 2 * 20);
	queue_u64(q, sv[0], VHOST_USER_SET_VRING_ENABLE, 1, NULL, 0);
	ck_assert_int_eq(vhost_user_send_queue_flush(q, sv[0], NULL, &failed), 0);
	ck_assert_int_eq(bytes_queued(sv[1]), 4 * 20);
	expect_u64(sv[1], VHOST_USER_SET_VRING_NUM, 256, 0, NULL);
	expect_u64(sv[1], VHOST_USER_SET_VRING_BASE, 0, 0, NULL);
	expect_u64(sv[1], VHOST_USER_SET_VRING_CALL, 0, 1, &got_fd);
	expect_u64(sv[1], VHOST_USER_SET_VRING_ENABLE, 1, 0, NULL);
	/* The fd arrived with its own message and is the same eventfd. */
	ck_assert_int_eq(eventfd_write(got_fd, 7), 0);
	ck_assert_int_eq(eventfd_read(efd, &count), 0);
	ck_assert_uint_eq(count, 7);
	close(got_fd);
	close(efd);
	close(sv[0]);
	close(sv[1]);
	free(q);
}
END_TEST

START_TEST(send_queue_full_sends_and_failure_names_first)
{
	struct vhost_user_send_queue *q = calloc(1, sizeof(*q));
	unsigned per_write = VHOST_USER_SEND_QUEUE_BYTES / 20, n = per_write + 3;
	uint32_t failed = 0;
	int sv[2];

	make_pair(sv);
	for (unsigned i = 0; i < n; i++)
		queue_u64(q, sv[0], VHOST_USER_SET_VRING_NUM, i, NULL, 0);
	ck_assert_int_eq(bytes_queued(sv[1]), (int)(per_write * 20));
	ck_assert_int_eq(vhost_user_send_queue_flush(q, sv[0], NULL, &failed), 0);
	for (unsigned i = 0; i < n; i++)
		expect_u64(sv[1], VHOST_USER_SET_VRING_NUM, i, 0, NULL);
	/* Empty: a flush sends nothing and succeeds. */
	ck_assert_int_eq(vhost_user_send_queue_flush(q, sv[0], NULL, &failed), 0);
	close(sv[1]);
	queue_u64(q, sv[0], VHOST_USER_SET_VRING_ADDR, 1, NULL, 0);
	queue_u64(q, sv[0], VHOST_USER_SET_VRING_BASE, 2, NULL, 0);
	ck_assert_int_eq(vhost_user_send_queue_flush(q, sv[0], NULL, &failed), -EPIPE);
	ck_assert_uint_eq(failed, VHOST_USER_SET_VRING_ADDR);
	ck_assert_uint_eq(q->len, 0);
	close(sv[0]);
	free(q);
}
END_TEST

START_TEST(error_text_names_everything)
{
	struct vhost_user_error e = {.err = -EPROTO,
				     .request = VHOST_USER_GET_VRING_BASE,
				     .field = "size",
				     .expected = 8,
				     .got = 4,
				     .has_values = true};
	char buf[256];

	ck_assert_str_eq(vhost_user_format_error(buf, sizeof(buf), "blk0", &e),
			 "blk0: GET_VRING_BASE: size: expected 8, got 4");
	e.field = "flags";
	e.hex = true;
	e.expected = 5;
	e.got = 1;
	ck_assert_str_eq(vhost_user_format_error(buf, sizeof(buf), "fs0", &e),
			 "fs0: GET_VRING_BASE: flags: expected 0x5, got 0x1");
	e.hex = false;
	e.field = "size";
	e.expected = 12;
	e.expected_max = 72;
	e.got = 200;
	ck_assert_str_eq(vhost_user_format_error(buf, sizeof(buf), "blk0", &e),
			 "blk0: GET_VRING_BASE: size: expected 12..72, got 200");
	e = (struct vhost_user_error){
	    .err = -ETIMEDOUT, .request = VHOST_USER_GET_FEATURES, .field = "timeout"};
	vhost_user_format_error(buf, sizeof(buf), "net0", &e);
	ck_assert_ptr_nonnull(strstr(buf, "net0: GET_FEATURES: timeout: "));
}
END_TEST

START_TEST(names)
{
	ck_assert_str_eq(vhost_user_request_name(VHOST_USER_SET_VRING_KICK), "SET_VRING_KICK");
	ck_assert_str_eq(vhost_user_request_name(VHOST_USER_GET_SHMEM_CONFIG), "GET_SHMEM_CONFIG");
	ck_assert_str_eq(vhost_user_request_name(0), "UNKNOWN");
	ck_assert_str_eq(vhost_user_request_name(9999), "UNKNOWN");
	ck_assert_str_eq(vhost_user_backend_request_name(VHOST_USER_BACKEND_SHMEM_MAP),
			 "BACKEND_SHMEM_MAP");
	ck_assert_str_eq(vhost_user_protocol_feature_name(VHOST_USER_PROTOCOL_F_STATUS), "STATUS");
	ck_assert_uint_eq(sizeof(struct vhost_user_header), 12);
	ck_assert_uint_eq(sizeof(struct vhost_user_vring_addr), 40);
	ck_assert_uint_eq(VHOST_USER_MEMORY_SIZE(1), 40);
	ck_assert_uint_eq(sizeof(struct vhost_user_single_region), 40);
	ck_assert_uint_eq(sizeof(struct vhost_user_inflight), 24);
	ck_assert_uint_eq(sizeof(struct vhost_user_shmem_map), 40);
}
END_TEST

/* A request the frontend sends, and the payload size it sends it with. */
struct sent_request {
	uint32_t request;
	uint32_t size;
};

static void assert_fixed(const struct vhost_user_size *size, uint32_t bytes, uint32_t request)
{
	ck_assert_msg(size->min == bytes && size->max == bytes, "%s: %u..%u, want %u",
		      vhost_user_request_name(request), size->min, size->max, bytes);
}

START_TEST(table_covers_every_request_the_frontend_sends)
{
	const uint32_t state = sizeof(struct vhost_user_vring_state);
	const struct sent_request sent[] = {
	    {VHOST_USER_GET_FEATURES, 0},
	    {VHOST_USER_SET_FEATURES, sizeof(uint64_t)},
	    {VHOST_USER_SET_OWNER, 0},
	    {VHOST_USER_GET_PROTOCOL_FEATURES, 0},
	    {VHOST_USER_SET_PROTOCOL_FEATURES, sizeof(uint64_t)},
	    {VHOST_USER_GET_QUEUE_NUM, 0},
	    {VHOST_USER_SET_BACKEND_REQ_FD, 0},
	    {VHOST_USER_SET_VRING_NUM, state},
	    {VHOST_USER_SET_VRING_ADDR, sizeof(struct vhost_user_vring_addr)},
	    {VHOST_USER_SET_VRING_BASE, state},
	    {VHOST_USER_GET_VRING_BASE, state},
	    {VHOST_USER_SET_VRING_KICK, sizeof(uint64_t)},
	    {VHOST_USER_SET_VRING_CALL, sizeof(uint64_t)},
	    {VHOST_USER_SET_VRING_ENABLE, state},
	    {VHOST_USER_SET_STATUS, sizeof(uint64_t)},
	    {VHOST_USER_GET_STATUS, 0},
	    {VHOST_USER_RESET_DEVICE, 0},
	    {VHOST_USER_GPU_SET_SOCKET, 0},
	    {VHOST_USER_GET_SHMEM_CONFIG, 0},
	};
	unsigned i;

	for (i = 0; i < ARRAY_SIZE(sent); i++) {
		const struct vhost_user_msg_info *info = vhost_user_request_info(sent[i].request);

		ck_assert_msg(info != NULL, "request %u has no table entry", sent[i].request);
		ck_assert_str_eq(info->name, vhost_user_request_name(sent[i].request));
		assert_fixed(&info->size, sent[i].size, sent[i].request);
	}
	for (i = 1; i < VHOST_USER_REQUEST_MAX; i++)
		ck_assert_ptr_nonnull(vhost_user_request_info(i));
	for (i = 1; i < VHOST_USER_BACKEND_REQUEST_MAX; i++)
		ck_assert_ptr_nonnull(vhost_user_backend_request_info(i));
	for (i = 1; i < GPU_DISPLAY_REQUEST_MAX; i++)
		ck_assert_ptr_nonnull(vhost_user_gpu_msg_info(i));
	ck_assert_ptr_null(vhost_user_request_info(0));
	ck_assert_ptr_null(vhost_user_request_info(VHOST_USER_REQUEST_MAX));
	ck_assert_ptr_null(vhost_user_gpu_msg_info(GPU_DISPLAY_REQUEST_MAX));
}
END_TEST

START_TEST(table_sizes_match_the_wire_structs)
{
	const struct vhost_user_msg_info *mem = vhost_user_request_info(VHOST_USER_SET_MEM_TABLE);
	const struct vhost_user_msg_info *cfg = vhost_user_request_info(VHOST_USER_GET_CONFIG);
	const struct vhost_user_msg_info *shm =
	    vhost_user_request_info(VHOST_USER_GET_SHMEM_CONFIG);
	const struct vhost_user_msg_info *update = vhost_user_gpu_msg_info(GPU_DISPLAY_UPDATE);
	struct vhost_user_reply_spec spec;

	ck_assert_uint_eq(mem->size.min, VHOST_USER_MEMORY_SIZE(0));
	ck_assert_uint_eq(mem->size.max, sizeof(struct vhost_user_memory));
	ck_assert_uint_eq(cfg->size.min, VHOST_USER_CONFIG_HDR_SIZE);
	ck_assert_uint_eq(cfg->reply.max, sizeof(struct vhost_user_config));
	ck_assert(cfg->has_reply);
	ck_assert_uint_eq(shm->reply.max, sizeof(struct vhost_user_shmem_config));
	assert_fixed(&vhost_user_request_info(VHOST_USER_ADD_MEM_REG)->size,
		     sizeof(struct vhost_user_single_region), VHOST_USER_ADD_MEM_REG);
	assert_fixed(&vhost_user_request_info(VHOST_USER_SET_LOG_BASE)->size,
		     sizeof(struct vhost_user_log), VHOST_USER_SET_LOG_BASE);
	assert_fixed(&vhost_user_backend_request_info(VHOST_USER_BACKEND_SHMEM_MAP)->size,
		     sizeof(struct vhost_user_shmem_map), 0);
	assert_fixed(&vhost_user_backend_request_info(VHOST_USER_BACKEND_VRING_CALL)->size,
		     sizeof(struct vhost_user_vring_state), 0);
	assert_fixed(
	    &vhost_user_backend_request_info(VHOST_USER_BACKEND_VRING_HOST_NOTIFIER_MSG)->size,
	    sizeof(struct vhost_user_vring_area), 0);
	assert_fixed(&vhost_user_gpu_msg_info(GPU_DISPLAY_CURSOR_UPDATE)->size,
		     sizeof(struct gpu_display_cursor_update), 0);
	assert_fixed(&vhost_user_gpu_msg_info(GPU_DISPLAY_DMABUF_SCANOUT)->size,
		     sizeof(struct gpu_display_dmabuf_scanout), 0);
	ck_assert_uint_eq(update->size.min, sizeof(struct gpu_display_update));
	ck_assert_uint_gt(update->size.max, update->size.min);
	/* Replies: GET_* answer with their own payload, everything else with the ack u64. */
	spec = vhost_user_reply_spec_of(VHOST_USER_GET_VRING_BASE);
	ck_assert_uint_eq(spec.min_size, sizeof(struct vhost_user_vring_state));
	ck_assert_uint_eq(spec.max_size, sizeof(struct vhost_user_vring_state));
	spec = vhost_user_reply_spec_of(VHOST_USER_SET_VRING_ADDR);
	ck_assert_uint_eq(spec.min_size, VHOST_USER_ACK_SIZE);
	ck_assert_uint_eq(spec.max_size, VHOST_USER_ACK_SIZE);
	ck_assert_uint_eq(spec.request, VHOST_USER_SET_VRING_ADDR);
}
END_TEST

static Suite *wire_suite(void)
{
	Suite *s = suite_create("vhost_user_wire");
	TCase *tc = tcase_create("wire");

	tcase_add_test(tc, good_u64_reply_parses);
	tcase_add_test(tc, bad_replies_rejected);
	tcase_add_test(tc, bounded_size_accepted_within_range);
	tcase_add_test(tc, timeout_fires);
	tcase_add_test(tc, hangup_detected);
	tcase_add_test(tc, hangup_mid_message);
	tcase_add_test(tc, oversize_payload_rejected);
	tcase_add_test(tc, partial_reads_reassemble);
	tcase_add_test(tc, fds_travel_and_are_not_leaked);
	tcase_add_test(tc, too_many_fds_closed);
	tcase_add_test(tc, send_queue_writes_together_fds_start_a_write);
	tcase_add_test(tc, send_queue_full_sends_and_failure_names_first);
	tcase_add_test(tc, error_text_names_everything);
	tcase_add_test(tc, names);
	tcase_add_test(tc, table_covers_every_request_the_frontend_sends);
	tcase_add_test(tc, table_sizes_match_the_wire_structs);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(wire_suite)
