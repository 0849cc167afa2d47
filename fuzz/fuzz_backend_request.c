/*
 * libFuzzer target: the frontend serving back-end requests. Input: [queue
 * count] [fd count] then the bytes the back-end writes on its channel; the
 * frontend handles messages until the channel closes.
 */
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vhost_user/frontend.h"
#include "vhost_user/trace.h"

static void config_changed(void *opaque)
{
	(void)opaque;
}

static int vring_signal(void *opaque, unsigned index)
{
	(void)opaque;
	return index < VHOST_USER_MAX_QUEUES ? 0 : -1000; /* never: the frontend checked */
}

static int shmem_map(void *opaque, const struct vhost_user_shmem_map *map, int fd)
{
	(void)opaque;
	(void)map;
	close(fd);
	return 0;
}

static int shmem_unmap(void *opaque, const struct vhost_user_shmem_map *map)
{
	(void)opaque;
	(void)map;
	return 0;
}

static const struct vhost_user_backend_ops ops = {config_changed, vring_signal, vring_signal,
						  shmem_map, shmem_unmap};

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_set_level(LOG_ERROR); /* warnings are the expected outcome; keep the output readable */
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vhost_user_frontend fe;
	int pair[2], fds[4];
	unsigned i, nfds, rounds;

	if (size < 2 || size > 65536)
		return 0;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0)
		return 0;
	vhost_user_frontend_init(&fe, "fuzz0", 2);
	vhost_user_frontend_set_backend_ops(&fe, &ops, NULL);
	fe.num_queues = data[0] % 4;
	fe.timeout_ms = 0;
	fe.backend_fd = pair[0];
	nfds = data[1] % 4;
	for (i = 0; i < nfds; i++)
		fds[i] = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (size > 2) {
		char control[CMSG_SPACE(sizeof(fds))] = {0};
		struct iovec iov = {.iov_base = (void *)(data + 2), .iov_len = size - 2};
		struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};

		vhost_user_attach_fds(&mh, control, fds, nfds);
		sendmsg(pair[1], &mh, MSG_NOSIGNAL);
	}
	vhost_user_close_fds(fds, nfds);
	shutdown(pair[1], SHUT_WR);
	for (rounds = 0; rounds < 64 && fe.backend_fd >= 0; rounds++)
		vhost_user_frontend_handle_backend_request(&fe);
	if (fe.backend_fd >= 0)
		close(fe.backend_fd);
	close(pair[1]);
	return 0;
}
