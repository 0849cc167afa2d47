/*
 * vhost-user-check: a conformance checker for vhost-user back-ends. Acts as
 * a frontend with no VM (guest memory in memfds), walks handshake, feature
 * sanity, config, memory table, rings, a smoke request, ring restart, reset
 * and reconnect, and prints one row per check with the spec rule it tests.
 *   vhost-user-check --type blk|net|fs|gpu|... --socket PATH [--timeout MS]
 *                    [--verbose] [--trace] [--trace-file PATH] [--no-reconnect]
 * Exits 0 when no check failed, 1 when one did, 2 on bad usage.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <linux/virtio_config.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tests/lib/fake_vm.h"
#include "tools/check/check.h"
#include "vmm/util.h"

struct options {
	const char *type, *socket, *trace_file;
	int timeout_ms;
	bool verbose, trace, reconnect;
};

/* A step's outcome as a row; a hang-up gets said plainly. */
static int step_row(struct checker *c, const char *name, const char *rule, int err,
		    const char *ok_fmt, ...) __attribute__((format(printf, 5, 6)));
static int step_row(struct checker *c, const char *name, const char *rule, int err,
		    const char *ok_fmt, ...)
{
	char detail[200];
	va_list ap;

	if (!err) {
		va_start(ap, ok_fmt);
		vsnprintf(detail, sizeof(detail), ok_fmt, ap);
		va_end(ap);
		check_row(c, name, CHECK_PASS, rule, "%s", detail);
		return 0;
	}
	check_row(c, name, CHECK_FAIL, rule, "%s%s", c->last_log[0] ? c->last_log : strerror(-err),
		  err == -ECONNRESET || err == -EPIPE
		      ? " -- the back-end closed the connection (crashed or exited?)"
		      : "");
	return err;
}

/* retry_ms < 0: already connected, hand-shake only. */
static int connect_and_handshake(struct checker *c, const char *name, int retry_ms)
{
	int err = 0;

	check_capture_begin(c);
	if (retry_ms >= 0)
		err = vhost_user_frontend_connect(&c->fe, c->socket, (unsigned)retry_ms);
	if (!err)
		err = vhost_user_frontend_handshake(&c->fe);
	check_capture_end(c);
	return step_row(c, name, "Communication", err,
			"features 0x%" PRIx64 ", protocol 0x%" PRIx64 ", %u queue(s)",
			c->fe.backend_features, c->fe.protocol_offered, c->fe.backend_queue_num);
}

static int configure(struct checker *c)
{
	uint64_t wanted = BIT(VIRTIO_F_VERSION_1) & c->fe.device_features;
	int err;

	check_capture_begin(c);
	err = vhost_user_frontend_set_features(&c->fe, wanted);
	check_capture_end(c);
	if (step_row(c, "SET_FEATURES", "Feature negotiation (Communication)", err,
		     "acked 0x%" PRIx64, wanted))
		return err;
	check_capture_begin(c);
	err = vhost_user_frontend_set_mem_table(&c->fe, &c->mem);
	check_capture_end(c);
	return step_row(c, "SET_MEM_TABLE", "Memory access", err, "%u memfd regions",
			c->mem.nregions);
}

static int start_rings(struct checker *c, const uint16_t *bases, const char *name)
{
	unsigned i;
	int err = 0;

	check_capture_begin(c);
	for (i = 0; i < c->nvqs && !err; i++) {
		struct vhost_user_vring ring = test_vq_ring(&c->vqs[i], bases ? bases[i] : 0);

		err = vhost_user_frontend_start_queue(&c->fe, i, &ring);
	}
	check_capture_end(c);
	if (step_row(c, name, "Ring states", err, "%u ring(s) of %u, NUM/ADDR/BASE/CALL/KICK%s",
		     c->nvqs, CHECK_QUEUE_SIZE, c->fe.protocol_features ? "/ENABLE" : ""))
		return err;
	if (bases || !(c->fe.protocol_features & BIT(VHOST_USER_PROTOCOL_F_STATUS)))
		return 0;
	uint8_t status = 0;

	check_capture_begin(c);
	err = vhost_user_frontend_set_status(
	    &c->fe, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
			VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK);
	if (!err)
		err = vhost_user_frontend_get_status(&c->fe, &status);
	check_capture_end(c);
	return step_row(c, "SET_STATUS/GET_STATUS", "Front-end message types", err,
			"DRIVER_OK set, status reads 0x%x", status);
}

/* GET_VRING_BASE must name what the back-end consumed: all it was given, rx aside. */
static int stop_rings(struct checker *c, uint16_t *bases)
{
	char detail[160] = "";
	size_t used = 0;
	bool wrong = false;
	unsigned i;
	int err = 0;

	check_capture_begin(c);
	for (i = 0; i < c->nvqs && !err; i++) {
		const struct test_vq *vq = &c->vqs[i];

		err = vhost_user_frontend_stop_queue(&c->fe, i, &bases[i]);
		if (err)
			break;
		wrong |= (uint16_t)(bases[i] - vq->used_seen) >
			 (uint16_t)(vq->avail_idx - vq->used_seen);
		used += (size_t)snprintf(detail + used, sizeof(detail) - used,
					 "%sring %u base %u (used %u, avail %u)", i ? "; " : "", i,
					 bases[i], vq->used_seen, vq->avail_idx);
		if (used >= sizeof(detail))
			used = sizeof(detail) - 1;
	}
	check_capture_end(c);
	if (step_row(c, "stop rings (GET_VRING_BASE)", "Ring states", err, "%s", detail))
		return err;
	if (wrong)
		c->rows[c->nrows - 1].result = CHECK_FAIL;
	return 0;
}

static void reconnect(struct checker *c)
{
	vhost_user_frontend_close(&c->fe);
	int err;

	check_capture_begin(c);
	err = vhost_user_frontend_connect(&c->fe, c->socket, 2000);
	check_capture_end(c);
	if (err) {
		check_row(c, "reconnect", CHECK_INFO, "Communication",
			  "no new connection accepted (%s): the back-end serves one connection",
			  strerror(-err));
		return;
	}
	connect_and_handshake(c, "handshake after reconnect", -1);
}

static int setup_rings(struct checker *c)
{
	unsigned i;
	int err = 0;

	c->nvqs = c->type->min_queues < c->fe.num_queues ? c->type->min_queues : c->fe.num_queues;
	if (c->nvqs > CHECK_QUEUES_MAX)
		c->nvqs = CHECK_QUEUES_MAX;
	for (i = 0; i < c->nvqs && !err; i++)
		err = test_vq_init(&c->vqs[i], &c->mem, CHECK_RING_GPA(i), CHECK_QUEUE_SIZE);
	return err;
}

/* The walk; stops at the first failure that leaves nothing sensible to test. */
static void run_checks(struct checker *c, bool do_reconnect)
{
	uint16_t bases[CHECK_QUEUES_MAX];
	int err;

	if (connect_and_handshake(c, "connect + handshake", 3000))
		return;
	check_display_attach(c);
	check_features(c);
	check_config(c);
	if (configure(c) || setup_rings(c) || start_rings(c, NULL, "start rings"))
		return;
	check_smoke(c, "(first start)");
	if (stop_rings(c, bases) || start_rings(c, bases, "restart rings at their bases"))
		return;
	check_smoke(c, "(after restart)");
	check_capture_begin(c);
	err = vhost_user_frontend_reset(&c->fe);
	check_capture_end(c);
	if (step_row(c, "reset (stop rings, RESET_DEVICE)", "Ring states", err, "%s",
		     c->fe.protocol_features & BIT(VHOST_USER_PROTOCOL_F_RESET_DEVICE)
			 ? "rings stopped, RESET_DEVICE acked"
			 : "rings stopped (no RESET_DEVICE offered)"))
		return;
	if (do_reconnect)
		reconnect(c);
}

static const char *result_name(enum check_result r)
{
	static const char *const names[] = {"PASS", "FAIL", "WARN", "INFO", "SKIP"};

	return names[r];
}

/* The table, then a summary; returns the number of failures. */
static unsigned print_table(const struct checker *c)
{
	unsigned i, counts[5] = {0};

	printf("%-34s | %-6s | %-70s | %s\n", "check", "result", "detail", "spec rule");
	for (i = 0; i < c->nrows; i++) {
		const struct check_row *r = &c->rows[i];

		counts[r->result]++;
		printf("%-34s | %-6s | %-70s | %s\n", r->name, result_name(r->result), r->detail,
		       r->rule);
	}
	printf("%s %s: %u checks: %u passed, %u failed, %u warnings, %u info, %u skipped\n",
	       c->type->name, c->socket, c->nrows, counts[CHECK_PASS], counts[CHECK_FAIL],
	       counts[CHECK_WARN], counts[CHECK_INFO], counts[CHECK_SKIP]);
	return counts[CHECK_FAIL];
}

static int usage(const char *argv0)
{
	fprintf(stderr,
		"usage: %s --type blk|net|fs|gpu|...|type=N --socket PATH [--timeout MS] "
		"[--verbose] [--trace] [--trace-file PATH] [--no-reconnect]\n",
		argv0);
	return 2;
}

static int parse(int argc, char **argv, struct options *o)
{
	static const struct option opts[] = {
	    {"type", required_argument, NULL, 't'},    {"socket", required_argument, NULL, 's'},
	    {"timeout", required_argument, NULL, 'T'}, {"verbose", no_argument, NULL, 'v'},
	    {"trace", no_argument, NULL, 'x'},	       {"trace-file", required_argument, NULL, 'f'},
	    {"no-reconnect", no_argument, NULL, 'n'},  {NULL, 0, NULL, 0}};
	int opt;

	*o = (struct options){.timeout_ms = 2000, .reconnect = true};
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 't':
			o->type = optarg;
			break;
		case 's':
			o->socket = optarg;
			break;
		case 'T':
			o->timeout_ms = atoi(optarg);
			break;
		case 'v':
			o->verbose = true;
			break;
		case 'x':
			o->trace = true;
			break;
		case 'f':
			o->trace_file = optarg;
			break;
		case 'n':
			o->reconnect = false;
			break;
		default:
			return -EINVAL;
		}
	}
	return o->type && o->socket && o->timeout_ms > 0 ? 0 : -EINVAL;
}

static int setup(struct checker *c, const struct options *o, struct vhost_user_trace *trace)
{
	FILE *trace_text = NULL;
	int err;

	c->socket = o->socket;
	c->verbose = o->verbose;
	c->type = vhost_user_type_by_name(o->type, &c->type_fallback);
	if (!c->type)
		return -EINVAL;
	c->real_stderr = dup(2);
	c->capture_fd = memfd_create("check-log", MFD_CLOEXEC);
	if (c->real_stderr < 0 || c->capture_fd < 0)
		return -errno;
	if (o->trace && !(trace_text = fdopen(dup(c->real_stderr), "w")))
		return -errno;
	if (o->trace || o->trace_file) {
		err = vhost_user_trace_open(trace, trace_text, o->trace_file);
		if (err)
			return err;
	}
	/* Rings in one region, data in another: translation across regions is exercised. */
	return test_guest_ram_split(&c->mem, CHECK_DATA_GPA);
}

int main(int argc, char **argv)
{
	static struct checker c;
	struct vhost_user_trace trace = {0};
	struct options o;
	unsigned i, failed;
	int err;

	if (parse(argc, argv, &o))
		return usage(argv[0]);
	setvbuf(stdout, NULL, _IOLBF, 0);
	log_set_level(LOG_WARN);
	err = setup(&c, &o, &trace);
	if (err) {
		fprintf(stderr, "vhost-user-check: setup: %s\n", strerror(-err));
		return 2;
	}
	vhost_user_frontend_init(&c.fe, "check0", c.type->id);
	/* The checker sends GET_MAX_MEM_SLOTS itself (check_mem_slots). */
	c.fe.protocol_extra = BIT(VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS);
	c.fe.trace = trace.text || trace.json ? &trace : NULL;
	c.fe.timeout_ms = o.timeout_ms;
	run_checks(&c, o.reconnect);
	failed = print_table(&c);
	check_display_close(&c);
	vhost_user_frontend_close(&c.fe);
	for (i = 0; i < c.nvqs; i++)
		test_vq_destroy(&c.vqs[i]);
	guest_memory_destroy(&c.mem);
	if (c.fe.trace) {
		FILE *text = trace.text;

		vhost_user_trace_close(&trace);
		if (text)
			fclose(text);
	}
	return failed ? 1 : 0;
}
