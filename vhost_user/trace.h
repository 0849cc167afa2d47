/* vhost-user protocol trace: every message both ways, decoded, as text lines and/or JSON lines. */
#ifndef VHOST_USER_TRACE_H
#define VHOST_USER_TRACE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "vhost_user/wire.h"

/*
 * One trace sink, shared by every device that traces into it. A frontend
 * holds a pointer to one (NULL: tracing off, which costs one pointer test
 * per message). Lines are written with one stdio call each, so devices on
 * different threads never interleave within a line.
 */
struct vhost_user_trace {
	FILE *text;	   /* human-readable lines, or NULL */
	FILE *json;	   /* one JSON object per line, or NULL */
	bool owns_json;	   /* json was opened by vhost_user_trace_open */
	uint64_t start_ns; /* CLOCK_MONOTONIC at open; timestamps count from here */
};

/* Which way a message went and on which socket. */
enum vhost_user_trace_dir {
	VHOST_USER_TRACE_SEND, /* frontend -> back-end */
	VHOST_USER_TRACE_RECV, /* back-end -> frontend */
};

struct vhost_user_trace_event {
	const char *device; /* "blk0" */
	uint32_t type_id;   /* virtio device id: names the device feature bits */
	enum vhost_user_trace_dir dir;
	bool backend_channel;		  /* the back-end request channel, not the main socket */
	const struct vhost_user_msg *msg; /* header + hdr.size payload bytes */
	const int *fds;
	unsigned nfds;
};

/*
 * Prepares t. text: stream for readable lines (e.g. stderr) or NULL;
 * json_path: file to create/truncate for JSON lines, or NULL. At least one
 * must be given. Returns 0, -EINVAL, or -errno from opening json_path.
 */
int vhost_user_trace_open(struct vhost_user_trace *t, FILE *text, const char *json_path);

/* Flushes and closes what open opened; t may be opened again. */
void vhost_user_trace_close(struct vhost_user_trace *t);

/*
 * Records one message. Decodes the payload by request code (features as bit
 * names, protocol features, memory regions, vring state/address/fd, config
 * bytes in hex, fds); a payload too short for its request is shown raw.
 * Never fails: a write error on a sink is ignored.
 */
void vhost_user_trace_message(struct vhost_user_trace *t, const struct vhost_user_trace_event *ev);

/*
 * Formats the same line trace_message would write into buf (json: the JSON
 * form), without the newline. Returns the length written (truncated to
 * len - 1). For tests and for callers with their own sink.
 */
size_t vhost_user_trace_format(char *buf, size_t len, bool json, uint64_t t_ns,
			       const struct vhost_user_trace_event *ev);

/* Name of virtio feature bit for device type_id, or NULL when unnamed. */
const char *vhost_user_feature_name(uint32_t type_id, unsigned bit);

#endif
