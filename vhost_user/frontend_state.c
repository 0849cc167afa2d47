/*
 * DEVICE_STATE: the back-end's own state streamed through a pipe while its
 * rings are stopped (SET_DEVICE_STATE_FD, then CHECK_DEVICE_STATE).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vhost_user/frontend_internal.h"
#include "vmm/clock.h"

#define DEVICE_STATE_ERROR_MASK 0xffull
#define DEVICE_STATE_NOFD (1ull << 8) /* the back-end returned no fd of its own */
#define DEVICE_STATE_MAX (256u << 20)

/*
 * Hands the back-end one end of a pipe for direction, and returns in *mine
 * the end the frontend uses: the other end of that pipe, or the fd the
 * back-end returned instead (the spec says to use it then). Non-blocking.
 */
static int open_transfer(struct vhost_user_frontend *fe, uint32_t direction, int *mine)
{
	const struct vhost_user_reply_spec spec = {VHOST_USER_SET_DEVICE_STATE_FD, 8, 8, 0, 1};
	struct vhost_user_device_state st = {.direction = direction, .phase = 0};
	struct vhost_user_msg reply;
	int pipefd[2], theirs, returned = -1, err;

	if (!vhost_user_frontend_has_protocol(fe, VHOST_USER_PROTOCOL_F_DEVICE_STATE))
		return -ENOTSUP;
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return vu_fail_errno(fe, VHOST_USER_SET_DEVICE_STATE_FD, "pipe", -errno);
	/* Save: the back-end writes (pipefd[1]); load: it reads (pipefd[0]). */
	theirs = direction == VHOST_USER_DEVICE_STATE_SAVE ? pipefd[1] : pipefd[0];
	*mine = direction == VHOST_USER_DEVICE_STATE_SAVE ? pipefd[0] : pipefd[1];
	/* Only our end: the back-end's end stays blocking, as it expects. */
	fcntl(*mine, F_SETFL, O_NONBLOCK);
	err = vu_call_fds(fe, VHOST_USER_SET_DEVICE_STATE_FD, &st, sizeof(st), &theirs, 1, &spec,
			  &reply, &returned);
	close(theirs);
	if (!err && (reply.payload.u64 & DEVICE_STATE_ERROR_MASK))
		err = vu_fail_value(fe, VHOST_USER_SET_DEVICE_STATE_FD, "result", 0, 0,
				    reply.payload.u64 & DEVICE_STATE_ERROR_MASK);
	if (!err && !(reply.payload.u64 & DEVICE_STATE_NOFD) && reply.hdr.size && returned >= 0) {
		close(*mine);
		*mine = returned;
		returned = -1;
		fcntl(*mine, F_SETFL, fcntl(*mine, F_GETFL) | O_NONBLOCK);
	}
	if (returned >= 0)
		close(returned);
	if (err) {
		close(*mine);
		*mine = -1;
	}
	return err;
}

/* Waits for fd to be ready for events within the reply timeout from start. */
static int wait_fd(struct vhost_user_frontend *fe, int fd, short events, uint64_t deadline)
{
	int64_t left = (int64_t)(deadline - monotonic_ns()) / 1000000;
	struct pollfd p = {.fd = fd, .events = events};
	int r;

	if (left <= 0)
		return vu_fail_errno(fe, VHOST_USER_SET_DEVICE_STATE_FD, "transfer timeout",
				     -ETIMEDOUT);
	r = poll(&p, 1, (int)left);
	if (r < 0 && errno != EINTR)
		return vu_fail_errno(fe, VHOST_USER_SET_DEVICE_STATE_FD, "poll", -errno);
	return 0;
}

static int check_state(struct vhost_user_frontend *fe)
{
	uint64_t result;
	int err = vu_get_u64(fe, VHOST_USER_CHECK_DEVICE_STATE, &result);

	if (!err && result)
		err = vu_fail_value(fe, VHOST_USER_CHECK_DEVICE_STATE, "result", 0, 0, result);
	return err;
}

int vhost_user_frontend_save_state(struct vhost_user_frontend *fe, uint8_t **data, size_t *len)
{
	uint64_t deadline = monotonic_ns() + (uint64_t)fe->timeout_ms * 1000000ull;
	size_t cap = 0;
	int fd, err = open_transfer(fe, VHOST_USER_DEVICE_STATE_SAVE, &fd);

	*data = NULL;
	*len = 0;
	/* Read to EOF as the back-end writes, so a full pipe never stalls it. */
	while (!err) {
		ssize_t r;

		if (*len == cap) {
			uint8_t *more =
			    cap < DEVICE_STATE_MAX ? realloc(*data, cap ? cap * 2 : 65536) : NULL;
			if (!more) {
				err = vu_fail_errno(fe, VHOST_USER_SET_DEVICE_STATE_FD,
						    "state size", -EFBIG);
				break;
			}
			*data = more;
			cap = cap ? cap * 2 : 65536;
		}
		r = read(fd, *data + *len, cap - *len);
		if (r > 0)
			*len += (size_t)r;
		else if (r == 0)
			break;
		else if (errno == EAGAIN)
			err = wait_fd(fe, fd, POLLIN, deadline);
		else if (errno != EINTR)
			err = vu_fail_errno(fe, VHOST_USER_SET_DEVICE_STATE_FD, "read", -errno);
	}
	if (fd >= 0)
		close(fd);
	if (!err)
		err = check_state(fe);
	if (err) {
		free(*data);
		*data = NULL;
		*len = 0;
	}
	return err;
}

int vhost_user_frontend_load_state(struct vhost_user_frontend *fe, const uint8_t *data, size_t len)
{
	uint64_t deadline = monotonic_ns() + (uint64_t)fe->timeout_ms * 1000000ull;
	size_t done = 0;
	int fd, err = open_transfer(fe, VHOST_USER_DEVICE_STATE_LOAD, &fd);

	while (!err && done < len) {
		ssize_t w = write(fd, data + done, len - done);

		if (w > 0)
			done += (size_t)w;
		else if (w < 0 && errno == EAGAIN)
			err = wait_fd(fe, fd, POLLOUT, deadline);
		else if (w < 0 && errno != EINTR)
			err = vu_fail_errno(fe, VHOST_USER_SET_DEVICE_STATE_FD, "write", -errno);
	}
	/* Closing our end is the EOF that ends the back-end's read. */
	if (fd >= 0)
		close(fd);
	return err ? err : check_state(fe);
}
