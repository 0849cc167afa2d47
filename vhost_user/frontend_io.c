/* Frontend messaging: requests, replies, acks, and serving the back-end's request channel. */
#include "vhost_user/frontend_internal.h"
#include "vmm/clock.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "vhost_user/trace.h"

/* How many reply timeouts a wait may last while the back-end's channel keeps it busy. */
#define BUSY_WAIT_FACTOR 10

static void trace_msg(struct vhost_user_frontend *fe, enum vhost_user_trace_dir dir,
		      bool backend_channel, const struct vhost_user_msg *msg, const int *fds,
		      unsigned nfds)
{
	struct vhost_user_trace_event ev = {.device = fe->name,
					    .type_id = fe->type->id,
					    .dir = dir,
					    .backend_channel = backend_channel,
					    .msg = msg,
					    .fds = fds,
					    .nfds = nfds};

	vhost_user_trace_message(fe->trace, &ev);
}

/* Traces a message about to be sent as header + separate payload. */
static void trace_send(struct vhost_user_frontend *fe, bool backend_channel,
		       const struct vhost_user_header *hdr, const void *payload, const int *fds,
		       unsigned nfds)
{
	struct vhost_user_msg msg = {.hdr = *hdr};

	if (hdr->size && hdr->size <= sizeof(msg.payload))
		memcpy(&msg.payload, payload, hdr->size);
	trace_msg(fe, VHOST_USER_TRACE_SEND, backend_channel, &msg, fds, nfds);
}

static int check_usable(struct vhost_user_frontend *fe, uint32_t request)
{
	if (fe->sock < 0)
		return -ENOTCONN;
	if (fe->broken) {
		log_debug(fe->log_component, "%s: %s: device is broken", fe->name,
			  vhost_user_request_name(request));
		return -EIO;
	}
	return 0;
}

/* A wait of the device's timeout from now, cut short when the caller's cancel fd turns readable. */
static struct vhost_user_wait fresh_wait(const struct vhost_user_frontend *fe)
{
	return vhost_user_wait_ms(fe->timeout_ms, fe->cancel_fd);
}

/* What a failed send or wait is called in the one line that reports it. */
static const char *wait_failure(int err, const char *what)
{
	switch (err) {
	case -EPIPE:
	case -ECONNRESET:
		return "hang-up";
	case -ETIMEDOUT:
		return "send timeout (the back-end stopped reading)";
	case -ECANCELED:
		return "wait abandoned (the VM is stopping)";
	}
	return what;
}

/* Sends at once, bypassing the batch's queue; the caller flushed it first. */
static int send_now(struct vhost_user_frontend *fe, const struct vhost_user_header *hdr,
		    const void *payload, const int *fds, unsigned nfds)
{
	struct vhost_user_wait w = fresh_wait(fe);

	return vhost_user_send_wait(fe->sock, hdr, payload, fds, nfds, &w);
}

static int send_request(struct vhost_user_frontend *fe, uint32_t request, uint32_t flags,
			const void *payload, uint32_t size, const int *fds, unsigned nfds)
{
	struct vhost_user_header hdr = {
	    .request = request, .flags = VHOST_USER_VERSION | flags, .size = size};
	struct vhost_user_wait w = fresh_wait(fe);
	int err;

	if (fe->trace)
		trace_send(fe, false, &hdr, payload, fds, nfds);
	if (fe->batching)
		err = vhost_user_send_queue_add(&fe->outq, fe->sock, &hdr, payload, fds, nfds, &w,
						&request);
	else
		err = send_now(fe, &hdr, payload, fds, nfds);
	if (err)
		return vu_fail_errno(fe, request, wait_failure(err, "send"), err);
	return 0;
}

/*
 * Writes the batch's queued requests; a reply can only come after them.
 * The acks outstanding then get one deadline together, from this moment.
 */
static int flush_sends(struct vhost_user_frontend *fe)
{
	struct vhost_user_wait w = fresh_wait(fe);
	uint32_t request = 0;
	int err;

	if (!fe->outq.len)
		return 0;
	err = fe->sock < 0 ? -ENOTCONN
			   : vhost_user_send_queue_flush(&fe->outq, fe->sock, &w, &request);
	if (err)
		return vu_fail_errno(fe, request, wait_failure(err, "send"), err);
	if (fe->npending)
		fe->ack_deadline_ms = monotonic_ms() + fe->timeout_ms;
	return 0;
}

int vu_send_unqueued(struct vhost_user_frontend *fe, uint32_t request, const int *fds,
		     unsigned nfds)
{
	struct vhost_user_header hdr = {.request = request, .flags = VHOST_USER_VERSION, .size = 0};
	int err = flush_sends(fe);

	if (err)
		return err;
	if (fe->trace)
		trace_send(fe, false, &hdr, NULL, fds, nfds);
	err = send_now(fe, &hdr, NULL, fds, nfds);
	if (err)
		return vu_fail_errno(fe, request, wait_failure(err, "send"), err);
	return 0;
}

/*
 * Waits until the main socket has something to read, at most until
 * *deadline. A back-end may itself be blocked sending us a request that
 * needs an answer, so its channel is served while we wait rather than
 * deadlocking until the timeout. With extend, a back-end busy on its
 * channel moves *deadline on (up to BUSY_WAIT_FACTOR timeouts); a batch of
 * acks keeps the one deadline it was given.
 */
static int wait_readable(struct vhost_user_frontend *fe, uint32_t request, int64_t *deadline,
			 bool extend)
{
	int64_t start = monotonic_ms();

	for (;;) {
		struct pollfd pfd[3] = {{.fd = fe->sock, .events = POLLIN},
					{.fd = fe->cancel_fd, .events = POLLIN},
					{.fd = fe->backend_fd, .events = POLLIN}};
		int64_t left = *deadline - monotonic_ms();
		int n = poll(pfd, fe->backend_fd >= 0 ? 3 : 2, left > 0 ? (int)left : 0);

		if (n < 0 && errno == EINTR)
			continue; /* bounded: the deadline stands, the cancel fd is polled */
		if (n < 0)
			return vu_fail_errno(fe, request, "poll", -errno);
		if (n == 0)
			return vu_fail_errno(fe, request, "reply timeout", -ETIMEDOUT);
		if (pfd[1].revents)
			return vu_fail_errno(fe, request, wait_failure(-ECANCELED, ""), -ECANCELED);
		if (pfd[0].revents)
			break;
		if (pfd[2].revents) {
			vhost_user_frontend_handle_backend_request(fe);
			if (extend &&
			    *deadline < start + BUSY_WAIT_FACTOR * (int64_t)fe->timeout_ms)
				*deadline = monotonic_ms() + fe->timeout_ms;
		}
	}
	return 0;
}

/* Reads and checks a reply whose first bytes are in, within left_ms. */
static int recv_reply(struct vhost_user_frontend *fe, const struct vhost_user_reply_spec *spec,
		      struct vhost_user_msg *reply, int *fds, int64_t deadline)
{
	struct vhost_user_wait w = {.deadline_ms = deadline, .cancel_fd = fe->cancel_fd};
	struct vhost_user_error e = {0};
	int scratch[VHOST_USER_MAX_FDS];
	unsigned nfds = 0;
	/* vhost_user_recv_reply, split so that the trace sees what failed the checks. */
	int err = vhost_user_recv_wait(fe->sock, reply, scratch, VHOST_USER_MAX_FDS, &nfds, &w, &e);

	if (err) {
		e.request = spec->request;
		return vu_fail(fe, &e);
	}
	if (fe->trace)
		trace_msg(fe, VHOST_USER_TRACE_RECV, false, reply, scratch, nfds);
	err = vhost_user_check_reply(reply, nfds, spec, &e);
	if (err) {
		vhost_user_close_fds(scratch, nfds);
		return vu_fail(fe, &e);
	}
	if (nfds)
		memcpy(fds, scratch, nfds * sizeof(int));
	return 0;
}

static int wait_reply(struct vhost_user_frontend *fe, const struct vhost_user_reply_spec *spec,
		      struct vhost_user_msg *reply, int *fds)
{
	int64_t deadline = monotonic_ms() + fe->timeout_ms;
	int err = wait_readable(fe, spec->request, &deadline, true);

	return err ? err : recv_reply(fe, spec, reply, fds, deadline);
}

/*
 * With acks pipelined, a back-end that skipped one answers the next
 * request's ack instead: say that, rather than "request: expected 5, got 8".
 * Peeks at the next reply's header (the socket is readable); -EPROTO if it
 * acks one of the later requests (fe marked broken), 0 otherwise.
 */
static int check_skipped_ack(struct vhost_user_frontend *fe, uint32_t request,
			     const uint32_t *later, unsigned nlater)
{
	struct vhost_user_header hdr;
	char field[96];

	if (!nlater ||
	    recv(fe->sock, &hdr, sizeof(hdr), MSG_PEEK | MSG_DONTWAIT) != (ssize_t)sizeof(hdr) ||
	    hdr.request == request)
		return 0;
	for (unsigned i = 0; i < nlater; i++) {
		if (later[i] != hdr.request)
			continue;
		snprintf(field, sizeof(field),
			 "reply missing (the back-end acked %s, sent after it)",
			 vhost_user_request_name(hdr.request));
		return vu_fail_errno(fe, request, field, -EPROTO);
	}
	return 0;
}

/*
 * Reads the ack of request (later: requests sent after it, still unacked)
 * by deadline: the batch's, or for a lone request its own.
 */
static int read_ack(struct vhost_user_frontend *fe, uint32_t request, const uint32_t *later,
		    unsigned nlater, int64_t deadline)
{
	const struct vhost_user_reply_spec ack = {
	    .request = request, .min_size = VHOST_USER_ACK_SIZE, .max_size = VHOST_USER_ACK_SIZE};
	struct vhost_user_msg reply;
	int err = wait_readable(fe, request, &deadline, !nlater && !later);

	if (!err)
		err = check_skipped_ack(fe, request, later, nlater);
	if (!err)
		err = recv_reply(fe, &ack, &reply, NULL, deadline);
	if (err)
		return err;
	if (reply.payload.u64 != 0) {
		/* The back-end refused; the connection itself is still sound. */
		log_error(fe->log_component, "%s: %s: back-end replied failure (%" PRIu64 ")",
			  fe->name, vhost_user_request_name(request), reply.payload.u64);
		return -EREMOTEIO;
	}
	return 0;
}

/*
 * Reads the outstanding acks in send order, all by the batch's one
 * deadline: a back-end dribbling each ack just inside the timeout must not
 * hold the caller for acks x timeout. A refusal does not stop the others
 * from being read (the stream stays in step); a broken connection does.
 * Returns the first failure.
 */
static int flush_acks(struct vhost_user_frontend *fe)
{
	unsigned i, n = fe->npending;
	int first = flush_sends(fe);

	fe->npending = 0;
	for (i = 0; i < n; i++) {
		int err = fe->broken ? -EIO
				     : read_ack(fe, fe->pending_acks[i], fe->pending_acks + i + 1,
						n - i - 1, fe->ack_deadline_ms);

		if (err && !first)
			first = err;
	}
	if (n)
		fe->last_ack_ns = monotonic_ns();
	return first;
}

void vhost_user_frontend_batch_begin(struct vhost_user_frontend *fe)
{
	fe->batching = true;
}

int vhost_user_frontend_batch_end(struct vhost_user_frontend *fe)
{
	fe->batching = false;
	return flush_acks(fe);
}

int vhost_user_frontend_batch_detach(struct vhost_user_frontend *fe)
{
	fe->batching = false;
	return flush_sends(fe);
}

static bool sock_readable(int fd)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};

	return poll(&pfd, 1, 0) > 0;
}

int vhost_user_frontend_read_acks(struct vhost_user_frontend *fe)
{
	int first = 0;

	while (fe->npending && !fe->broken && fe->sock >= 0 && sock_readable(fe->sock)) {
		int err = read_ack(fe, fe->pending_acks[0], fe->pending_acks + 1, fe->npending - 1,
				   fe->ack_deadline_ms);

		fe->npending--;
		memmove(fe->pending_acks, fe->pending_acks + 1,
			fe->npending * sizeof(fe->pending_acks[0]));
		if (err && !first)
			first = err;
		if (!fe->npending)
			fe->last_ack_ns = monotonic_ns();
	}
	return first ? first : fe->broken && fe->npending ? -EIO : 0;
}

int vhost_user_frontend_expire_acks(struct vhost_user_frontend *fe)
{
	uint32_t oldest = fe->pending_acks[0];

	if (!fe->npending)
		return 0;
	fe->npending = 0;
	return vu_fail_errno(fe, oldest, "reply timeout", -ETIMEDOUT);
}

int vhost_user_frontend_abandon_acks(struct vhost_user_frontend *fe, const char *when)
{
	char field[96];
	int64_t sent_ms = fe->ack_deadline_ms - fe->timeout_ms;
	int err = vhost_user_frontend_read_acks(fe);

	if (err || !fe->npending)
		return err;
	snprintf(field, sizeof(field), "no reply before %s, %lld ms after it was sent", when,
		 (long long)(monotonic_ms() - sent_ms));
	err = vu_fail_errno(fe, fe->pending_acks[0], field, -ETIMEDOUT);
	fe->npending = 0;
	return err;
}

int vu_call(struct vhost_user_frontend *fe, uint32_t request, const void *payload, uint32_t size,
	    const struct vhost_user_reply_spec *spec, struct vhost_user_msg *reply, int *reply_fds)
{
	return vu_call_fds(fe, request, payload, size, NULL, 0, spec, reply, reply_fds);
}

int vu_call_fds(struct vhost_user_frontend *fe, uint32_t request, const void *payload,
		uint32_t size, const int *fds, unsigned nfds,
		const struct vhost_user_reply_spec *spec, struct vhost_user_msg *reply,
		int *reply_fds)
{
	/* A reply is read in order: the acks sent before it come first. */
	int err = flush_acks(fe);

	if (!err)
		err = check_usable(fe, request);
	if (!err)
		err = send_request(fe, request, 0, payload, size, fds, nfds);
	/* Inside a batch the request only joined the queue: it must leave before its reply can
	 * come. */
	if (!err && fe->batching)
		err = flush_sends(fe);
	if (!err)
		err = wait_reply(fe, spec, reply, reply_fds);
	return err;
}

int vu_request(struct vhost_user_frontend *fe, uint32_t request, const void *payload, uint32_t size,
	       const int *fds, unsigned nfds)
{
	bool want_ack = vhost_user_frontend_has_protocol(fe, VHOST_USER_PROTOCOL_F_REPLY_ACK);
	int err = check_usable(fe, request);

	/* Acks are read in send order: older ones first, unless this joins a batch. */
	if (!err && fe->npending && (!fe->batching || fe->npending == VHOST_USER_MAX_PENDING_ACKS))
		err = flush_acks(fe);
	if (!err)
		err = send_request(fe, request, want_ack ? VHOST_USER_FLAG_NEED_REPLY : 0, payload,
				   size, fds, nfds);
	if (err || !want_ack)
		return err;
	if (fe->batching) {
		fe->pending_acks[fe->npending++] = request;
		return 0;
	}
	return read_ack(fe, request, NULL, 0, monotonic_ms() + fe->timeout_ms);
}

int vu_get_u64(struct vhost_user_frontend *fe, uint32_t request, uint64_t *value)
{
	const struct vhost_user_reply_spec spec = vhost_user_reply_spec_of(request);
	struct vhost_user_msg reply;
	int err = vu_call(fe, request, NULL, 0, &spec, &reply, NULL);

	if (!err)
		*value = reply.payload.u64;
	return err;
}

int vu_set_u64(struct vhost_user_frontend *fe, uint32_t request, uint64_t value)
{
	return vu_request(fe, request, &value, sizeof(value), NULL, 0);
}

/* Back-end channel. */

static void close_backend_channel(struct vhost_user_frontend *fe, const char *why)
{
	log_warn(fe->log_component, "%s: back-end channel closed: %s", fe->name, why);
	close(fe->backend_fd);
	fe->backend_fd = -1;
}

/* Payload size (from the message table) and fd count per back-end request we serve; -1: refuse. */
static int backend_request_shape(uint32_t request, uint32_t *size, unsigned *nfds)
{
	const struct vhost_user_msg_info *info = vhost_user_backend_request_info(request);

	switch (request) {
	case VHOST_USER_BACKEND_CONFIG_CHANGE_MSG:
	case VHOST_USER_BACKEND_VRING_CALL:
	case VHOST_USER_BACKEND_VRING_ERR:
	case VHOST_USER_BACKEND_SHMEM_UNMAP:
	case VHOST_USER_BACKEND_SHMEM_MAP:
		*size = info->size.min; /* all fixed-size */
		*nfds = request == VHOST_USER_BACKEND_SHMEM_MAP ? 1 : 0;
		return 0;
	default:
		return -1;
	}
}

static int dispatch_backend_request(struct vhost_user_frontend *fe, struct vhost_user_msg *msg,
				    int fd)
{
	const struct vhost_user_backend_ops *ops = fe->ops;
	void *opaque = fe->ops_opaque;
	uint32_t index = msg->payload.state.index;

	switch (msg->hdr.request) {
	case VHOST_USER_BACKEND_CONFIG_CHANGE_MSG:
		if (ops && ops->config_changed)
			ops->config_changed(opaque);
		return 0;
	case VHOST_USER_BACKEND_VRING_CALL:
	case VHOST_USER_BACKEND_VRING_ERR:
		if (index >= fe->num_queues) {
			log_warn_ratelimited(&fe->backend_rl, fe->log_component,
					     "%s: %s: index: expected 0..%u, got %u", fe->name,
					     vhost_user_backend_request_name(msg->hdr.request),
					     fe->num_queues - 1, index);
			return -ERANGE;
		}
		if (msg->hdr.request == VHOST_USER_BACKEND_VRING_CALL)
			return ops && ops->vring_call ? ops->vring_call(opaque, index) : -ENOTSUP;
		return ops && ops->vring_err ? ops->vring_err(opaque, index) : -ENOTSUP;
	case VHOST_USER_BACKEND_SHMEM_MAP:
		if (!ops || !ops->shmem_map) {
			close(fd);
			return -ENOTSUP;
		}
		return ops->shmem_map(opaque, &msg->payload.shmem_map, fd);
	case VHOST_USER_BACKEND_SHMEM_UNMAP:
		return ops && ops->shmem_unmap ? ops->shmem_unmap(opaque, &msg->payload.shmem_map)
					       : -ENOTSUP;
	}
	return -ENOTSUP;
}

static void reply_backend(struct vhost_user_frontend *fe, const struct vhost_user_msg *msg,
			  int result)
{
	struct vhost_user_header hdr = {.request = msg->hdr.request,
					.flags = VHOST_USER_VERSION | VHOST_USER_FLAG_REPLY,
					.size = VHOST_USER_ACK_SIZE};
	/* Any non-zero value means failure; send the positive errno. */
	uint64_t status = result < 0 ? (uint64_t)-result : 0;

	if (!(msg->hdr.flags & VHOST_USER_FLAG_NEED_REPLY))
		return;
	if (fe->trace)
		trace_send(fe, true, &hdr, &status, NULL, 0);
	if (vhost_user_send(fe->backend_fd, &hdr, &status, NULL, 0) < 0)
		close_backend_channel(fe, "reply failed");
}

/* Header and shape checks; returns 0 when msg may be dispatched. */
static int validate_backend_request(struct vhost_user_frontend *fe,
				    const struct vhost_user_msg *msg, unsigned nfds)
{
	const char *name = vhost_user_backend_request_name(msg->hdr.request);
	uint32_t flags = msg->hdr.flags & ~VHOST_USER_FLAG_NEED_REPLY;
	uint32_t size;
	unsigned want_fds;

	if (flags != VHOST_USER_VERSION) {
		log_warn_ratelimited(&fe->backend_rl, fe->log_component,
				     "%s: %s: flags: expected 0x1 (or 0x9), got 0x%x", fe->name,
				     name, msg->hdr.flags);
		return -EPROTO;
	}
	if (backend_request_shape(msg->hdr.request, &size, &want_fds) < 0) {
		log_warn_ratelimited(&fe->backend_rl, fe->log_component,
				     "%s: back-end request %u (%s) not supported", fe->name,
				     msg->hdr.request, name);
		return -ENOTSUP;
	}
	if (msg->hdr.size != size || nfds != want_fds) {
		log_warn_ratelimited(&fe->backend_rl, fe->log_component,
				     "%s: %s: size/fds: expected %u/%u, got %u/%u", fe->name, name,
				     size, want_fds, msg->hdr.size, nfds);
		return -EPROTO;
	}
	return 0;
}

int vhost_user_frontend_handle_backend_request(struct vhost_user_frontend *fe)
{
	struct vhost_user_error e = {.backend_channel = true};
	struct vhost_user_wait w;
	struct vhost_user_msg msg;
	int fds[VHOST_USER_MAX_FDS];
	unsigned nfds = 0;
	int err;

	if (fe->backend_fd < 0)
		return -ENOTCONN;
	/* The message is already arriving: a short bound only guards a stalled sender. */
	w = fresh_wait(fe);
	err = vhost_user_recv_wait(fe->backend_fd, &msg, fds, VHOST_USER_MAX_FDS, &nfds, &w, &e);
	if (err) {
		char text[256];

		vhost_user_format_error(text, sizeof(text), fe->name, &e);
		close_backend_channel(fe, text);
		return err;
	}
	if (fe->trace)
		trace_msg(fe, VHOST_USER_TRACE_RECV, true, &msg, fds, nfds);
	err = validate_backend_request(fe, &msg, nfds);
	if (err) {
		vhost_user_close_fds(fds, nfds);
	} else {
		log_debug(fe->log_component, "back-end request %s",
			  vhost_user_backend_request_name(msg.hdr.request));
		err = dispatch_backend_request(fe, &msg, nfds ? fds[0] : -1);
	}
	reply_backend(fe, &msg, err);
	return err;
}
