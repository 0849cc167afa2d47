/*
 * A vhost-user-blk back-end that misbehaves on purpose, one case per run:
 *   hostile-backend --socket PATH --case NAME [--at REQUEST|io] [--after-io N]
 *   hostile-backend --list | --table
 * It behaves (a 1 MiB RAM disk, blkio.c) until the trigger request (the
 * case's startup trigger unless --at names another, by name or number)
 * arrives, then does the case's misdeed once and carries on behaving. With
 * --after-io N the trigger is armed only once N disk requests completed: a
 * GET_CONFIG trigger is then provoked by a config-change message, and
 * `--at io` fires a back-end channel misdeed right there. It serves one
 * connection and exits.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <linux/virtio_config.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "tests/hostile/blkio.h"
#include "tests/hostile/cases.h"
#include "vhost_user/wire.h"
#include "vmm/unix_socket.h"
#include "vmm/util.h"

#define BLK_FEATURES (BIT(2) | BIT(6) | BIT(9)) /* SEG_MAX, BLK_SIZE, FLUSH */
#define BLK_F_CONFIG_WCE 11
#define PROTOCOL                                                                                   \
	(BIT(VHOST_USER_PROTOCOL_F_MQ) | BIT(VHOST_USER_PROTOCOL_F_REPLY_ACK) |                    \
	 BIT(VHOST_USER_PROTOCOL_F_BACKEND_REQ) | BIT(VHOST_USER_PROTOCOL_F_CONFIG) |              \
	 BIT(VHOST_USER_PROTOCOL_F_STATUS))
#define MAX_RINGS 8
#define MANY_FDS 24
#define IDLE_TIMEOUT_MS 120000 /* never outlive a test that forgot us */
#define AT_IO 1000u	       /* --at io: the pseudo-request "N disk requests completed" */

struct backend {
	int sock;
	int channel;
	const struct hostile_case *hc;
	uint32_t trigger;
	bool fired;
	uint64_t after_io; /* the trigger is armed once this many disk requests completed */
	bool armed;
	uint16_t bases[MAX_RINGS];
	uint64_t status;
	bool seen_mem_table;
	bool dribbling; /* ACT_ACK_DRIBBLE fired: every reply from now on */
	struct blkio *io;
};

static void pause_ms(unsigned ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};

	nanosleep(&ts, NULL);
}

/* Raw sendmsg with any number of fds (vhost_user_send caps them at 8). */
static int send_raw(int sock, const void *buf, size_t len, const int *fds, unsigned nfds)
{
	char control[CMSG_SPACE(sizeof(int) * MANY_FDS)];
	struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};

	if (nfds > MANY_FDS)
		return -EINVAL;
	vhost_user_attach_fds(&mh, control, fds, nfds);
	return sendmsg(sock, &mh, MSG_NOSIGNAL) < 0 ? -errno : 0;
}

/*
 * The wire bytes of m: header then payload (in the struct, padding sits
 * between them). At most the payload buffer, whatever hdr.size claims.
 */
static size_t flatten(const struct vhost_user_msg *m, uint8_t *buf)
{
	size_t size = m->hdr.size < sizeof(m->payload) ? m->hdr.size : sizeof(m->payload);

	memcpy(buf, &m->hdr, sizeof(m->hdr));
	memcpy(buf + sizeof(m->hdr), &m->payload, size);
	return sizeof(m->hdr) + size;
}

/* Sends a message with n fds opened on /dev/null, then closes our copies. */
static int send_with_fds(int sock, const struct vhost_user_msg *m, unsigned n)
{
	uint8_t wire[sizeof(*m)];
	int fds[MANY_FDS] = {0};
	unsigned i;
	int err;

	for (i = 0; i < n; i++)
		fds[i] = open("/dev/null", O_RDONLY | O_CLOEXEC);
	err = send_raw(sock, wire, flatten(m, wire), fds, n);
	for (i = 0; i < n; i++)
		close(fds[i]);
	return err;
}

static void send_msg(int sock, const struct vhost_user_msg *m)
{
	vhost_user_send(sock, &m->hdr, &m->payload, NULL, 0);
}

static void fill_config(struct vhost_user_msg *reply, const struct vhost_user_msg *req)
{
	uint32_t size = req->hdr.size >= VHOST_USER_CONFIG_HDR_SIZE ? req->payload.config.size : 0;
	uint64_t capacity = 2048;
	uint32_t blk_size = 512;

	if (size > VHOST_USER_CONFIG_MAX)
		size = 0;
	reply->payload.config.offset = 0;
	reply->payload.config.size = size;
	reply->payload.config.flags = 0;
	memset(reply->payload.config.region, 0, size);
	if (size >= 8)
		memcpy(reply->payload.config.region, &capacity, 8);
	if (size >= 24)
		memcpy(reply->payload.config.region + 20, &blk_size, 4);
	reply->hdr.size = VHOST_USER_CONFIG_HDR_SIZE + size;
}

/* What a well-behaved back-end answers; false when the request has no reply. */
static bool normal_reply(struct backend *b, const struct vhost_user_msg *req,
			 struct vhost_user_msg *reply)
{
	uint32_t r = req->hdr.request;

	memset(&reply->hdr, 0, sizeof(reply->hdr));
	reply->hdr.request = r;
	reply->hdr.flags = VHOST_USER_VERSION | VHOST_USER_FLAG_REPLY;
	reply->hdr.size = 8;
	switch (r) {
	case VHOST_USER_GET_FEATURES:
		reply->payload.u64 =
		    BIT(VIRTIO_F_VERSION_1) | BIT(VHOST_USER_F_PROTOCOL_FEATURES) | BLK_FEATURES;
		/* A writable cache mode lets a booted guest send SET_CONFIG. */
		if (b->hc->action == ACT_STOP_READING)
			reply->payload.u64 |= BIT(BLK_F_CONFIG_WCE);
		return true;
	case VHOST_USER_GET_PROTOCOL_FEATURES:
		reply->payload.u64 = PROTOCOL;
		if (b->hc->action == ACT_STOP_READING)
			reply->payload.u64 &= ~BIT(VHOST_USER_PROTOCOL_F_REPLY_ACK);
		if (b->hc->action == ACT_SHMEM_HUGE)
			reply->payload.u64 |= BIT(VHOST_USER_PROTOCOL_F_SHMEM);
		return true;
	case VHOST_USER_GET_QUEUE_NUM:
		reply->payload.u64 = 1;
		return true;
	case VHOST_USER_GET_STATUS:
		reply->payload.u64 = b->status;
		return true;
	case VHOST_USER_GET_CONFIG:
		fill_config(reply, req);
		return true;
	case VHOST_USER_GET_SHMEM_CONFIG: /* asked when the protocol feature is acked */
		reply->hdr.size = offsetof(struct vhost_user_shmem_config, memory_sizes);
		reply->payload.shmem_config.nregions = 0;
		reply->payload.shmem_config.padding = 0;
		return true;
	case VHOST_USER_GET_VRING_BASE:
		reply->hdr.size = sizeof(struct vhost_user_vring_state);
		reply->payload.state.index = req->payload.state.index;
		reply->payload.state.num = b->bases[req->payload.state.index % MAX_RINGS];
		return true;
	}
	reply->payload.u64 = 0;
	return req->hdr.flags & VHOST_USER_FLAG_NEED_REPLY;
}

/* Remembers the state later replies depend on; keeps the channel fd. */
static void absorb(struct backend *b, const struct vhost_user_msg *m, int *fds, unsigned *nfds)
{
	uint16_t base;

	if (m->hdr.request == VHOST_USER_SET_BACKEND_REQ_FD && *nfds == 1) {
		struct timeval two_s = {.tv_sec = 2};

		if (b->channel >= 0)
			close(b->channel);
		b->channel = fds[0];
		/* A frontend that stops reading must not wedge us for ever. */
		setsockopt(b->channel, SOL_SOCKET, SO_SNDTIMEO, &two_s, sizeof(two_s));
		*nfds = 0;
	}
	base = blkio_absorb(b->io, m, fds, *nfds);
	vhost_user_close_fds(fds, *nfds);
	if (m->hdr.request == VHOST_USER_GET_VRING_BASE)
		b->bases[m->payload.state.index % MAX_RINGS] = base;
	if (m->hdr.request == VHOST_USER_SET_VRING_BASE)
		b->bases[m->payload.state.index % MAX_RINGS] = (uint16_t)m->payload.state.num;
	if (m->hdr.request == VHOST_USER_SET_STATUS)
		b->status = m->payload.u64;
}

/* Sends the bytes of m one at a time, pausing between them. */
static void dribble(int sock, const struct vhost_user_msg *m, unsigned pause)
{
	uint8_t p[sizeof(*m)];
	size_t i, n = flatten(m, p);

	for (i = 0; i < n; i++) {
		if (send(sock, p + i, 1, MSG_NOSIGNAL) != 1)
			return;
		pause_ms(pause);
	}
}

/* Malformed replies. Returns false when the connection should end. */
static bool misreply(struct backend *b, struct vhost_user_msg *reply)
{
	struct vhost_user_msg extra;

	switch (b->hc->action) {
	case ACT_BAD_VERSION:
		reply->hdr.flags = 0x2 | VHOST_USER_FLAG_REPLY;
		break;
	case ACT_NO_REPLY_FLAG:
		reply->hdr.flags = VHOST_USER_VERSION;
		break;
	case ACT_EXTRA_FLAGS:
		reply->hdr.flags |= VHOST_USER_FLAG_NEED_REPLY | 0x100;
		break;
	case ACT_WRONG_REQUEST:
		reply->hdr.request = reply->hdr.request == VHOST_USER_GET_FEATURES
					 ? VHOST_USER_GET_PROTOCOL_FEATURES
					 : VHOST_USER_GET_FEATURES;
		break;
	case ACT_SIZE_SMALL:
		reply->hdr.size = reply->hdr.size >= 4 ? reply->hdr.size - 4 : 0;
		break;
	case ACT_SIZE_LARGE:
		reply->hdr.size += 8;
		break;
	case ACT_SIZE_OVER_LIMIT:
		reply->hdr.size = VHOST_USER_PAYLOAD_MAX + 1;
		send_raw(b->sock, reply, sizeof(reply->hdr), NULL, 0);
		send_raw(b->sock, reply->payload.raw, VHOST_USER_PAYLOAD_MAX, NULL, 0);
		send_raw(b->sock, "x", 1, NULL, 0);
		return true;
	case ACT_SIZE_HUGE:
		reply->hdr.size = 0xffffffffu;
		send_raw(b->sock, reply, sizeof(reply->hdr), NULL, 0);
		send_raw(b->sock, reply->payload.raw, 64, NULL, 0);
		return true;
	case ACT_SPLIT:
		dribble(b->sock, reply, 5);
		return true;
	case ACT_SPLIT_SLOW:
		dribble(b->sock, reply, 60);
		return true;
	case ACT_FD_ATTACHED:
		send_with_fds(b->sock, reply, 1);
		return true;
	case ACT_MANY_FDS:
		send_with_fds(b->sock, reply, MANY_FDS);
		return true;
	case ACT_SILENT:
		return true;
	case ACT_CLOSE:
		return false;
	case ACT_CLOSE_MID_HEADER:
		send_raw(b->sock, reply, 6, NULL, 0);
		return false;
	case ACT_CLOSE_MID_PAYLOAD:
		send_raw(b->sock, reply, sizeof(reply->hdr), NULL, 0);
		send_raw(b->sock, reply->payload.raw, 2, NULL, 0);
		return false;
	case ACT_DOUBLE_REPLY:
		send_msg(b->sock, reply);
		break;
	case ACT_STRAY_FIRST:
		extra = *reply;
		extra.hdr.request = 99;
		send_msg(b->sock, &extra);
		break;
	case ACT_NACK:
		reply->payload.u64 = 1;
		break;
	default:
		break;
	}
	send_msg(b->sock, reply);
	return true;
}

/* Well-formed replies with absurd values. */
static void misvalue(struct backend *b, struct vhost_user_msg *reply)
{
	switch (b->hc->action) {
	case ACT_NO_VERSION_1:
		reply->payload.u64 &= ~BIT(VIRTIO_F_VERSION_1);
		break;
	case ACT_ALL_FEATURES:
	case ACT_ALL_PROTOCOL:
		reply->payload.u64 = ~0ull;
		break;
	case ACT_QUEUE_NUM_0:
		reply->payload.u64 = 0;
		break;
	case ACT_QUEUE_NUM_65536:
		reply->payload.u64 = 65536;
		break;
	case ACT_QUEUE_NUM_HUGE:
		reply->payload.u64 = ~0ull;
		break;
	case ACT_CONFIG_EMPTY:
		reply->hdr.size = 0;
		break;
	case ACT_CONFIG_HDR_ONLY:
		reply->hdr.size = VHOST_USER_CONFIG_HDR_SIZE;
		reply->payload.config.size = 0;
		break;
	case ACT_CONFIG_SIZE_FIELD:
		reply->payload.config.size = 8;
		break;
	case ACT_CONFIG_OVERSIZE:
		reply->payload.config.size = VHOST_USER_CONFIG_MAX;
		reply->hdr.size = VHOST_USER_CONFIG_HDR_SIZE + VHOST_USER_CONFIG_MAX;
		break;
	case ACT_VRING_BASE_INDEX:
		reply->payload.state.index = 7;
		break;
	case ACT_VRING_BASE_AHEAD:
		reply->payload.state.num += 500;
		break;
	case ACT_VRING_BASE_32BIT:
		reply->payload.state.num = 0x10000;
		break;
	case ACT_STATUS_RANGE:
		reply->payload.u64 = 0x1ff;
		break;
	default:
		break;
	}
	send_msg(b->sock, reply);
}

static void channel_msg(struct backend *b, uint32_t request, uint32_t flags, uint32_t size,
			unsigned nfds)
{
	struct vhost_user_msg m;

	memset(&m, 0, sizeof(m));
	m.hdr.request = request;
	m.hdr.flags = flags;
	m.hdr.size = size;
	send_with_fds(b->channel, &m, nfds);
}

/* Sends count CONFIG_CHANGE_MSGs; stops early if the frontend stops reading. */
static void flood(struct backend *b, unsigned count, uint32_t flags)
{
	struct vhost_user_header h = {VHOST_USER_BACKEND_CONFIG_CHANGE_MSG, flags, 0};
	unsigned i;

	for (i = 0; i < count; i++) {
		if (send_raw(b->channel, &h, sizeof(h), NULL, 0) < 0)
			break;
	}
	fprintf(stderr, "hostile-backend: flood: %u of %u sent\n", i, count);
}

/* A request that needs an answer, then wait for it before doing anything else. */
static void wait_for_ack(struct backend *b)
{
	struct vhost_user_error e = {0};
	struct vhost_user_msg m;
	int fds[VHOST_USER_MAX_FDS];
	unsigned nfds;

	channel_msg(b, VHOST_USER_BACKEND_CONFIG_CHANGE_MSG,
		    VHOST_USER_VERSION | VHOST_USER_FLAG_NEED_REPLY, 0, 0);
	if (vhost_user_recv(b->channel, &m, fds, VHOST_USER_MAX_FDS, &nfds, 2000, &e) == 0)
		vhost_user_close_fds(fds, nfds);
	else
		fprintf(stderr, "hostile-backend: no answer on the channel\n");
}

static void channel_misdeed(struct backend *b)
{
	const uint32_t v = VHOST_USER_VERSION,
		       need = VHOST_USER_VERSION | VHOST_USER_FLAG_NEED_REPLY;
	struct vhost_user_msg m = {{VHOST_USER_BACKEND_VRING_CALL, need, 8}, {.u64 = 0}};
	uint8_t garbage[64];
	unsigned i;

	if (b->channel < 0)
		return;
	switch (b->hc->action) {
	case ACT_CH_GARBAGE:
		for (i = 0; i < sizeof(garbage); i++)
			garbage[i] = (uint8_t[]){0xde, 0xad, 0xbe, 0xef}[i % 4];
		send_raw(b->channel, garbage, sizeof(garbage), NULL, 0);
		break;
	case ACT_CH_BAD_FLAGS:
		channel_msg(b, VHOST_USER_BACKEND_CONFIG_CHANGE_MSG, 0x5, 0, 0);
		break;
	case ACT_CH_UNKNOWN:
		channel_msg(b, 99, need, 0, 0);
		break;
	case ACT_CH_FDS:
		channel_msg(b, VHOST_USER_BACKEND_VRING_CALL, v, 8, 3);
		break;
	case ACT_CH_TOO_MANY_FDS:
		channel_msg(b, VHOST_USER_BACKEND_CONFIG_CHANGE_MSG, v, 0, MANY_FDS);
		break;
	case ACT_CH_OVERSIZE:
		channel_msg(b, VHOST_USER_BACKEND_CONFIG_CHANGE_MSG, v, 0x10000, 0);
		break;
	case ACT_CH_CLOSE_MID:
		send_raw(b->channel, &m, 6, NULL, 0);
		close(b->channel);
		b->channel = -1;
		break;
	case ACT_CH_BAD_INDEX:
		m.payload.state.index = 200;
		send_msg(b->channel, &m);
		break;
	case ACT_CH_SHMEM_NO_FD:
		channel_msg(b, VHOST_USER_BACKEND_SHMEM_MAP, v, sizeof(struct vhost_user_shmem_map),
			    0);
		break;
	case ACT_CH_FLOOD:
		flood(b, 20000, v);
		break;
	case ACT_CH_FLOOD_ACK:
		flood(b, 20000, need);
		break;
	case ACT_CH_WAIT_FOR_ACK:
		wait_for_ack(b);
		break;
	default:
		break;
	}
}

static bool is_trigger(const struct backend *b, const struct vhost_user_msg *m)
{
	if (b->fired || !b->armed || m->hdr.request != b->trigger)
		return false;
	/* SET_VRING_ENABLE triggers when a ring is enabled, not on the way down. */
	return m->hdr.request != VHOST_USER_SET_VRING_ENABLE || m->payload.state.num == 1;
}

/* Whole-connection misdeeds at the trigger. Returns false when the connection should end. */
static bool misbehave(struct backend *b, struct vhost_user_msg *reply, bool has_reply)
{
	switch (b->hc->action) {
	case ACT_STOP_READING:
		/* Frozen as a stopped or deadlocked process is; the driver kills us. */
		for (;;)
			pause_ms(1000);
	case ACT_ACK_DRIBBLE:
		b->dribbling = true;
		break;
	case ACT_SHMEM_HUGE:
		reply->payload.shmem_config.nregions = 1;
		reply->payload.shmem_config.memory_sizes[0] = 0x8000000000001000ull;
		reply->hdr.size = offsetof(struct vhost_user_shmem_config, memory_sizes) + 8;
		break;
	case ACT_ORDER_CHECK:
		if (!b->seen_mem_table) {
			fprintf(stderr, "hostile-backend: GPU_SET_SOCKET before SET_MEM_TABLE\n");
			return false;
		}
		break;
	default:
		break;
	}
	if (has_reply)
		b->dribbling ? dribble(b->sock, reply, 12) : send_msg(b->sock, reply);
	return true;
}

/* Serves one request. Returns false when the connection should end. */
static bool serve(struct backend *b, const struct vhost_user_msg *req)
{
	struct vhost_user_msg reply;
	bool has_reply = normal_reply(b, req, &reply);

	b->seen_mem_table |= req->hdr.request == VHOST_USER_SET_MEM_TABLE;
	if (b->dribbling && has_reply) {
		dribble(b->sock, &reply, 12);
		return true;
	}
	if (!is_trigger(b, req)) {
		if (has_reply)
			send_msg(b->sock, &reply);
		return true;
	}
	b->fired = true;
	fprintf(stderr, "hostile-backend: case %s at %s\n", b->hc->name,
		vhost_user_request_name(req->hdr.request));
	if (b->hc->action >= ACT_STOP_READING)
		return misbehave(b, &reply, has_reply);
	if (b->hc->action >= ACT_CH_GARBAGE) {
		channel_misdeed(b);
		if (has_reply)
			send_msg(b->sock, &reply);
		return true;
	}
	if (!has_reply)
		return true;
	if (b->hc->action >= ACT_NO_VERSION_1) {
		misvalue(b, &reply);
		return true;
	}
	return misreply(b, &reply);
}

static uint32_t parse_request(const char *text)
{
	uint32_t r;
	char *end;

	if (strcmp(text, "io") == 0)
		return AT_IO;
	for (r = 1; r < VHOST_USER_REQUEST_MAX; r++) {
		if (strcmp(vhost_user_request_name(r), text) == 0)
			return r;
	}
	r = (uint32_t)strtoul(text, &end, 0);
	return *end ? 0 : r;
}

/* Once enough disk requests completed: arms the trigger, and provokes or fires it. */
static void arm(struct backend *b)
{
	if (b->armed || b->io->completed < b->after_io)
		return;
	b->armed = true;
	fprintf(stderr, "hostile-backend: armed after %llu disk requests\n",
		(unsigned long long)b->io->completed);
	if (b->trigger == AT_IO) {
		b->fired = true;
		fprintf(stderr, "hostile-backend: case %s after disk I/O\n", b->hc->name);
		channel_misdeed(b);
	} else if (b->trigger == VHOST_USER_GET_CONFIG && b->channel >= 0) {
		/* The driver re-reads its config space on the change: GET_CONFIG follows. */
		channel_msg(b, VHOST_USER_BACKEND_CONFIG_CHANGE_MSG, VHOST_USER_VERSION, 0, 0);
	}
}

/* Serves the front-end's requests and the rings' kicks until hang-up or idleness. */
static void run(struct backend *b)
{
	struct vhost_user_error e = {0};
	struct vhost_user_msg m;
	struct pollfd pfds[1 + BLKIO_RINGS];
	int fds[VHOST_USER_MAX_FDS];
	unsigned which[BLKIO_RINGS], nkicks, nfds, i;

	for (;;) {
		pfds[0] = (struct pollfd){.fd = b->sock, .events = POLLIN};
		nkicks = blkio_poll_set(b->io, pfds + 1, which, BLKIO_RINGS);
		if (poll(pfds, 1 + nkicks, IDLE_TIMEOUT_MS) <= 0)
			return;
		for (i = 0; i < nkicks; i++)
			if (pfds[1 + i].revents)
				blkio_serve(b->io, which[i]);
		arm(b);
		if (!pfds[0].revents)
			continue;
		if (vhost_user_recv(b->sock, &m, fds, VHOST_USER_MAX_FDS, &nfds, IDLE_TIMEOUT_MS,
				    &e) != 0)
			return;
		absorb(b, &m, fds, &nfds);
		if (!serve(b, &m))
			return;
		/* Requests made available before the ring was enabled. */
		if (m.hdr.request == VHOST_USER_SET_VRING_ENABLE)
			blkio_serve(b->io, m.payload.state.index % BLKIO_RINGS);
	}
}

static int usage(const char *argv0)
{
	fprintf(stderr,
		"usage: %s --socket PATH --case NAME [--at REQUEST|io] [--after-io N]\n"
		"       %s --list | --table\n",
		argv0, argv0);
	return 2;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {{"socket", required_argument, NULL, 's'},
					     {"case", required_argument, NULL, 'c'},
					     {"at", required_argument, NULL, 'a'},
					     {"after-io", required_argument, NULL, 'n'},
					     {"list", no_argument, NULL, 'l'},
					     {"table", no_argument, NULL, 't'},
					     {NULL, 0, NULL, 0}};
	struct backend b = {.sock = -1, .channel = -1};
	const char *path = NULL, *at = NULL;
	int opt, listen_fd;
	unsigned i;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (opt == 's')
			path = optarg;
		else if (opt == 'c')
			b.hc = hostile_case_find(optarg);
		else if (opt == 'a')
			at = optarg;
		else if (opt == 'n')
			b.after_io = strtoull(optarg, NULL, 0);
		else if (opt == 't') {
			hostile_print_table();
			return 0;
		} else if (opt == 'l') {
			for (i = 0; i < hostile_ncases; i++)
				printf("%s\n", hostile_cases[i].name);
			return 0;
		} else
			return usage(argv[0]);
	}
	if (!path || !b.hc)
		return usage(argv[0]);
	b.trigger = at ? parse_request(at) : b.hc->startup_at;
	if (b.trigger == 0 || (b.trigger == AT_IO && b.hc->action < ACT_CH_GARBAGE))
		return usage(argv[0]);
	if (b.trigger == AT_IO && b.after_io == 0)
		b.after_io = 1;
	b.armed = b.after_io == 0;
	b.io = malloc(sizeof(*b.io));
	if (!b.io)
		return 1;
	blkio_init(b.io);
	listen_fd = unix_socket_listen(path, 1, 0);
	if (listen_fd < 0) {
		fprintf(stderr, "hostile-backend: %s: %s\n", path, strerror(-listen_fd));
		return 1;
	}
	b.sock = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
	close(listen_fd);
	unlink(path);
	if (b.sock < 0)
		return 1;
	run(&b);
	blkio_destroy(b.io);
	free(b.io);
	close(b.sock);
	if (b.channel >= 0)
		close(b.channel);
	return 0;
}
