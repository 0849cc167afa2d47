/*
 * Parses a --vhost-user argument: TYPE,sock=PATH[,key=value...].
 * TYPE is a device-type name ("blk", "fs", "net", ...) or type=N. Keys:
 *   sock=PATH     the back-end's unix socket (required)
 *   tag=NAME      fs: the mount tag (up to 36 bytes; default "fs")
 *   queues=N      fs: request queues (default 1)
 *   mac=xx:..:xx  net: the MAC address the VMM serves in config space
 *   qsize=N       largest queue size offered (power of two, default 256)
 *   timeout=MS    how long to wait for each back-end reply
 *   vnc=HOST:PORT gpu: a view-only VNC server showing scanout 0 (HOST an
 *                 IPv4 address; a bare PORT means 127.0.0.1)
 */
#include "vhost_user/device/internal.h"

#include <errno.h>
#include <linux/virtio_ids.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int parse_uint(const char *text, unsigned min, unsigned max, unsigned *out)
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

static int parse_mac(const char *text, uint8_t mac[6])
{
	unsigned b[6];
	char tail;

	if (sscanf(text, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5],
		   &tail) != 6)
		return -EINVAL;
	for (unsigned i = 0; i < 6; i++)
		mac[i] = (uint8_t)b[i];
	return mac[0] & 1 ? -EINVAL : 0; /* a multicast address cannot be a station's */
}

/* Applies one key=value; err names the key on failure. */
static int apply_key(struct vu_spec *s, const char *key, const char *value, char *err, size_t n)
{
	uint32_t id = s->type->id;

	if (!strcmp(key, "sock")) {
		if (!*value || strlen(value) >= sizeof(s->sock))
			goto bad;
		strcpy(s->sock, value);
	} else if (!strcmp(key, "tag") && id == VIRTIO_ID_FS) {
		if (!*value || strlen(value) > VU_FS_TAG_LEN)
			goto bad;
		strcpy(s->tag, value);
	} else if (!strcmp(key, "queues") && id == VIRTIO_ID_FS) {
		if (parse_uint(value, 1, VIRTIO_PCI_MAX_QUEUES - 1, &s->queues))
			goto bad;
	} else if (!strcmp(key, "mac") && id == VIRTIO_ID_NET) {
		if (parse_mac(value, s->mac))
			goto bad;
		s->mac_set = true;
	} else if (!strcmp(key, "vnc") && id == VIRTIO_ID_GPU) {
		if (gpu_vnc_parse_addr(value, &s->vnc)) {
			snprintf(err, n, "bad value for key 'vnc': '%s' (want IPV4:PORT or PORT)",
				 value);
			return -EINVAL;
		}
	} else if (!strcmp(key, "qsize")) {
		if (parse_uint(value, 1, VHOST_USER_MAX_QUEUE_SIZE, &s->queue_size) ||
		    (s->queue_size & (s->queue_size - 1)))
			goto bad;
	} else if (!strcmp(key, "timeout")) {
		if (parse_uint(value, 1, 600000, &s->timeout_ms))
			goto bad;
	} else if (!strcmp(key, "trace")) {
		if (strcmp(value, "on") && strcmp(value, "off"))
			goto bad;
		s->trace = !strcmp(value, "on");
	} else if (!strcmp(key, "trace-file")) {
		if (!*value || strlen(value) >= sizeof(s->trace_file))
			goto bad;
		strcpy(s->trace_file, value);
	} else {
		snprintf(err, n, "unknown key '%s' for a %s device", key, s->type->name);
		return -EINVAL;
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
	return 0;
}

int vu_spec_parse(const char *text, struct vu_spec *spec, char *err, size_t err_size)
{
	char buf[512], *save = NULL, *item;
	int r = 0;

	memset(spec, 0, sizeof(*spec));
	spec->trace = -1;
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
	if (!r && spec->type->id == VIRTIO_ID_FS && !spec->tag[0])
		strcpy(spec->tag, "fs");
	return r;
}
