/* Unit tests for the control socket: the request parser, the replies and the device description. */
#include <errno.h>
#include <event2/event.h>
#include <jansson.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/unit/check_main.h"
#include "vhost_user/device/internal.h"
#include "vmm/control.h"
#include "vmm/devices.h"
#include "vmm/unix_socket.h"
#include "vmm/vm.h"

/* Parses text from an exact-size heap copy, so ASan sees any read past its end. */
static int parse_bytes(const char *text, size_t len, struct control_request *req)
{
	char *copy = malloc(len ? len : 1);
	int err;

	ck_assert_ptr_nonnull(copy);
	memcpy(copy, text, len);
	err = control_parse_request(copy, len, req);
	free(copy);
	return err;
}

static int parse(const char *text, struct control_request *req)
{
	return parse_bytes(text, strlen(text), req);
}

static void assert_refused_bytes(const char *text, size_t len, const char *why)
{
	struct control_request req;

	ck_assert_msg(parse_bytes(text, len, &req) == -EINVAL, "accepted: %.*s", (int)len, text);
	ck_assert_msg(strstr(req.error, why), "'%.*s': error '%s', want '%s'", (int)len, text,
		      req.error, why);
}

static void assert_refused(const char *text, const char *why)
{
	assert_refused_bytes(text, strlen(text), why);
}

START_TEST(documented_requests_are_accepted)
{
	static const struct {
		const char *line;
		enum control_cmd cmd;
	} ok[] = {
	    {"{\"cmd\":\"status\"}", CONTROL_STATUS},
	    {"{\"cmd\":\"pause\"}", CONTROL_PAUSE},
	    {"{\"cmd\":\"resume\"}", CONTROL_RESUME},
	    {"{\"cmd\":\"quit\"}", CONTROL_QUIT},
	    {" { \"cmd\" : \"status\" } \r", CONTROL_STATUS},
	    {"{\"x\":1,\"cmd\":\"pause\",\"y\":\"z\",\"n\":null,\"b\":true,\"f\":-1.5e3}",
	     CONTROL_PAUSE},
	};
	struct control_request req;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		ck_assert_msg(parse(ok[i].line, &req) == 0, "%s: %s", ok[i].line, req.error);
		ck_assert_int_eq(req.cmd, ok[i].cmd);
	}
}
END_TEST

START_TEST(screenshot_arguments)
{
	struct control_request req;

	ck_assert_int_eq(parse("{\"cmd\":\"screenshot\",\"device\":\"gpu0\",\"scanout\":2,"
			       "\"path\":\"/tmp/s.png\"}",
			       &req),
			 0);
	ck_assert_int_eq(req.cmd, CONTROL_SCREENSHOT);
	ck_assert_str_eq(req.device, "gpu0");
	ck_assert_uint_eq(req.scanout, 2);
	ck_assert_str_eq(req.path, "/tmp/s.png");
	ck_assert_int_eq(parse("{\"cmd\":\"screenshot\",\"path\":\"/t/\\u00e9.png\"}", &req), 0);
	ck_assert_str_eq(req.device, "");
	ck_assert_uint_eq(req.scanout, 0);
	ck_assert_str_eq(req.path, "/t/\xc3\xa9.png");

	static const char *const bad[] = {
	    "{\"cmd\":\"screenshot\"}",
	    "{\"cmd\":\"screenshot\",\"path\":\"\"}",
	    "{\"cmd\":\"screenshot\",\"path\":5}",
	    "{\"cmd\":\"screenshot\",\"path\":\"/x\",\"device\":0}",
	    "{\"cmd\":\"screenshot\",\"path\":\"/x\",\"scanout\":\"0\"}",
	    "{\"cmd\":\"screenshot\",\"path\":\"/x\",\"scanout\":1.5}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_refused(bad[i], "want path, optional device and scanout");
	assert_refused("{\"cmd\":\"screenshot\",\"path\":\"/x\",\"scanout\":-1}",
		       "no such scanout");
	assert_refused("{\"cmd\":\"screenshot\",\"path\":\"/x\",\"scanout\":4294967296}",
		       "no such scanout");
}
END_TEST

START_TEST(snapshot_arguments)
{
	struct control_request req;

	ck_assert_int_eq(parse("{\"cmd\":\"snapshot\",\"path\":\"/tmp/snap\"}", &req), 0);
	ck_assert_int_eq(req.cmd, CONTROL_SNAPSHOT);
	ck_assert_str_eq(req.path, "/tmp/snap");
	ck_assert(!req.resume);
	ck_assert_int_eq(parse("{\"cmd\":\"snapshot\",\"path\":\"/s\",\"resume\":true}", &req), 0);
	ck_assert(req.resume);
	assert_refused("{\"cmd\":\"snapshot\"}", "want path, optional boolean resume");
	assert_refused("{\"cmd\":\"snapshot\",\"path\":\"\"}", "want path");
	assert_refused("{\"cmd\":\"snapshot\",\"path\":\"/s\",\"resume\":1}", "want path");
}
END_TEST

/*
 * The old reader ran past a line's end: serve_lines had turned the newline
 * into a NUL, and a number's loop took that NUL for one of ".eE+-", so the
 * next line's "}" closed the object.
 */
START_TEST(nothing_past_the_line_is_read)
{
	const char two_lines[] = "{\"cmd\":\"quit\",\"x\":1\0}\n";
	struct control_request req;

	assert_refused(two_lines, "malformed JSON");
	ck_assert_int_eq(control_parse_request(two_lines, strlen(two_lines), &req), -EINVAL);
}
END_TEST

START_TEST(malformed_json_is_refused_with_its_position)
{
	static const char *const bad[] = {
	    "{\"cmd\":", "hello", "{\"cmd\":\"status\",}", "{\"cmd\":\"status\"} x",
	    "{'cmd':1}", "",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_refused(bad[i], "malformed JSON at column ");
}
END_TEST

START_TEST(non_objects_are_refused)
{
	static const char *const bad[] = {"[\"cmd\",\"quit\"]", "\"quit\"", "1", "null", "true"};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_refused(bad[i], "want one JSON object per line");
}
END_TEST

START_TEST(cmd_must_be_a_known_string)
{
	static const char *const bad[] = {"{\"cmd\":5}", "{\"cmd\":null}", "{\"cmd\":true}", "{}",
					  "{\"Cmd\":\"quit\"}"};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_refused(bad[i], "missing string member \"cmd\"");
	assert_refused("{\"cmd\":\"nope\"}", "unknown command");
	assert_refused("{\"cmd\":\"Quit\"}", "unknown command");
	assert_refused("{\"cmd\":[\"quit\"]}", "nested values");
	assert_refused("{\"a\":[1]}", "nested values");
	assert_refused("{\"cmd\":\"status\",\"a\":{}}", "nested values");
	assert_refused("{\"cmd\":\"status\",\"cmd\":\"quit\"}", "duplicate");
}
END_TEST

START_TEST(embedded_nuls_are_refused)
{
	const char raw[] = "{\"cmd\":\"quit\"}\0garbage";
	const char in_string[] = "{\"cmd\":\"qu\0it\"}";

	assert_refused_bytes(raw, sizeof(raw) - 1, "malformed JSON");
	assert_refused_bytes(in_string, sizeof(in_string) - 1, "malformed JSON");
	assert_refused("{\"cmd\":\"quit\\u0000\"}", "malformed JSON");
	assert_refused("{\"cmd\":\"status\",\"p\\u0000\":1}", "malformed JSON");
}
END_TEST

START_TEST(overlong_lines_are_refused)
{
	char *line = malloc(CONTROL_LINE_MAX + 2);
	struct control_request req;
	size_t len;

	ck_assert_ptr_nonnull(line);
	/* {"cmd":"status","pad":"xxx..."} of exactly CONTROL_LINE_MAX bytes is fine... */
	len = (size_t)sprintf(line, "{\"cmd\":\"status\",\"pad\":\"");
	memset(line + len, 'x', CONTROL_LINE_MAX - len - 2);
	memcpy(line + CONTROL_LINE_MAX - 2, "\"}", 2);
	ck_assert_int_eq(control_parse_request(line, CONTROL_LINE_MAX, &req), 0);
	/* ...one byte more is not, even though it is valid JSON. */
	memcpy(line + CONTROL_LINE_MAX - 2, "x\"}", 3);
	assert_refused_bytes(line, CONTROL_LINE_MAX + 1, "line too long");
	free(line);
}
END_TEST

START_TEST(errors_are_printable_ascii)
{
	const char bad[] = "{\"cmd\":\xff\x01\"}";
	struct control_request req;

	ck_assert_int_eq(parse_bytes(bad, sizeof(bad) - 1, &req), -EINVAL);
	for (const char *p = req.error; *p; p++)
		ck_assert_msg(*p >= 0x20 && *p <= 0x7e, "byte 0x%02x in '%s'", (unsigned char)*p,
			      req.error);
}
END_TEST

/* A VM without vCPUs or KVM: enough for the control socket and one idle blk device. */
struct fixture {
	struct vm vm;
	struct vm_devices devs;
	struct vu_device dev;
	struct vhost_user_type type;
	struct control *ctl;
	char path[64];
	int client;
};

static struct fixture *fixture_create(void)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct sockaddr_un addr = {.sun_family = AF_UNIX};

	ck_assert_ptr_nonnull(f);
	f->vm.evbase = event_base_new();
	ck_assert_ptr_nonnull(f->vm.evbase);
	pthread_mutex_init(&f->vm.dev_lock, NULL);
	f->vm.wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ck_assert_int_ge(f->vm.wake_fd, 0);
	f->type = (struct vhost_user_type){.id = 2, .name = "blk"};
	f->dev.fe.type = &f->type;
	f->dev.spec.type = &f->type;
	f->dev.spec.ops = vu_type_ops_find(f->type.id);
	snprintf(f->dev.name, sizeof(f->dev.name), "blk0");
	snprintf(f->dev.spec.sock, sizeof(f->dev.spec.sock), "/tmp/blk.sock");
	f->dev.nqueues = 1;
	f->devs.vhost_user[0] = &f->dev;
	f->devs.nvhost_user = 1;
	snprintf(f->path, sizeof(f->path), "/tmp/test_control.%d.sock", (int)getpid());
	ck_assert_int_eq(control_create(&f->vm, &f->devs, f->path, &f->ctl), 0);
	f->client = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	strcpy(addr.sun_path, f->path);
	ck_assert_int_eq(connect(f->client, (struct sockaddr *)&addr, sizeof(addr)), 0);
	return f;
}

static void fixture_destroy(struct fixture *f)
{
	close(f->client);
	control_destroy(f->ctl);
	event_base_free(f->vm.evbase);
	close(f->vm.wake_fd);
	pthread_mutex_destroy(&f->vm.dev_lock);
	free(f);
}

/* Sends line, runs the loop until a reply line arrives, returns it parsed. */
static json_t *request(struct fixture *f, const char *line)
{
	char buf[8192];
	size_t len = 0;
	json_error_t jerr;
	json_t *reply;

	ck_assert_int_eq(write(f->client, line, strlen(line)), (ssize_t)strlen(line));
	while (len == 0 || buf[len - 1] != '\n') {
		struct pollfd p = {.fd = f->client, .events = POLLIN};
		ssize_t n;

		event_base_loop(f->vm.evbase, EVLOOP_NONBLOCK);
		if (poll(&p, 1, 10) <= 0)
			continue;
		n = read(f->client, buf + len, sizeof(buf) - len);
		ck_assert_int_gt(n, 0);
		len += (size_t)n;
	}
	ck_assert_ptr_null(memchr(buf, '\n', len - 1)); /* one request, one line */
	reply = json_loadb(buf, len - 1, 0, &jerr);
	ck_assert_msg(reply != NULL, "reply '%.*s': %s", (int)len, buf, jerr.text);
	ck_assert(json_is_object(reply));
	return reply;
}

static void assert_str_member(const json_t *o, const char *key, const char *want)
{
	const json_t *v = json_object_get(o, key);

	ck_assert_msg(json_is_string(v), "no string %s", key);
	ck_assert_str_eq(json_string_value(v), want);
}

START_TEST(replies_are_json)
{
	struct fixture *f = fixture_create();
	json_t *r = request(f, "{\"cmd\":\"status\"}\n");
	const json_t *devices = json_object_get(r, "devices");

	ck_assert(json_is_true(json_object_get(r, "ok")));
	assert_str_member(r, "state", "running");
	ck_assert_int_eq(json_array_size(devices), 1);
	assert_str_member(json_array_get(devices, 0), "name", "blk0");
	json_decref(r);

	r = request(f, "{\"cmd\":\"pause\"}\n");
	ck_assert(json_is_true(json_object_get(r, "ok")));
	assert_str_member(r, "state", "paused");
	ck_assert(json_is_integer(json_object_get(r, "latency_us")));
	json_decref(r);
	r = request(f, "{\"cmd\":\"status\"}\n");
	assert_str_member(r, "state", "paused");
	json_decref(r);
	r = request(f, "{\"cmd\":\"resume\"}\n");
	ck_assert(json_is_true(json_object_get(r, "ok")));
	assert_str_member(r, "state", "running");
	json_decref(r);

	r = request(f, "{\"cmd\":\"quit\"}\n");
	ck_assert(json_is_true(json_object_get(r, "ok")));
	ck_assert_int_eq(json_object_size(r), 1);
	ck_assert(vm_exit_requested(&f->vm));
	json_decref(r);
	fixture_destroy(f);
}
END_TEST

START_TEST(refusals_are_json)
{
	static const struct {
		const char *line, *error;
	} cases[] = {
	    {"{\"cmd\":\"nope\"}\n", "unknown command"},
	    {"{\"cmd\":5}\n", "missing string member \"cmd\""},
	    {"{\"cmd\":\"quit\",\"x\":1\n", "malformed JSON"},
	    {"}\n", "malformed JSON"},
	    {"{\"cmd\":\"\xff\"}\n", "malformed JSON"},
	    {"{\"cmd\":\"screenshot\",\"path\":\"/tmp/x.png\"}\n", "no such device"},
	    {"{\"cmd\":\"screenshot\",\"path\":\"/tmp/x.png\",\"device\":\"blk0\"}\n",
	     "not a GPU device"},
	};
	struct fixture *f = fixture_create();

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *r = request(f, cases[i].line);
		const char *error = json_string_value(json_object_get(r, "error"));

		ck_assert(json_is_false(json_object_get(r, "ok")));
		ck_assert_msg(error && strstr(error, cases[i].error), "%s: error %s", cases[i].line,
			      error);
		json_decref(r);
	}
	ck_assert(!vm_exit_requested(&f->vm));
	fixture_destroy(f);
}
END_TEST

START_TEST(long_line_is_refused_then_closed)
{
	struct fixture *f = fixture_create();
	char *line = malloc(CONTROL_LINE_MAX + 1);
	json_t *r;

	ck_assert_ptr_nonnull(line);
	memset(line, 'x', CONTROL_LINE_MAX);
	line[CONTROL_LINE_MAX] = '\0';
	r = request(f, line);
	assert_str_member(r, "error", "line too long");
	json_decref(r);
	free(line);
	fixture_destroy(f);
}
END_TEST

static int connect_to(const char *path)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	strcpy(addr.sun_path, path);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	return fd;
}

/* Runs the loop until fd is closed by the VMM (true) or wait_ms pass (false). */
static bool closed_by_vmm(struct fixture *f, int fd, int wait_ms)
{
	for (int i = 0; i < wait_ms / 10; i++) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		char byte;

		event_base_loop(f->vm.evbase, EVLOOP_NONBLOCK);
		if (poll(&p, 1, 10) == 1 && recv(fd, &byte, 1, MSG_DONTWAIT) == 0)
			return true;
	}
	return false;
}

START_TEST(socket_is_private_whatever_the_umask)
{
	mode_t old = umask(0);
	struct fixture *f = fixture_create();
	struct stat st;

	umask(old);
	ck_assert_int_eq(lstat(f->path, &st), 0);
	ck_assert(S_ISSOCK(st.st_mode));
	ck_assert_uint_eq(st.st_mode & 07777, 0600);
	fixture_destroy(f);
}
END_TEST

/*
 * In a child running as uid 65534: connects (the socket file made world-
 * writable, so only the peer check stands in the way) and sends status.
 * Exits 0 when the VMM closed the connection without a reply, 1 when it
 * answered, 2 when the test itself went wrong.
 */
static void other_user_child(const char *path, int go)
{
	char buf[256];
	ssize_t n;
	int fd;

	signal(SIGPIPE, SIG_IGN);
	if (setgid(65534) || setuid(65534))
		_exit(2);
	fd = unix_socket_connect(path, 0, 0);
	if (fd < 0 || write(go, "c", 1) != 1)
		_exit(2);
	/* The VMM may close before the request is out: EPIPE is a refusal too. */
	if (write(fd, "{\"cmd\":\"status\"}\n", 17) != 17)
		_exit(errno == EPIPE || errno == ECONNRESET ? 0 : 2);
	n = read(fd, buf, sizeof(buf));
	_exit(n == 0 || (n < 0 && errno == ECONNRESET) ? 0 : n > 0 ? 1 : 2);
}

START_TEST(other_users_are_refused)
{
	struct fixture *f = fixture_create();
	int go[2], status;
	json_t *r;
	pid_t pid;

	if (geteuid() != 0) {
		fprintf(stderr,
			"# not root: cannot run a client as another uid; peer check untested\n");
		fixture_destroy(f);
		return;
	}
	ck_assert_int_eq(chmod(f->path, 0666), 0);
	ck_assert_int_eq(pipe(go), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		other_user_child(f->path, go[1]);
	close(go[1]);
	{
		char byte;

		ck_assert_int_eq(read(go[0], &byte, 1), 1); /* connected */
	}
	close(go[0]);
	for (int i = 0; i < 300 && waitpid(pid, &status, WNOHANG) == 0; i++) {
		event_base_loop(f->vm.evbase, EVLOOP_NONBLOCK);
		usleep(10000);
	}
	if (waitpid(pid, &status, WNOHANG) == 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
	}
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "uid 65534: %s",
		      WIFEXITED(status) && WEXITSTATUS(status) == 1 ? "answered" : "child failed");
	/* The VMM's own uid still gets in. */
	r = request(f, "{\"cmd\":\"status\"}\n");
	ck_assert(json_is_true(json_object_get(r, "ok")));
	json_decref(r);
	fixture_destroy(f);
}
END_TEST

/* Eight clients that never finish a line, and a ninth that must still be served. */
START_TEST(idle_clients_cannot_lock_others_out)
{
	struct fixture *f = fixture_create();
	int idle[CONTROL_MAX_CLIENTS - 1], client;
	json_t *r;

	event_base_loop(f->vm.evbase, EVLOOP_NONBLOCK); /* f->client is the oldest */
	ck_assert_int_eq(write(f->client, "{\"cmd\":", 7), 7);
	for (unsigned i = 0; i < CONTROL_MAX_CLIENTS - 1; i++) {
		idle[i] = connect_to(f->path);
		usleep(2000);
		event_base_loop(f->vm.evbase, EVLOOP_NONBLOCK);
	}
	client = f->client;
	f->client = connect_to(f->path);
	r = request(f, "{\"cmd\":\"status\"}\n");
	ck_assert(json_is_true(json_object_get(r, "ok")));
	json_decref(r);
	/* The one idle longest made room; the others are still there. */
	ck_assert(closed_by_vmm(f, client, 500));
	ck_assert(!closed_by_vmm(f, idle[0], 50));
	close(client);
	for (unsigned i = 0; i < CONTROL_MAX_CLIENTS - 1; i++)
		close(idle[i]);
	fixture_destroy(f);
}
END_TEST

START_TEST(idle_clients_time_out)
{
	struct fixture *f = fixture_create();
	int quiet, busy;
	json_t *r;

	control_set_idle_timeout(f->ctl, 300);
	quiet = connect_to(f->path);
	busy = f->client;
	f->client = connect_to(f->path);
	ck_assert_int_eq(write(quiet, "{\"cmd\":\"sta", 11), 11); /* half a line does not count */
	for (int i = 0; i < 5; i++) {
		r = request(f, "{\"cmd\":\"status\"}\n");
		json_decref(r);
		usleep(100000);
	}
	ck_assert(closed_by_vmm(f, quiet, 1000));
	ck_assert(closed_by_vmm(f, busy, 1000));
	r = request(f, "{\"cmd\":\"status\"}\n"); /* a client with lines keeps its seat */
	ck_assert(json_is_true(json_object_get(r, "ok")));
	json_decref(r);
	close(quiet);
	close(busy);
	fixture_destroy(f);
}
END_TEST

static json_t *describe_round_trip(const struct vu_device *dev)
{
	json_t *d = vu_device_describe(dev), *back;
	char *text;

	ck_assert_ptr_nonnull(d);
	text = json_dumps(d, JSON_COMPACT);
	ck_assert_ptr_nonnull(text);
	back = json_loads(text, 0, NULL);
	ck_assert_msg(back != NULL, "not JSON: %s", text);
	free(text);
	json_decref(d);
	return back;
}

START_TEST(describe_parses_back)
{
	struct fixture *f = fixture_create();
	json_t *d;

	f->dev.activation.ns = 1234567;
	d = describe_round_trip(&f->dev);
	assert_str_member(d, "name", "blk0");
	assert_str_member(d, "type", "blk");
	assert_str_member(d, "sock", "/tmp/blk.sock");
	assert_str_member(d, "state", "idle");
	ck_assert_int_eq(json_integer_value(json_object_get(d, "queues")), 1);
	ck_assert_int_eq(json_integer_value(json_object_get(d, "activation_us")), 1234);
	ck_assert_ptr_null(json_object_get(d, "error"));
	json_decref(d);

	/* A path and a cause that need escaping, and bytes that are not UTF-8. */
	snprintf(f->dev.spec.sock, sizeof(f->dev.spec.sock), "/tmp/a\"b\\c\n\xff.sock");
	snprintf(f->dev.failure.cause, sizeof(f->dev.failure.cause), "GET_\"X\":\tbad\x01");
	f->dev.state = VU_DEV_FAILED;
	d = describe_round_trip(&f->dev);
	assert_str_member(d, "sock", "/tmp/a\"b\\c\n?.sock");
	assert_str_member(d, "state", "failed");
	assert_str_member(d, "error", "GET_\"X\":\tbad\x01");
	json_decref(d);
	fixture_destroy(f);
}
END_TEST

static Suite *control_suite(void)
{
	Suite *s = suite_create("control");
	TCase *parser = tcase_create("parser");
	TCase *sock = tcase_create("socket");

	tcase_add_test(parser, documented_requests_are_accepted);
	tcase_add_test(parser, screenshot_arguments);
	tcase_add_test(parser, snapshot_arguments);
	tcase_add_test(parser, nothing_past_the_line_is_read);
	tcase_add_test(parser, malformed_json_is_refused_with_its_position);
	tcase_add_test(parser, non_objects_are_refused);
	tcase_add_test(parser, cmd_must_be_a_known_string);
	tcase_add_test(parser, embedded_nuls_are_refused);
	tcase_add_test(parser, overlong_lines_are_refused);
	tcase_add_test(parser, errors_are_printable_ascii);
	tcase_add_test(sock, replies_are_json);
	tcase_add_test(sock, refusals_are_json);
	tcase_add_test(sock, long_line_is_refused_then_closed);
	tcase_add_test(sock, describe_parses_back);
	tcase_add_test(sock, socket_is_private_whatever_the_umask);
	tcase_add_test(sock, other_users_are_refused);
	tcase_add_test(sock, idle_clients_cannot_lock_others_out);
	tcase_add_test(sock, idle_clients_time_out);
	suite_add_tcase(s, parser);
	suite_add_tcase(s, sock);
	return s;
}

CHECK_MAIN(control_suite)
