/* Checker rows for the handshake's results: features, protocol features, queues, config space. */
#include <errno.h>
#include <inttypes.h>
#include <linux/virtio_config.h>
#include <stdarg.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tools/check/check.h"
#include "vhost_user/frontend_internal.h"
#include "vmm/util.h"

#define PF(x) BIT(VHOST_USER_PROTOCOL_F_##x)

void check_row(struct checker *c, const char *name, enum check_result result, const char *rule,
	       const char *fmt, ...)
{
	struct check_row *row;
	va_list ap;

	if (c->nrows == CHECK_ROWS_MAX)
		return;
	row = &c->rows[c->nrows++];
	snprintf(row->name, sizeof(row->name), "%s", name);
	row->result = result;
	row->rule = rule;
	va_start(ap, fmt);
	vsnprintf(row->detail, sizeof(row->detail), fmt, ap);
	va_end(ap);
}

void check_capture_begin(struct checker *c)
{
	fflush(stderr);
	ftruncate(c->capture_fd, 0);
	lseek(c->capture_fd, 0, SEEK_SET);
	dup2(c->capture_fd, 2);
	c->last_log[0] = '\0';
}

/* Keeps the message part of the last error line, else of the last warning. */
static void pick_last_log(struct checker *c, const char *text)
{
	const char *line, *end;
	bool have_error = false;

	for (line = text; *line; line = *end ? end + 1 : end) {
		const char *msg;
		bool error;

		end = strchrnul(line, '\n');
		error = (msg = strstr(line, ": error: ")) && msg < end;
		if (!error && !((msg = strstr(line, ": warning: ")) && msg < end))
			continue;
		if (have_error && !error)
			continue;
		have_error |= error;
		msg = strchr(msg + 2, ':') + 2;
		snprintf(c->last_log, sizeof(c->last_log), "%.*s", (int)(end - msg), msg);
	}
}

void check_capture_end(struct checker *c)
{
	char text[16384];
	ssize_t n;

	fflush(stderr);
	dup2(c->real_stderr, 2);
	n = pread(c->capture_fd, text, sizeof(text) - 1, 0);
	text[n > 0 ? n : 0] = '\0';
	if (c->verbose)
		fputs(text, stderr);
	pick_last_log(c, text);
}

void check_fail_step(struct checker *c, const char *name, const char *rule, int err)
{
	check_row(c, name, CHECK_FAIL, rule, "%s", c->last_log[0] ? c->last_log : strerror(-err));
}

static void check_device_bits(struct checker *c)
{
	uint64_t offered = c->fe.backend_features, odd = 0;
	uint32_t id = c->type->id;
	unsigned bit;

	if (id != 1 && id != 2 && id != 16 && id != 26) {
		check_row(c, "device feature bits", CHECK_SKIP, "virtio spec: device types",
			  "no bit table for type %s", c->type->name);
		return;
	}
	for (bit = 0; bit < 64; bit++) {
		if ((offered & BIT(bit)) && !vhost_user_feature_name(id, bit))
			odd |= BIT(bit);
	}
	if (odd)
		check_row(c, "device feature bits", CHECK_FAIL,
			  "virtio spec: feature bits of the device type",
			  "offers bits 0x%" PRIx64 " that a %s device does not define", odd,
			  c->type->name);
	else
		check_row(c, "device feature bits", CHECK_PASS,
			  "virtio spec: feature bits of the device type",
			  "every offered bit is defined for %s", c->type->name);
}

static void check_protocol(struct checker *c);

void check_features(struct checker *c)
{
	uint64_t f = c->fe.backend_features;

	check_row(c, "VERSION_1 offered", f & BIT(VIRTIO_F_VERSION_1) ? CHECK_PASS : CHECK_FAIL,
		  "virtio spec 6.1 (legacy interface not supported)", "features 0x%" PRIx64, f);
	check_row(c, "PROTOCOL_FEATURES offered",
		  f & BIT(VHOST_USER_F_PROTOCOL_FEATURES) ? CHECK_PASS : CHECK_WARN,
		  "Protocol features", "%s",
		  f & BIT(VHOST_USER_F_PROTOCOL_FEATURES) ? "bit 30 set"
							  : "bit 30 clear: no protocol features");
	check_device_bits(c);
	if (f & (BIT(34) | BIT(35)))
		check_row(c, "ring layout", CHECK_INFO, "virtio spec 2.8 (packed virtqueues)",
			  "offers%s%s; this checker drives split rings only",
			  f & BIT(34) ? " RING_PACKED" : "", f & BIT(35) ? " IN_ORDER" : "");
	if ((f & BIT(26)) && !(c->fe.protocol_offered & PF(LOG_SHMFD)))
		check_row(c, "LOG_ALL without LOG_SHMFD", CHECK_WARN, "Migration",
			  "dirty logging offered but no way to share the log");
	if (f & BIT(VHOST_USER_F_PROTOCOL_FEATURES))
		check_protocol(c);
	check_row(c, "queue count", CHECK_PASS, "Multiple queue support", "%u (%s); %s needs %u",
		  c->fe.backend_queue_num,
		  c->fe.protocol_offered & PF(MQ) ? "GET_QUEUE_NUM" : "no MQ: type minimum",
		  c->type->name, c->type->min_queues);
}

/* Protocol features that need another one to be usable at all. */
static const struct {
	unsigned bit;
	uint64_t needs;
} protocol_deps[] = {
    {VHOST_USER_PROTOCOL_F_BACKEND_SEND_FD, PF(BACKEND_REQ)},
    {VHOST_USER_PROTOCOL_F_HOST_NOTIFIER, PF(BACKEND_REQ) | PF(BACKEND_SEND_FD)},
    {VHOST_USER_PROTOCOL_F_INBAND_NOTIFICATIONS, PF(BACKEND_REQ)},
    {VHOST_USER_PROTOCOL_F_SHARED_OBJECT, PF(BACKEND_REQ)},
    {VHOST_USER_PROTOCOL_F_SHMEM, PF(BACKEND_REQ) | PF(BACKEND_SEND_FD)},
};

static void check_protocol_deps(struct checker *c, uint64_t p)
{
	char missing[200] = "";
	size_t i, used = 0;

	for (i = 0; i < ARRAY_SIZE(protocol_deps); i++) {
		uint64_t lack = protocol_deps[i].needs & ~p;

		if (!(p & BIT(protocol_deps[i].bit)) || !lack)
			continue;
		used += (size_t)snprintf(
		    missing + used, sizeof(missing) - used, "%s%s needs %s", used ? "; " : "",
		    vhost_user_protocol_feature_name(protocol_deps[i].bit),
		    vhost_user_protocol_feature_name((unsigned)__builtin_ctzll(lack)));
		if (used >= sizeof(missing))
			break;
	}
	check_row(c, "protocol feature dependencies", missing[0] ? CHECK_FAIL : CHECK_PASS,
		  "Protocol features", "%s", missing[0] ? missing : "all satisfied");
}

/* Bits only one kind of device may offer. */
static void check_protocol_types(struct checker *c, uint64_t p)
{
	uint64_t net_only = PF(RARP) | PF(NET_MTU);

	if (c->type->id != 1 && (p & net_only))
		check_row(c, "net-only protocol features", CHECK_WARN, "Protocol features",
			  "a %s device offers RARP/NET_MTU (0x%" PRIx64 ")", c->type->name,
			  p & net_only);
	if (c->type->id != 20 && (p & PF(CRYPTO_SESSION)))
		check_row(c, "crypto-only protocol feature", CHECK_WARN, "Protocol features",
			  "a %s device offers CRYPTO_SESSION", c->type->name);
	if ((p & PF(CONFIG)) && !(p & PF(BACKEND_REQ)))
		check_row(c, "CONFIG without BACKEND_REQ", CHECK_INFO, "Back-end communication",
			  "config changes cannot be announced");
}

static void check_mem_slots(struct checker *c)
{
	uint64_t slots = 0;
	int err;

	check_capture_begin(c);
	err = vu_get_u64(&c->fe, VHOST_USER_GET_MAX_MEM_SLOTS, &slots);
	check_capture_end(c);
	if (err)
		check_fail_step(c, "GET_MAX_MEM_SLOTS", "Front-end message types", err);
	else
		check_row(c, "GET_MAX_MEM_SLOTS", slots ? CHECK_PASS : CHECK_FAIL,
			  "Front-end message types", "%" PRIu64 " slots", slots);
}

static void check_protocol(struct checker *c)
{
	uint64_t p = c->fe.protocol_offered;
	uint64_t undefined = p & ~(BIT(VHOST_USER_PROTOCOL_F_COUNT) - 1);
	char names[240] = "";
	size_t used = 0;
	unsigned bit;

	for (bit = 0; bit < VHOST_USER_PROTOCOL_F_COUNT && used < sizeof(names); bit++) {
		if (p & BIT(bit))
			used += (size_t)snprintf(names + used, sizeof(names) - used, "%s%s",
						 used ? " " : "",
						 vhost_user_protocol_feature_name(bit));
	}
	check_row(c, "protocol features", undefined ? CHECK_FAIL : CHECK_PASS, "Protocol features",
		  "0x%" PRIx64 ": %s%s", p, names, undefined ? " + undefined bits" : "");
	check_protocol_deps(c, p);
	check_protocol_types(c, p);
	if (p & PF(REPLY_ACK))
		check_row(c, "REPLY_ACK", CHECK_PASS, "VHOST_USER_PROTOCOL_F_REPLY_ACK",
			  "every handshake request with NEED_REPLY was acked with 0");
	if (c->fe.protocol_features & PF(CONFIGURE_MEM_SLOTS))
		check_mem_slots(c);
}

/* Type-specific sanity of the config bytes; NULL when they look right. */
static const char *config_oddity(const struct checker *c, const uint8_t *cfg)
{
	uint64_t capacity;
	uint32_t u32;

	switch (c->type->id) {
	case 2:
		memcpy(&capacity, cfg, 8);
		memcpy(&u32, cfg + 20, 4);
		if (capacity == 0)
			return "blk capacity is 0";
		if ((c->fe.backend_features & BIT(6)) && (u32 < 512 || (u32 & (u32 - 1))))
			return "blk_size is not a power of two >= 512";
		return NULL;
	case 26:
		memcpy(&u32, cfg + 36, 4);
		if (cfg[0] == 0)
			return "fs tag is empty";
		return u32 ? NULL : "fs num_request_queues is 0";
	case 16:
		memcpy(&u32, cfg + 8, 4);
		return u32 <= 16 ? NULL : "gpu num_scanouts above 16";
	}
	return NULL;
}

/*
 * Config fields a front-end owns: QEMU's vhost-user-gpu front-end fills
 * num_scanouts (and the events fields) itself, so a back-end leaving it 0
 * is common practice, worth a warning only.
 */
static const char *config_warning(const struct checker *c, const uint8_t *cfg)
{
	uint32_t u32;

	if (c->type->id != 16)
		return NULL;
	memcpy(&u32, cfg + 8, 4);
	return u32 ? NULL : "gpu num_scanouts 0: the front-end must supply the scanout count";
}

/* Asks for more than the config size: back-ends differ, so this only informs. */
static void probe_larger_config(struct checker *c)
{
	const uint32_t size = c->type->config_size + 8;
	const struct vhost_user_reply_spec spec = {.request = VHOST_USER_GET_CONFIG,
						   .max_size = VHOST_USER_CONFIG_HDR_SIZE +
							       VHOST_USER_CONFIG_MAX};
	struct vhost_user_config request = {.size = size};
	struct vhost_user_msg reply;
	int err;

	check_capture_begin(c);
	err = vu_call(&c->fe, VHOST_USER_GET_CONFIG, &request, VHOST_USER_CONFIG_HDR_SIZE + size,
		      &spec, &reply, NULL);
	check_capture_end(c);
	if (err)
		check_fail_step(c, "GET_CONFIG larger than device", "Front-end message types", err);
	else
		check_row(c, "GET_CONFIG larger than device", CHECK_INFO, "Front-end message types",
			  "asked %u bytes, reply payload %u bytes", size, reply.hdr.size);
}

void check_config(struct checker *c)
{
	uint8_t cfg[VHOST_USER_CONFIG_MAX];
	char hex[3 * 24 + 1] = "";
	enum check_result result;
	const char *odd;
	unsigned i;
	int err;

	if (c->type->config_size == 0) {
		check_row(c, "GET_CONFIG", CHECK_SKIP, "-", "type %s has no config space",
			  c->type->name);
		return;
	}
	if (!(c->fe.protocol_offered & PF(CONFIG))) {
		check_row(c, "GET_CONFIG", CHECK_INFO, "Protocol features",
			  "no CONFIG protocol feature: the frontend must supply the config");
		return;
	}
	check_capture_begin(c);
	err = vhost_user_frontend_get_config(&c->fe, 0, cfg, c->type->config_size);
	check_capture_end(c);
	if (err) {
		check_fail_step(c, "GET_CONFIG exact size", "Front-end message types", err);
		return;
	}
	for (i = 0; i < c->type->config_size && i < 24; i++)
		snprintf(hex + 3 * i, sizeof(hex) - 3 * i, "%02x ", cfg[i]);
	odd = config_oddity(c, cfg);
	result = odd ? CHECK_FAIL : CHECK_PASS;
	if (!odd && (odd = config_warning(c, cfg)))
		result = CHECK_WARN;
	check_row(c, "GET_CONFIG exact size", result, "Front-end message types", "%u bytes: %s%s%s",
		  c->type->config_size, hex, odd ? "; " : "", odd ? odd : "");
	probe_larger_config(c);
}
