/*
 * libFuzzer target: the reply path from a byte stream. Input: [spec selector]
 * [fd count] then the bytes a back-end would send. Runs wire receive, the
 * strict reply checks, error formatting and the trace decoder on them.
 */
#include <fcntl.h>
#include <string.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vhost_user/trace.h"
#include "vhost_user/wire.h"
#include "vmm/util.h"

static const struct vhost_user_reply_spec specs[] = {
    {VHOST_USER_GET_FEATURES, 8, 8, 0, 0},	{VHOST_USER_GET_CONFIG, 72, 72, 0, 0},
    {VHOST_USER_GET_VRING_BASE, 8, 8, 0, 0},	{VHOST_USER_SET_MEM_TABLE, 8, 8, 0, 0},
    {VHOST_USER_GET_INFLIGHT_FD, 20, 24, 1, 1}, {VHOST_USER_GET_SHMEM_CONFIG, 8, 2056, 0, 0},
    {VHOST_USER_GET_CONFIG, 0, 268, 0, 0},
};

/* Sends data with nfds descriptors attached to the first byte. */
static void feed(int sock, const uint8_t *data, size_t size, unsigned nfds)
{
	char control[CMSG_SPACE(sizeof(int) * 16)] = {0};
	int fds[16];
	struct iovec iov = {.iov_base = (void *)data, .iov_len = size};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	unsigned i;

	for (i = 0; i < nfds; i++)
		fds[i] = open("/dev/null", O_RDONLY | O_CLOEXEC);
	vhost_user_attach_fds(&mh, control, fds, nfds);
	if (size)
		sendmsg(sock, &mh, MSG_NOSIGNAL);
	for (i = 0; i < nfds; i++)
		close(fds[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct vhost_user_reply_spec *spec;
	int pair[2];
	unsigned round;

	if (size < 2 || size > 65536)
		return 0;
	spec = &specs[data[0] % ARRAY_SIZE(specs)];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0)
		return 0;
	feed(pair[1], data + 2, size - 2, data[1] % 12);
	close(pair[1]);
	for (round = 0; round < 8; round++) {
		struct vhost_user_error e = {0};
		struct vhost_user_msg reply;
		int fds[VHOST_USER_MAX_FDS];
		char text[512];
		struct vhost_user_trace_event ev = {.device = "fuzz0",
						    .type_id = data[0] & 0x1f,
						    .dir = VHOST_USER_TRACE_RECV,
						    .msg = &reply};
		int err = vhost_user_recv_reply(pair[0], spec, &reply, fds, 0, &e);

		if (err) {
			vhost_user_format_error(text, sizeof(text), "fuzz0", &e);
			break;
		}
		vhost_user_trace_format(text, sizeof(text), round & 1, 0, &ev);
		vhost_user_close_fds(fds, spec->max_fds);
	}
	close(pair[0]);
	return 0;
}
