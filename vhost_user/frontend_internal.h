/* Helpers shared by the frontend's files; not for users of frontend.h. */
#ifndef VHOST_USER_FRONTEND_INTERNAL_H
#define VHOST_USER_FRONTEND_INTERNAL_H

#include "vhost_user/frontend.h"

/* Logs "device: message: field: ..." and marks fe broken unless the error is local. */
int vu_fail(struct vhost_user_frontend *fe, const struct vhost_user_error *e);
int vu_fail_errno(struct vhost_user_frontend *fe, uint32_t request, const char *field, int err);
int vu_fail_value(struct vhost_user_frontend *fe, uint32_t request, const char *field,
		  uint64_t expected_min, uint64_t expected_max, uint64_t got);

/*
 * Sends a request that has no reply of its own. With REPLY_ACK negotiated
 * it asks for an ack and waits for it (0 = success).
 */
int vu_request(struct vhost_user_frontend *fe, uint32_t request, const void *payload, uint32_t size,
	       const int *fds, unsigned nfds);

/*
 * Sends a request without payload, reply or ack right now, after whatever
 * a batch has queued (requests leave in the order they were made): for
 * requests whose fds the caller closes as soon as this returns.
 */
int vu_send_unqueued(struct vhost_user_frontend *fe, uint32_t request, const int *fds,
		     unsigned nfds);

/* Sends a request and receives its reply, checked against spec. */
int vu_call(struct vhost_user_frontend *fe, uint32_t request, const void *payload, uint32_t size,
	    const struct vhost_user_reply_spec *spec, struct vhost_user_msg *reply, int *reply_fds);

/* vu_call that also passes fds (SET_DEVICE_STATE_FD); the caller keeps them. */
int vu_call_fds(struct vhost_user_frontend *fe, uint32_t request, const void *payload,
		uint32_t size, const int *fds, unsigned nfds,
		const struct vhost_user_reply_spec *spec, struct vhost_user_msg *reply,
		int *reply_fds);

/* GET_* requests whose reply is one u64. */
int vu_get_u64(struct vhost_user_frontend *fe, uint32_t request, uint64_t *value);
/* SET_* requests whose payload is one u64 (acked when REPLY_ACK is on). */
int vu_set_u64(struct vhost_user_frontend *fe, uint32_t request, uint64_t value);

#endif
