/* vhost-user protocol trace: decodes each message once per sink, as text or as a JSON line. */
#include "vhost_user/trace.h"
#include "vmm/clock.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RAW_BYTES_MAX 64 /* undecoded payloads: show this much */
#define LINE_MAX_BYTES 4096
#define DEPTH_MAX 6

/*
 * Builds one line; the same decoder drives both formats through these calls.
 * Text goes straight into buf; the JSON form is built as jansson values, one
 * container per open bracket, and dumped once the line is complete.
 */
struct emitter {
	char *buf;
	size_t len, pos;
	bool json;
	int depth;
	bool first[DEPTH_MAX];
	json_t *open[DEPTH_MAX]; /* json: the object or array each depth fills */
	int real_digits;	 /* json: significant digits the reals need (%.Ng) */
};

static void em_raw(struct emitter *em, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void em_raw(struct emitter *em, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (em->pos + 1 >= em->len)
		return;
	va_start(ap, fmt);
	n = vsnprintf(em->buf + em->pos, em->len - em->pos, fmt, ap);
	va_end(ap);
	if (n > 0)
		em->pos += (size_t)n < em->len - em->pos ? (size_t)n : em->len - em->pos - 1;
}

/* Text: separator, then "key="; key NULL inside arrays. */
static void em_key(struct emitter *em, const char *key)
{
	if (!em->first[em->depth])
		em_raw(em, " ");
	em->first[em->depth] = false;
	if (key)
		em_raw(em, "%s=", key);
}

/*
 * JSON: adds v (the reference is taken) to the open container, under key in
 * an object. A value that could not be made (no memory) is left out.
 */
static void em_put(struct emitter *em, const char *key, json_t *v)
{
	json_t *c = em->open[em->depth];

	if (json_is_array(c))
		json_array_append_new(c, v);
	else if (json_is_object(c) && key)
		json_object_set_new(c, key, v);
	else
		json_decref(v);
}

static void em_u64(struct emitter *em, const char *key, uint64_t v)
{
	if (em->json && v <= INT64_MAX) {
		em_put(em, key, json_integer((json_int_t)v));
		return;
	}
	if (em->json) {
		/* json_int_t is signed: as a real, a peer's all-ones u64 keeps its size, not -1. */
		em->real_digits = 17;
		em_put(em, key, json_real((double)v));
		return;
	}
	em_key(em, key);
	em_raw(em, "%" PRIu64, v);
}

static void em_hex(struct emitter *em, const char *key, uint64_t v)
{
	if (em->json) {
		em_put(em, key, json_sprintf("0x%" PRIx64, v));
		return;
	}
	em_key(em, key);
	em_raw(em, "0x%" PRIx64, v);
}

/* Strings from peers or users: one word in text; in JSON, bytes that are not UTF-8 become '?'. */
static void em_str(struct emitter *em, const char *key, const char *s)
{
	if (em->json) {
		json_t *v = json_string(s);
		char safe[64];
		size_t i;

		for (i = 0; !v && s[i] && i + 1 < sizeof(safe); i++)
			safe[i] = (unsigned char)s[i] < 0x80 ? s[i] : '?';
		if (!v) {
			safe[i] = '\0';
			v = json_string(safe);
		}
		em_put(em, key, v);
		return;
	}
	em_key(em, key);
	for (; *s; s++) {
		char c = *s;
		if (c == '"' || c == '\\' || (unsigned char)c < 0x20 || c == ' ')
			c = '?';
		em_raw(em, "%c", c);
	}
}

static void em_open(struct emitter *em, const char *key, char bracket)
{
	json_t *c = NULL;

	if (em->json) {
		c = bracket == '{' ? json_object() : json_array();
		em_put(em, key, json_incref(c));
	} else {
		em_key(em, key);
		em_raw(em, "%c", bracket);
	}
	if (em->depth + 1 < DEPTH_MAX) {
		em->depth++;
		json_decref(em->open[em->depth]);
		em->open[em->depth] = c;
	} else {
		json_decref(c);
	}
	em->first[em->depth] = true;
}

static void em_close(struct emitter *em, char bracket)
{
	if (!em->json)
		em_raw(em, "%c", bracket);
	if (em->depth > 0) {
		json_decref(em->open[em->depth]);
		em->open[em->depth] = NULL;
		em->depth--;
	}
}

static void em_bytes(struct emitter *em, const char *key, const uint8_t *p, size_t n)
{
	char *hex;
	size_t i;

	if (!em->json) {
		em_key(em, key);
		for (i = 0; i < n; i++)
			em_raw(em, "%02x", p[i]);
		return;
	}
	hex = malloc(2 * n + 1);
	if (!hex)
		return;
	for (i = 0; i < n; i++)
		snprintf(hex + 2 * i, 3, "%02x", p[i]);
	hex[2 * n] = '\0';
	em_put(em, key, json_string(hex));
	free(hex);
}

static const char *const transport_names[64] = {
    [24] = "NOTIFY_ON_EMPTY",	[26] = "LOG_ALL",	    [27] = "ANY_LAYOUT",
    [28] = "INDIRECT_DESC",	[29] = "EVENT_IDX",	    [30] = "PROTOCOL_FEATURES",
    [32] = "VERSION_1",		[33] = "ACCESS_PLATFORM",   [34] = "RING_PACKED",
    [35] = "IN_ORDER",		[36] = "ORDER_PLATFORM",    [37] = "SR_IOV",
    [38] = "NOTIFICATION_DATA", [39] = "NOTIF_CONFIG_DATA", [40] = "RING_RESET",
};
static const char *const net_names[24] = {
    "CSUM",
    "GUEST_CSUM",
    "CTRL_GUEST_OFFLOADS",
    "MTU",
    NULL,
    "MAC",
    "GSO",
    "GUEST_TSO4",
    "GUEST_TSO6",
    "GUEST_ECN",
    "GUEST_UFO",
    "HOST_TSO4",
    "HOST_TSO6",
    "HOST_ECN",
    "HOST_UFO",
    "MRG_RXBUF",
    "STATUS",
    "CTRL_VQ",
    "CTRL_RX",
    "CTRL_VLAN",
    "CTRL_RX_EXTRA",
    "GUEST_ANNOUNCE",
    "MQ",
    "CTRL_MAC_ADDR",
};
static const char *const blk_names[24] = {
    "BARRIER",	"SIZE_MAX", "SEG_MAX",	    NULL,	"GEOMETRY",	"RO",
    "BLK_SIZE", "SCSI",	    NULL,	    "FLUSH",	"TOPOLOGY",	"CONFIG_WCE",
    "MQ",	"DISCARD",  "WRITE_ZEROES", "LIFETIME", "SECURE_ERASE", "ZONED",
};
static const char *const fs_names[24] = {"NOTIFICATION"};
static const char *const gpu_names[24] = {"VIRGL", "EDID", "RESOURCE_UUID", "RESOURCE_BLOB",
					  "CONTEXT_INIT"};

const char *vhost_user_feature_name(uint32_t type_id, unsigned bit)
{
	const char *const *device = NULL;

	if (bit >= 64)
		return NULL;
	if (bit >= 24)
		return transport_names[bit];
	switch (type_id) {
	case 1:
		device = net_names;
		break;
	case 2:
		device = blk_names;
		break;
	case 16:
		device = gpu_names;
		break;
	case 26:
		device = fs_names;
		break;
	}
	return device ? device[bit] : NULL;
}

/* Feature bit's name, or NULL when unnamed. */
static const char *bit_name(uint32_t type_id, bool protocol, unsigned bit)
{
	if (!protocol)
		return vhost_user_feature_name(type_id, bit);
	return bit < VHOST_USER_PROTOCOL_F_COUNT ? vhost_user_protocol_feature_name(bit) : NULL;
}

/* JSON: "key":"0x..","key_names":["A","B","bitN"]. */
static void em_bits_json(struct emitter *em, const char *key, uint64_t v, uint32_t type_id,
			 bool protocol)
{
	json_t *names = json_array();
	char names_key[32];

	for (unsigned bit = 0; bit < 64; bit++) {
		const char *name = bit_name(type_id, protocol, bit);

		if (v & (1ull << bit))
			json_array_append_new(names, name ? json_string(name)
							  : json_sprintf("bit%u", bit));
	}
	em_hex(em, key, v);
	snprintf(names_key, sizeof(names_key), "%s_names", key);
	em_put(em, names_key, names);
}

/* "key":"0x..","key_names":[...] or key=0x..<A,B,bitN>. */
static void em_bits(struct emitter *em, const char *key, uint64_t v, uint32_t type_id,
		    bool protocol)
{
	bool first = true;

	if (em->json) {
		em_bits_json(em, key, v, type_id, protocol);
		return;
	}
	em_hex(em, key, v);
	em_raw(em, "<");
	for (unsigned bit = 0; bit < 64; bit++) {
		const char *name = bit_name(type_id, protocol, bit);

		if (!(v & (1ull << bit)))
			continue;
		em_raw(em, "%s", first ? "" : ",");
		if (name)
			em_raw(em, "%s", name);
		else
			em_raw(em, "bit%u", bit);
		first = false;
	}
	em_raw(em, ">");
}

static void em_region(struct emitter *em, const char *key, const struct vhost_user_mem_region *r)
{
	em_open(em, key, '{');
	em_hex(em, "gpa", r->guest_phys_addr);
	em_hex(em, "size", r->memory_size);
	em_hex(em, "uaddr", r->userspace_addr);
	em_hex(em, "offset", r->mmap_offset);
	em_close(em, '}');
}

static void em_raw_payload(struct emitter *em, const uint8_t *p, uint32_t size)
{
	em_bytes(em, "raw", p, size < RAW_BYTES_MAX ? size : RAW_BYTES_MAX);
	if (size > RAW_BYTES_MAX)
		em_u64(em, "raw_truncated_from", size);
}

/* How a payload is laid out, from request code and direction. */
enum payload_kind {
	P_NONE,
	P_FEATURES,
	P_PROTOCOL,
	P_NUM,
	P_MEMORY,
	P_REGION,
	P_STATE,
	P_ADDR,
	P_VRING_FD,
	P_CONFIG,
	P_STATUS,
	P_LOG,
	P_INFLIGHT,
	P_ACK,
	P_AREA,
	P_SHMEM,
	P_RAW,
};

static enum payload_kind main_reply_kind(uint32_t request)
{
	switch (request) {
	case VHOST_USER_GET_FEATURES:
		return P_FEATURES;
	case VHOST_USER_GET_PROTOCOL_FEATURES:
		return P_PROTOCOL;
	case VHOST_USER_GET_QUEUE_NUM:
	case VHOST_USER_GET_MAX_MEM_SLOTS:
		return P_NUM;
	case VHOST_USER_GET_VRING_BASE:
		return P_STATE;
	case VHOST_USER_GET_CONFIG:
		return P_CONFIG;
	case VHOST_USER_GET_STATUS:
		return P_STATUS;
	case VHOST_USER_GET_INFLIGHT_FD:
		return P_INFLIGHT;
	default:
		return P_ACK; /* REPLY_ACK for everything else */
	}
}

static enum payload_kind main_request_kind(uint32_t request)
{
	switch (request) {
	case VHOST_USER_SET_FEATURES:
		return P_FEATURES;
	case VHOST_USER_SET_PROTOCOL_FEATURES:
		return P_PROTOCOL;
	case VHOST_USER_SET_MEM_TABLE:
		return P_MEMORY;
	case VHOST_USER_ADD_MEM_REG:
	case VHOST_USER_REM_MEM_REG:
		return P_REGION;
	case VHOST_USER_SET_VRING_NUM:
	case VHOST_USER_SET_VRING_BASE:
	case VHOST_USER_GET_VRING_BASE:
	case VHOST_USER_SET_VRING_ENABLE:
	case VHOST_USER_SET_VRING_ENDIAN:
		return P_STATE;
	case VHOST_USER_SET_VRING_ADDR:
		return P_ADDR;
	case VHOST_USER_SET_VRING_KICK:
	case VHOST_USER_SET_VRING_CALL:
	case VHOST_USER_SET_VRING_ERR:
		return P_VRING_FD;
	case VHOST_USER_GET_CONFIG:
	case VHOST_USER_SET_CONFIG:
		return P_CONFIG;
	case VHOST_USER_SET_STATUS:
		return P_STATUS;
	case VHOST_USER_SET_LOG_BASE:
		return P_LOG;
	case VHOST_USER_SET_INFLIGHT_FD:
		return P_INFLIGHT;
	case VHOST_USER_NET_SET_MTU:
		return P_NUM;
	default:
		return P_RAW;
	}
}

static enum payload_kind backend_request_kind(uint32_t request)
{
	switch (request) {
	case VHOST_USER_BACKEND_CONFIG_CHANGE_MSG:
		return P_NONE;
	case VHOST_USER_BACKEND_VRING_CALL:
	case VHOST_USER_BACKEND_VRING_ERR:
		return P_STATE;
	case VHOST_USER_BACKEND_VRING_HOST_NOTIFIER_MSG:
		return P_AREA;
	case VHOST_USER_BACKEND_SHMEM_MAP:
	case VHOST_USER_BACKEND_SHMEM_UNMAP:
		return P_SHMEM;
	default:
		return P_RAW;
	}
}

static void decode_memory(struct emitter *em, const struct vhost_user_memory *m, uint32_t size)
{
	uint32_t i, room = (uint32_t)((size - offsetof(struct vhost_user_memory, regions)) /
				      sizeof(struct vhost_user_mem_region));

	em_u64(em, "nregions", m->nregions);
	em_open(em, "regions", '[');
	for (i = 0; i < m->nregions && i < room && i < VHOST_USER_MEM_REGIONS_MAX; i++)
		em_region(em, NULL, &m->regions[i]);
	em_close(em, ']');
}

static void decode_config(struct emitter *em, const struct vhost_user_config *c, uint32_t size)
{
	uint32_t room = size - VHOST_USER_CONFIG_HDR_SIZE;

	em_u64(em, "offset", c->offset);
	em_u64(em, "cfg_size", c->size);
	em_hex(em, "cfg_flags", c->flags);
	if (room)
		em_bytes(em, "bytes", c->region, room < c->size ? room : c->size);
}

static void decode_addr(struct emitter *em, const struct vhost_user_vring_addr *a)
{
	em_u64(em, "index", a->index);
	em_hex(em, "flags", a->flags);
	em_hex(em, "desc", a->desc_user_addr);
	em_hex(em, "used", a->used_user_addr);
	em_hex(em, "avail", a->avail_user_addr);
	em_hex(em, "log", a->log_guest_addr);
}

static void decode_misc(struct emitter *em, enum payload_kind kind,
			const union vhost_user_payload *p)
{
	switch (kind) {
	case P_LOG:
		em_hex(em, "mmap_size", p->log.mmap_size);
		em_hex(em, "mmap_offset", p->log.mmap_offset);
		break;
	case P_INFLIGHT:
		em_hex(em, "mmap_size", p->inflight.mmap_size);
		em_hex(em, "mmap_offset", p->inflight.mmap_offset);
		em_u64(em, "num_queues", p->inflight.num_queues);
		em_u64(em, "queue_size", p->inflight.queue_size);
		break;
	case P_AREA:
		em_u64(em, "index", p->area.u64 & VHOST_USER_VRING_INDEX_MASK);
		em_u64(em, "nofd", !!(p->area.u64 & VHOST_USER_VRING_NOFD_MASK));
		em_hex(em, "area_size", p->area.size);
		em_hex(em, "area_offset", p->area.offset);
		break;
	case P_SHMEM:
		em_u64(em, "shmid", p->shmem_map.shmid);
		em_hex(em, "fd_offset", p->shmem_map.fd_offset);
		em_hex(em, "shm_offset", p->shmem_map.shm_offset);
		em_hex(em, "len", p->shmem_map.len);
		em_hex(em, "map_flags", p->shmem_map.flags);
		break;
	default:
		break;
	}
}

static void decode_payload(struct emitter *em, enum payload_kind kind, uint32_t min_size,
			   uint32_t type_id, const union vhost_user_payload *p, uint32_t size)
{
	if (kind == P_NONE && size == 0)
		return;
	if (kind == P_NONE || kind == P_RAW || size < min_size) {
		if (size)
			em_raw_payload(em, p->raw, size);
		return;
	}
	switch (kind) {
	case P_FEATURES:
		em_bits(em, "features", p->u64, type_id, false);
		break;
	case P_PROTOCOL:
		em_bits(em, "protocol", p->u64, type_id, true);
		break;
	case P_NUM:
		em_u64(em, "num", p->u64);
		break;
	case P_ACK:
		em_u64(em, "ack", p->u64);
		break;
	case P_STATUS:
		em_hex(em, "status", p->u64);
		break;
	case P_MEMORY:
		decode_memory(em, &p->memory, size);
		break;
	case P_REGION:
		em_region(em, "region", &p->mem_reg.region);
		break;
	case P_STATE:
		em_u64(em, "index", p->state.index);
		em_u64(em, "num", p->state.num);
		break;
	case P_ADDR:
		decode_addr(em, &p->addr);
		break;
	case P_VRING_FD:
		em_u64(em, "index", p->u64 & VHOST_USER_VRING_INDEX_MASK);
		em_u64(em, "nofd", !!(p->u64 & VHOST_USER_VRING_NOFD_MASK));
		break;
	case P_CONFIG:
		decode_config(em, &p->config, size);
		break;
	default:
		decode_misc(em, kind, p);
		break;
	}
}

static enum payload_kind event_kind(const struct vhost_user_trace_event *ev)
{
	bool reply = ev->msg->hdr.flags & VHOST_USER_FLAG_REPLY;
	uint32_t request = ev->msg->hdr.request;

	if (ev->backend_channel)
		return reply ? P_ACK : backend_request_kind(request);
	return reply ? main_reply_kind(request) : main_request_kind(request);
}

/* Digits for "t" to keep its microseconds and no more: the seconds' digits plus six. */
static int t_digits(uint64_t t_ns)
{
	int digits = 7;

	for (uint64_t s = t_ns / 1000000000u; s >= 10; s /= 10)
		digits++;
	return digits;
}

/* Smallest payload the message table allows this message; a shorter one is shown raw. */
static uint32_t event_min_size(const struct vhost_user_trace_event *ev)
{
	uint32_t request = ev->msg->hdr.request;
	const struct vhost_user_msg_info *info = ev->backend_channel
						     ? vhost_user_backend_request_info(request)
						     : vhost_user_request_info(request);

	if (!(ev->msg->hdr.flags & VHOST_USER_FLAG_REPLY))
		return info ? info->size.min : 0;
	return info && info->has_reply ? info->reply.min : VHOST_USER_ACK_SIZE;
}

static void em_header(struct emitter *em, uint64_t t_ns, const struct vhost_user_trace_event *ev)
{
	const struct vhost_user_header *h = &ev->msg->hdr;
	const char *name = ev->backend_channel ? vhost_user_backend_request_name(h->request)
					       : vhost_user_request_name(h->request);
	bool send = ev->dir == VHOST_USER_TRACE_SEND;
	unsigned i;

	if (em->json) {
		em->open[0] = json_object();
		em->real_digits = t_digits(t_ns);
		em_put(em, "t", json_real((double)(t_ns / 1000u) / 1e6));
		em_str(em, "device", ev->device);
		em_str(em, "dir", send ? "send" : "recv");
		em_str(em, "channel", ev->backend_channel ? "backend" : "main");
		em_str(em, "request", name);
		em_u64(em, "code", h->request);
	} else {
		em_raw(em, "vhost-user trace %" PRIu64 ".%06" PRIu64 " %s %s %s",
		       t_ns / 1000000000u, t_ns / 1000u % 1000000u, ev->device,
		       ev->backend_channel ? (send ? "=>" : "<=") : (send ? "->" : "<-"), name);
		if (strcmp(name, "UNKNOWN") == 0)
			em_raw(em, "(%u)", h->request);
		em->first[0] = false;
	}
	em_hex(em, "flags", h->flags);
	em_u64(em, "size", h->size);
	if (ev->nfds || em->json) {
		em_open(em, "fds", '[');
		for (i = 0; i < ev->nfds; i++)
			em_u64(em, NULL, (uint64_t)ev->fds[i]);
		em_close(em, ']');
	}
}

/* Dumps the finished JSON line into em->buf, truncated like the text form. */
static void em_dump(struct emitter *em)
{
	char *text = json_dumps(em->open[0], JSON_COMPACT | JSON_REAL_PRECISION(em->real_digits));

	if (text)
		em_raw(em, "%s", text);
	free(text);
	for (int d = 0; d < DEPTH_MAX; d++)
		json_decref(em->open[d]);
}

size_t vhost_user_trace_format(char *buf, size_t len, bool json, uint64_t t_ns,
			       const struct vhost_user_trace_event *ev)
{
	struct emitter em = {.buf = buf, .len = len, .json = json};
	uint32_t size = ev->msg->hdr.size;

	if (len == 0)
		return 0;
	buf[0] = '\0';
	if (size > VHOST_USER_PAYLOAD_MAX)
		size = 0; /* never received past the header: nothing to decode */
	em_header(&em, t_ns, ev);
	if (json)
		em_open(&em, "payload", '{');
	decode_payload(&em, event_kind(ev), event_min_size(ev), ev->type_id, &ev->msg->payload,
		       size);
	if (json) {
		em_close(&em, '}');
		em_dump(&em);
	}
	return em.pos;
}

int vhost_user_trace_open(struct vhost_user_trace *t, FILE *text, const char *json_path)
{
	memset(t, 0, sizeof(*t));
	if (!text && !json_path)
		return -EINVAL;
	t->text = text;
	if (json_path) {
		t->json = fopen(json_path, "we");
		if (!t->json)
			return -errno;
		t->owns_json = true;
	}
	t->start_ns = monotonic_ns();
	return 0;
}

void vhost_user_trace_close(struct vhost_user_trace *t)
{
	if (t->text)
		fflush(t->text);
	if (t->json && t->owns_json)
		fclose(t->json);
	t->text = NULL;
	t->json = NULL;
	t->owns_json = false;
}

static void write_line(FILE *f, bool json, uint64_t t_ns, const struct vhost_user_trace_event *ev)
{
	char line[LINE_MAX_BYTES];
	size_t n = vhost_user_trace_format(line, sizeof(line) - 1, json, t_ns, ev);

	line[n++] = '\n';
	/* One call per line: stdio's lock keeps concurrent devices' lines whole. */
	if (fwrite(line, 1, n, f) == n && json)
		fflush(f);
}

void vhost_user_trace_message(struct vhost_user_trace *t, const struct vhost_user_trace_event *ev)
{
	uint64_t t_ns;

	if (!t)
		return;
	t_ns = monotonic_ns() - t->start_ns;
	if (t->text)
		write_line(t->text, false, t_ns, ev);
	if (t->json)
		write_line(t->json, true, t_ns, ev);
}
