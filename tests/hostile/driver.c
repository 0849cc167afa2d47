/*
 * Drives the frontend against the hostile back-end, one case and one path
 * per run, and judges the outcome:
 *   hostile_test --backend BIN --case NAME --path startup|runtime [--trace]
 * Checks: the expected outcome (one error naming device, message and field;
 * or no error), bounded time, no fd leak; memory leaks are LeakSanitizer's
 * job in sanitizer builds. Exit 0 pass, 1 fail, 77 case has no such path.
 */
#include <errno.h>
#include <getopt.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/lib/fds.h"
#include "tests/hostile/cases.h"
#include "vmm/clock.h"
#include "vhost_user/frontend.h"
#include "vhost_user/trace.h"

#define DEVICE "hostile0"
#define REPLY_TIMEOUT_MS 300
#define TIME_LIMIT_MS 3000
#define LOG_LINES_MAX 20
#define RING_SIZE 64
#define CONFIG_FLOOD 20000	   /* SET_CONFIGs: far more than a socket buffer holds */
#define MMIO_WINDOW (512ull << 20) /* the VMM's BAR window on x86_64 */

extern char **environ;

struct run {
	const struct hostile_case *hc;
	bool runtime;
	struct guest_memory mem;
	struct vhost_user_frontend fe;
	int kick_fd, call_fd;
	unsigned config_changes;
	const char *failed_step;
};

static void config_changed(void *opaque)
{
	((struct run *)opaque)->config_changes++;
}

static const struct vhost_user_backend_ops ops = {.config_changed = config_changed};

/* Plays the event loop: serves the back-end channel until it is quiet. */
static void serve_channel(struct run *r, int quiet_ms)
{
	int64_t give_up = monotonic_ms() + TIME_LIMIT_MS / 2;

	while (r->fe.backend_fd >= 0 && monotonic_ms() < give_up) {
		struct pollfd pfd = {.fd = r->fe.backend_fd, .events = POLLIN};

		if (poll(&pfd, 1, quiet_ms) <= 0)
			break;
		vhost_user_frontend_handle_backend_request(&r->fe);
	}
}

#define STEP(r, name, call)                                                                        \
	do {                                                                                       \
		int err_ = (call);                                                                 \
		if (err_) {                                                                        \
			(r)->failed_step = (name);                                                 \
			return err_;                                                               \
		}                                                                                  \
	} while (0)

/* A guest writing config space in a loop; a back-end that stopped reading must not hang us. */
static int config_flood(struct run *r)
{
	uint8_t wce = 1;

	for (unsigned i = 0; i < CONFIG_FLOOD; i++)
		STEP(r, "set_config", vhost_user_frontend_set_config(&r->fe, 32, &wce, 1));
	return 0;
}

/* Features, memory table and the display socket as the device's activation batch sends them. */
static int gpu_batch(struct run *r)
{
	int sv[2], err;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	vhost_user_frontend_batch_begin(&r->fe);
	err = vhost_user_frontend_set_features(&r->fe, 1ull << VIRTIO_F_VERSION_1);
	if (!err)
		err = vhost_user_frontend_set_mem_table(&r->fe, &r->mem);
	if (!err)
		err = vhost_user_frontend_gpu_set_socket(&r->fe, sv[1]);
	close(sv[1]);
	err = err ? err : vhost_user_frontend_batch_end(&r->fe);
	vhost_user_frontend_batch_end(&r->fe);
	close(sv[0]);
	if (err)
		r->failed_step = "gpu_batch";
	return err;
}

static int drive_startup(struct run *r, const char *sock)
{
	uint64_t sizes[8]; /* VHOST_USER_SHMEM_MAX_IDS */
	uint8_t config[60];
	unsigned n;

	STEP(r, "connect", vhost_user_frontend_connect(&r->fe, sock, 2000));
	STEP(r, "handshake", vhost_user_frontend_handshake(&r->fe));
	if (vhost_user_frontend_has_protocol(&r->fe, VHOST_USER_PROTOCOL_F_SHMEM))
		STEP(r, "get_shmem_config",
		     vhost_user_frontend_get_shmem_config(&r->fe, sizes, 8, MMIO_WINDOW, &n));
	STEP(r, "get_config", vhost_user_frontend_get_config(&r->fe, 0, config, sizeof(config)));
	if (r->hc->drive == DRIVE_CONFIG_FLOOD)
		STEP(r, "config_flood", config_flood(r));
	if (r->hc->drive == DRIVE_GPU_BATCH)
		return gpu_batch(r);
	STEP(r, "set_features",
	     vhost_user_frontend_set_features(&r->fe, 1ull << VIRTIO_F_VERSION_1));
	STEP(r, "set_mem_table", vhost_user_frontend_set_mem_table(&r->fe, &r->mem));
	serve_channel(r, 50);
	return 0;
}

static int drive_runtime(struct run *r)
{
	struct vhost_user_vring ring = {.size = RING_SIZE,
					.desc_gpa = 0,
					.avail_gpa = 0x1000,
					.used_gpa = 0x2000,
					.kick_fd = r->kick_fd,
					.call_fd = r->call_fd};
	uint8_t status = 0;
	uint16_t base = 0;

	/* Activation pipelines these: their acks are read together, by one deadline. */
	if (r->hc->drive == DRIVE_BATCHED)
		vhost_user_frontend_batch_begin(&r->fe);
	STEP(r, "start_queue", vhost_user_frontend_start_queue(&r->fe, 0, &ring));
	STEP(r, "set_status",
	     vhost_user_frontend_set_status(
		 &r->fe, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
			     VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK));
	if (r->hc->drive == DRIVE_BATCHED)
		STEP(r, "batch_end", vhost_user_frontend_batch_end(&r->fe));
	STEP(r, "get_status", vhost_user_frontend_get_status(&r->fe, &status));
	serve_channel(r, 100);
	STEP(r, "stop_queue", vhost_user_frontend_stop_queue(&r->fe, 0, &base));
	ring.base = base;
	STEP(r, "restart_queue", vhost_user_frontend_start_queue(&r->fe, 0, &ring));
	STEP(r, "stop_queue_again", vhost_user_frontend_stop_queue(&r->fe, 0, &base));
	return 0;
}

static int drive(struct run *r, const char *sock)
{
	const struct ram_range range = {0, 1u << 20};
	int err;

	r->kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	r->call_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	err = guest_memory_init(&r->mem, &range, 1);
	if (err || r->kick_fd < 0 || r->call_fd < 0) {
		r->failed_step = "test setup";
		return err ? err : -errno;
	}
	err = drive_startup(r, sock);
	if (!err && r->runtime)
		err = drive_runtime(r);
	vhost_user_frontend_close(&r->fe);
	guest_memory_destroy(&r->mem);
	close(r->kick_fd);
	close(r->call_fd);
	return err;
}

/* Log lines ("vmm: ...") captured from stderr while the case ran. */
struct captured {
	char text[64 * 1024];
	unsigned lines, errors, warnings;
	char first_error[512];
};

/* Copies one line (up to its newline) as the line to show in the verdict. */
static void keep_line(struct captured *c, const char *line, size_t len)
{
	size_t n = len < sizeof(c->first_error) - 1 ? len : sizeof(c->first_error) - 1;

	memcpy(c->first_error, line, n);
	c->first_error[n] = '\0';
}

static bool line_has(const char *line, size_t len, const char *what)
{
	const char *hit = strstr(line, what);

	return hit && hit < line + len;
}

static void classify(struct captured *c)
{
	const char *line, *end;

	for (line = c->text; *line; line = *end ? end + 1 : end) {
		size_t len;

		end = strchrnul(line, '\n');
		len = (size_t)(end - line);
		if (strncmp(line, "vmm: ", 5) != 0)
			continue;
		c->lines++;
		if (line_has(line, len, ": error: ")) {
			if (c->errors++ == 0)
				keep_line(c, line, len);
		} else if (line_has(line, len, ": warning: ")) {
			if (c->warnings++ == 0 && !c->errors)
				keep_line(c, line, len);
		}
	}
}

static pid_t spawn_backend(const char *bin, const char *sock, const char *name, const char *at)
{
	char *argv[] = {(char *)bin,  "--socket", (char *)sock, "--case",
			(char *)name, "--at",	  (char *)at,	NULL};
	pid_t pid;

	return posix_spawn(&pid, bin, NULL, NULL, argv, environ) ? -1 : pid;
}

/* Writes pattern to out with its one "%s" (if any) replaced by name. */
static void expand_pattern(char *out, size_t n, const char *pattern, const char *name)
{
	const char *at = strstr(pattern, "%s");

	if (!at)
		snprintf(out, n, "%s", pattern);
	else
		snprintf(out, n, "%.*s%s%s", (int)(at - pattern), pattern, name, at + 2);
}

/* Judges one outcome; prints the verdict line. Returns true when it passed. */
static bool judge(const struct run *r, int err, struct captured *c, int64_t ms, int fd_delta,
		  const char *at_name)
{
	/* The pattern's %s is the trigger request; DEVICE must lead the message too. */
	char want[256] = "";
	const char *why = NULL;

	if (r->hc->pattern)
		expand_pattern(want, sizeof(want), r->hc->pattern, at_name);
	if (ms > TIME_LIMIT_MS)
		why = "took too long (hang?)";
	else if (fd_delta != 0)
		why = "fd leak";
	else if (c->lines > LOG_LINES_MAX)
		why = "too many log lines";
	else if (r->hc->expect == EXPECT_FAIL && !err)
		why = "frontend accepted it";
	else if (r->hc->expect == EXPECT_FAIL && c->errors != 1)
		why = "expected exactly one error line";
	else if (r->hc->expect != EXPECT_FAIL && (err || c->errors))
		why = "frontend failed where it should cope";
	else if (want[0] && (!strstr(c->text, want) || !strstr(c->first_error, DEVICE ": ")))
		why = "log does not name device, message and field";
	printf("%s - %s/%s: %s%s%s (step %s, %s, %lld ms, fd delta %d, %u log lines, %u config "
	       "changes)\n",
	       why ? "not ok" : "ok", r->hc->name, r->runtime ? "runtime" : "startup",
	       why ? why : "", why ? "; " : "", c->first_error[0] ? c->first_error : "no error",
	       r->failed_step ? r->failed_step : "none", err ? strerror(-err) : "success",
	       (long long)ms, fd_delta, c->lines, r->config_changes);
	if (why && want[0])
		printf("# wanted: %s\n# log:\n%s", want, c->text);
	return !why;
}

static int usage(const char *argv0)
{
	fprintf(stderr, "usage: %s --backend BIN --case NAME --path startup|runtime [--trace]\n",
		argv0);
	return 2;
}

static void read_capture(int fd, struct captured *c)
{
	ssize_t n = pread(fd, c->text, sizeof(c->text) - 1, 0);

	c->text[n > 0 ? n : 0] = '\0';
	classify(c);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {{"backend", required_argument, NULL, 'b'},
					     {"case", required_argument, NULL, 'c'},
					     {"path", required_argument, NULL, 'p'},
					     {"trace", no_argument, NULL, 't'},
					     {NULL, 0, NULL, 0}};
	static struct captured cap;
	struct vhost_user_trace trace;
	struct run r = {.kick_fd = -1, .call_fd = -1};
	const char *bin = NULL, *path = NULL;
	char sock[64];
	bool tracing = false;
	int opt, capture_fd, saved_stderr, fds_before, err;
	uint32_t at;
	int64_t start, ms;
	pid_t pid;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (opt == 'b')
			bin = optarg;
		else if (opt == 'c')
			r.hc = hostile_case_find(optarg);
		else if (opt == 'p')
			path = optarg;
		else if (opt == 't')
			tracing = true;
		else
			return usage(argv[0]);
	}
	if (!bin || !r.hc || !path)
		return usage(argv[0]);
	r.runtime = strcmp(path, "runtime") == 0;
	at = r.runtime ? r.hc->runtime_at : r.hc->startup_at;
	if (!at)
		return 77;
	log_set_level(LOG_WARN);
	snprintf(sock, sizeof(sock), "/tmp/hostile-%d.sock", (int)getpid());
	capture_fd = memfd_create("hostile-log", MFD_CLOEXEC);
	saved_stderr = dup(2);
	fflush(stderr);
	dup2(capture_fd, 2);
	fds_before = test_open_fds();
	pid = spawn_backend(bin, sock, r.hc->name, vhost_user_request_name(at));
	vhost_user_frontend_init(&r.fe, DEVICE, VIRTIO_ID_BLOCK);
	vhost_user_frontend_set_backend_ops(&r.fe, &ops, &r);
	r.fe.timeout_ms = REPLY_TIMEOUT_MS;
	if (tracing && vhost_user_trace_open(&trace, stderr, NULL) == 0)
		r.fe.trace = &trace;
	start = monotonic_ms();
	err = pid > 0 ? drive(&r, sock) : -ECHILD;
	ms = monotonic_ms() - start;
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	unlink(sock);
	fflush(stderr);
	err = err ? err : 0;
	opt = test_open_fds() - fds_before;
	dup2(saved_stderr, 2);
	close(saved_stderr);
	read_capture(capture_fd, &cap);
	close(capture_fd);
	if (tracing)
		fputs(cap.text, stderr);
	return judge(&r, err, &cap, ms, opt, vhost_user_request_name(at)) ? 0 : 1;
}
