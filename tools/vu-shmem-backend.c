/*
 * A vhost-user back-end with one VIRTIO shared-memory region, to exercise a
 * frontend's SHMEM support (no public back-end offers it). Device type 63
 * (PCI device id 0x107f; no driver claims it), one queue, no config.
 *
 *   vu-shmem-backend --socket PATH [--size BYTES] [--bad]
 *
 * Serves one connection. Right after answering GET_SHMEM_CONFIG it maps
 * MAP_LEN bytes of a memfd, filled with pattern words 0x53480000 + i, at
 * MAP_OFFSET of region 0 (SHMEM_MAP, read-write). Then, every 100 ms or on
 * a kick, it looks for GUEST_MAGIC at CHECK_OFFSET of that mapping; once
 * the guest (or test) wrote it, it prints "guest value seen" and sends
 * SHMEM_UNMAP. With --bad it first sends invalid requests (unknown shmid,
 * offset overflow, range outside, overlap, bad flags, unknown unmap) and
 * prints how many the frontend refused. Results go to stdout.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vhost_user/wire.h"
#include "vmm/unix_socket.h"

#define DEVICE_FEATURES ((1ull << 32) /* VERSION_1 */ | (1ull << VHOST_USER_F_PROTOCOL_FEATURES))
#define PROTOCOL_FEATURES                                                                          \
	((1ull << VHOST_USER_PROTOCOL_F_MQ) | (1ull << VHOST_USER_PROTOCOL_F_REPLY_ACK) |          \
	 (1ull << VHOST_USER_PROTOCOL_F_BACKEND_REQ) |                                             \
	 (1ull << VHOST_USER_PROTOCOL_F_BACKEND_SEND_FD) | (1ull << VHOST_USER_PROTOCOL_F_SHMEM))
#define MAP_OFFSET 0x100000ull
#define MAP_LEN 0x10000ull
#define MAP_FD_OFFSET 0x1000ull
#define CHECK_OFFSET 0x8000ull
#define GUEST_MAGIC 0x600df00du
#define PATTERN(i) (0x53480000u + (uint32_t)(i))

struct backend {
	int sock, backend_fd, kick_fd;
	uint64_t region_size;
	bool bad, mapped, unmapped;
	int memfd;
	uint32_t *memory; /* the memfd, as the guest sees it through the mapping */
};

/* Sends a back-end request with NEED_REPLY; returns the frontend's u64 answer or -errno. */
static int64_t backend_request(struct backend *b, uint32_t request,
			       const struct vhost_user_shmem_map *m, int fd)
{
	struct vhost_user_header hdr = {.request = request,
					.flags = VHOST_USER_VERSION | VHOST_USER_FLAG_NEED_REPLY,
					.size = sizeof(*m)};
	struct vhost_user_reply_spec spec = {.request = request, .min_size = 8, .max_size = 8};
	struct vhost_user_msg reply;
	struct vhost_user_error e;
	int err = vhost_user_send(b->backend_fd, &hdr, m, &fd, fd >= 0 ? 1 : 0);

	if (!err)
		err = vhost_user_recv_reply(b->backend_fd, &spec, &reply, NULL, 5000, &e);
	return err ? err : (int64_t)reply.payload.u64;
}

static int64_t send_map(struct backend *b, uint8_t id, uint64_t off, uint64_t len, uint64_t fd_off,
			uint64_t flags)
{
	struct vhost_user_shmem_map m = {
	    .shmid = id, .shm_offset = off, .len = len, .fd_offset = fd_off, .flags = flags};

	return backend_request(b, VHOST_USER_BACKEND_SHMEM_MAP, &m, b->memfd);
}

static int64_t send_unmap(struct backend *b, uint64_t off, uint64_t len)
{
	struct vhost_user_shmem_map m = {.shmid = 0, .shm_offset = off, .len = len};

	return backend_request(b, VHOST_USER_BACKEND_SHMEM_UNMAP, &m, -1);
}

/* Each request must be refused (non-zero reply); prints the tally. */
static void send_bad_requests(struct backend *b)
{
	int64_t r[8];
	unsigned i, refused = 0;

	r[0] = send_map(b, 7, 0, 0x1000, 0, 1);			      /* unknown shmid */
	r[1] = send_map(b, 0, UINT64_MAX - 0xfff, 0x2000, 0, 1);      /* offset + len wraps */
	r[2] = send_map(b, 0, b->region_size - 0x1000, 0x2000, 0, 1); /* past the end */
	r[3] = send_map(b, 0, 0, 0x1000, 0, 4);			      /* unknown flags */
	r[4] = send_map(b, 0, MAP_OFFSET - 0x1000, 0x2000, 0, 1);     /* overlaps the map */
	r[5] = send_unmap(b, 0x200000, 0x1000);			      /* nothing there */
	r[6] = send_map(b, 0, 0x800, 0x1000, 0, 1);		      /* unaligned */
	r[7] = send_map(b, 0, 0, 0x100000, 0x1000000, 1);	      /* past the file's end */
	for (i = 0; i < 8; i++) {
		printf("bad request %u: reply %" PRId64 "\n", i, r[i]);
		refused += r[i] > 0;
	}
	printf("bad requests: %u refused, %u accepted\n", refused, 8 - refused);
	fflush(stdout);
}

static int setup_memfd(struct backend *b)
{
	uint64_t i, size = MAP_FD_OFFSET + MAP_LEN;

	b->memfd = memfd_create("vu-shmem", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	/* The VMM maps only memfds that cannot shrink under the guest. */
	if (b->memfd < 0 || ftruncate(b->memfd, (off_t)size) < 0 ||
	    fcntl(b->memfd, F_ADD_SEALS, F_SEAL_SHRINK) < 0)
		return -errno;
	b->memory = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, b->memfd, 0);
	if (b->memory == MAP_FAILED)
		return -errno;
	for (i = 0; i < MAP_LEN / 4; i++)
		b->memory[MAP_FD_OFFSET / 4 + i] = PATTERN(i);
	return 0;
}

/* After GET_SHMEM_CONFIG: the frontend knows the region, so put something in it. */
static void map_pattern(struct backend *b)
{
	int64_t r;

	if (b->backend_fd < 0 || b->mapped)
		return;
	r = send_map(b, 0, MAP_OFFSET, MAP_LEN, MAP_FD_OFFSET, 1);
	b->mapped = r == 0;
	printf("SHMEM_MAP 0x%llx+0x%llx: reply %" PRId64 "\n", MAP_OFFSET, MAP_LEN, r);
	if (b->bad)
		send_bad_requests(b);
	fflush(stdout);
}

static void check_guest_value(struct backend *b)
{
	uint32_t v;

	if (!b->mapped || b->unmapped)
		return;
	v = __atomic_load_n(&b->memory[(MAP_FD_OFFSET + CHECK_OFFSET) / 4], __ATOMIC_ACQUIRE);
	if (v != GUEST_MAGIC)
		return;
	printf("guest value seen: 0x%x\n", v);
	printf("SHMEM_UNMAP: reply %" PRId64 "\n", send_unmap(b, MAP_OFFSET, MAP_LEN));
	b->unmapped = true;
	fflush(stdout);
}

static void reply_u64(struct backend *b, uint32_t request, uint64_t value)
{
	struct vhost_user_header hdr = {.request = request,
					.flags = VHOST_USER_VERSION | VHOST_USER_FLAG_REPLY,
					.size = sizeof(value)};

	vhost_user_send(b->sock, &hdr, &value, NULL, 0);
}

static void reply_shmem_config(struct backend *b)
{
	struct vhost_user_shmem_config cfg = {.nregions = 1};
	struct vhost_user_header hdr = {.request = VHOST_USER_GET_SHMEM_CONFIG,
					.flags = VHOST_USER_VERSION | VHOST_USER_FLAG_REPLY,
					.size = sizeof(cfg)};

	cfg.memory_sizes[0] = b->region_size;
	vhost_user_send(b->sock, &hdr, &cfg, NULL, 0);
}

/* Serves one front-end request; returns false when the connection is over. */
static bool serve(struct backend *b)
{
	struct vhost_user_msg msg;
	struct vhost_user_error e;
	int fds[VHOST_USER_MAX_FDS];
	unsigned nfds = 0;
	uint32_t req;

	if (vhost_user_recv(b->sock, &msg, fds, VHOST_USER_MAX_FDS, &nfds, -1, &e) != 0)
		return false;
	req = msg.hdr.request;
	switch (req) {
	case VHOST_USER_GET_FEATURES:
		reply_u64(b, req, DEVICE_FEATURES);
		return true;
	case VHOST_USER_GET_PROTOCOL_FEATURES:
		reply_u64(b, req, PROTOCOL_FEATURES);
		return true;
	case VHOST_USER_GET_QUEUE_NUM:
		reply_u64(b, req, 1);
		return true;
	case VHOST_USER_GET_VRING_BASE:
		reply_u64(b, req, 0);
		return true;
	case VHOST_USER_GET_SHMEM_CONFIG:
		reply_shmem_config(b);
		map_pattern(b);
		return true;
	case VHOST_USER_SET_BACKEND_REQ_FD:
		if (nfds == 1)
			b->backend_fd = fds[--nfds];
		break;
	case VHOST_USER_SET_VRING_KICK:
		if (nfds == 1)
			b->kick_fd = fds[--nfds];
		break;
	}
	vhost_user_close_fds(fds, nfds);
	if (msg.hdr.flags & VHOST_USER_FLAG_NEED_REPLY)
		reply_u64(b, req, 0);
	return true;
}

/* Waits for the one front-end this back-end serves; the socket file goes once it is in. */
static int accept_one(const char *path)
{
	int lsock = unix_socket_listen(path, 1, 0), sock;

	if (lsock < 0) {
		fprintf(stderr, "vu-shmem-backend: %s: %s\n", path, strerror(-lsock));
		return -1;
	}
	sock = accept4(lsock, NULL, NULL, SOCK_CLOEXEC);
	if (sock < 0)
		fprintf(stderr, "vu-shmem-backend: %s: accept: %s\n", path, strerror(errno));
	close(lsock);
	unlink(path);
	return sock;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {{"socket", required_argument, NULL, 's'},
					     {"size", required_argument, NULL, 'z'},
					     {"bad", no_argument, NULL, 'b'},
					     {NULL, 0, NULL, 0}};
	struct backend b = {.backend_fd = -1, .kick_fd = -1, .region_size = 4u << 20};
	const char *path = NULL;
	int c;

	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 's')
			path = optarg;
		else if (c == 'z')
			b.region_size = strtoull(optarg, NULL, 0);
		else if (c == 'b')
			b.bad = true;
		else
			return 2;
	}
	if (!path || b.region_size < MAP_OFFSET + MAP_LEN || b.region_size % 4096) {
		fprintf(stderr,
			"usage: %s --socket PATH [--size BYTES (>= 1.1 MiB, pages)] [--bad]\n",
			argv[0]);
		return 2;
	}
	if (setup_memfd(&b) < 0) {
		perror("vu-shmem-backend: memfd");
		return 1;
	}
	b.sock = accept_one(path);
	if (b.sock < 0)
		return 1;
	for (;;) {
		struct pollfd pfd[2] = {{.fd = b.sock, .events = POLLIN},
					{.fd = b.kick_fd, .events = POLLIN}};
		uint64_t count;

		if (poll(pfd, 2, 100) > 0 && pfd[1].revents &&
		    read(b.kick_fd, &count, sizeof(count)) < 0)
			pfd[1].revents = 0;
		if (pfd[0].revents && !serve(&b))
			break;
		check_guest_value(&b);
	}
	printf("connection closed\n");
	return 0;
}
