/*
 * Parses a --vhost-user argument: TYPE,sock=PATH[,key=value...].
 * TYPE is a device-type name ("blk", "fs", "net", ...) or type=N. Keys of
 * every type:
 *   sock=PATH     the back-end's unix socket (required)
 *   qsize=N       largest queue size offered (power of two, default 256)
 *   timeout=MS    how long to wait for each back-end reply
 *   trace=on|off, trace-file=PATH  this device's protocol trace
 *   reconnect=on|off, reconnect-timeout=MS  wait for a back-end that hung
 *                 up to come back (reconnect.c)
 *   inflight=on|off  ack INFLIGHT_SHMFD where offered (with reconnect=on)
 * Any other key is the type's own, parsed by its file (fs.c: tag=,
 * queues=; net.c: mac=; gpu.c: vnc=).
 */
#include "vhost_user/device/internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int vu_parse_uint(const char *text, unsigned min, unsigned max, unsigned *out)
{
	unsigned long v;
	char *end;

	if (!*text)
		return -EINVAL;
	errno = 0;
	v = strtoul(text, &end, 0);
	if (errno || *end || v < min || v > max)
		return -EINVAL;
	*out = (unsigned)v;
	return 0;
}

/* A key that is not every type's: the type file's, or unknown. */
static int type_key(struct vu_spec *s, const char *key, const char *value, char *err, size_t n)
{
	const struct vu_type_ops *ops = s->ops;
	int r = ops->parse_key ? ops->parse_key(s->type_args, key, value, err, n) : -ENOENT;

	if (r != -ENOENT)
		return r;
	if (ops->keys)
		snprintf(err, n, "unknown key '%s' for a %s device (its own keys: %s)", key,
			 s->type->name, ops->keys);
	else
		snprintf(err, n, "unknown key '%s' for a %s device", key, s->type->name);
	return -EINVAL;
}

/* Applies one key=value; err names the key on failure. */
static int apply_key(struct vu_spec *s, const char *key, const char *value, char *err, size_t n)
{
	if (!strcmp(key, "sock")) {
		if (!*value || strlen(value) >= sizeof(s->sock))
			goto bad;
		strcpy(s->sock, value);
	} else if (!strcmp(key, "qsize")) {
		if (vu_parse_uint(value, 1, VHOST_USER_MAX_QUEUE_SIZE, &s->queue_size) ||
		    (s->queue_size & (s->queue_size - 1)))
			goto bad;
	} else if (!strcmp(key, "timeout")) {
		if (vu_parse_uint(value, 1, 600000, &s->timeout_ms))
			goto bad;
	} else if (!strcmp(key, "trace")) {
		if (strcmp(value, "on") && strcmp(value, "off"))
			goto bad;
		s->trace = !strcmp(value, "on");
	} else if (!strcmp(key, "reconnect")) {
		if (strcmp(value, "on") && strcmp(value, "off"))
			goto bad;
		s->reconnect = !strcmp(value, "on");
	} else if (!strcmp(key, "inflight")) {
		if (strcmp(value, "on") && strcmp(value, "off"))
			goto bad;
		s->inflight = !strcmp(value, "on");
	} else if (!strcmp(key, "reconnect-timeout")) {
		if (vu_parse_uint(value, 1, 3600000, &s->reconnect_timeout_ms))
			goto bad;
	} else if (!strcmp(key, "trace-file")) {
		if (!*value || strlen(value) >= sizeof(s->trace_file))
			goto bad;
		strcpy(s->trace_file, value);
	} else {
		return type_key(s, key, value, err, n);
	}
	return 0;
bad:
	snprintf(err, n, "bad value for key '%s': '%s'", key, value);
	return -EINVAL;
}

/* The type is the first item; "type=N" is a type too, not a key. */
static int parse_type(struct vu_spec *s, const char *item, char *err, size_t n)
{
	s->type = vhost_user_type_by_name(item, &s->type_fallback);
	if (!s->type) {
		snprintf(err, n, "unknown device type '%s'", item);
		return -EINVAL;
	}
	s->ops = vu_type_ops_find(s->type->id);
	return 0;
}

int vu_spec_parse(const char *text, struct vu_spec *spec, char *err, size_t err_size)
{
	char buf[512], *save = NULL, *item;
	int r = 0;

	memset(spec, 0, sizeof(*spec));
	spec->trace = -1;
	spec->reconnect = -1;
	if (strlen(text) >= sizeof(buf)) {
		snprintf(err, err_size, "argument too long");
		return -EINVAL;
	}
	strcpy(buf, text);
	item = strtok_r(buf, ",", &save);
	if (!item) {
		snprintf(err, err_size, "empty argument (want TYPE,sock=PATH)");
		return -EINVAL;
	}
	r = parse_type(spec, item, err, err_size);
	while (!r && (item = strtok_r(NULL, ",", &save))) {
		char *eq = strchr(item, '=');
		if (!eq) {
			snprintf(err, err_size, "'%s' is not key=value", item);
			return -EINVAL;
		}
		*eq = '\0';
		r = apply_key(spec, item, eq + 1, err, err_size);
	}
	if (!r && !spec->sock[0]) {
		snprintf(err, err_size, "missing key 'sock'");
		r = -EINVAL;
	}
	if (!r && spec->reconnect == 1 && spec->ops->no_reconnect) {
		snprintf(err, err_size, "reconnect=on: a %s device cannot reconnect (%s)",
			 spec->type->name, spec->ops->no_reconnect);
		r = -EINVAL;
	}
	if (!r && spec->reconnect == -1)
		spec->reconnect = spec->ops->reconnects;
	if (!r && spec->inflight && spec->reconnect != 1) {
		snprintf(err, err_size,
			 "inflight=on needs reconnect=on (the region serves a restarted back-end)");
		r = -EINVAL;
	}
	if (!r && spec->ops->finish_args)
		spec->ops->finish_args(spec->type_args);
	return r;
}
