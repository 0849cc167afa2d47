/*
 * vmmctl: talks to a running VMM's control socket (--control PATH).
 *   vmmctl SOCKET COMMAND...   each COMMAND is a word (status, pause,
 *                              resume, quit, screenshot [FILE.png],
 *                              snapshot=DIR, snapshot+resume=DIR) or a
 *                              raw JSON object line
 * Prints each reply line; exits 0 when every reply had "ok":true, 1 when
 * one did not, 2 on usage or connection errors.
 */
#include <errno.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmm/unix_socket.h"

#define REPLY_TIMEOUT_MS 30000

/* Reads one line (without the newline) into buf; 0 or -errno. */
static int read_line(int fd, char *buf, size_t size)
{
	size_t len = 0;

	while (len + 1 < size) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		ssize_t n;

		if (poll(&p, 1, REPLY_TIMEOUT_MS) <= 0)
			return -ETIMEDOUT;
		n = read(fd, buf + len, 1);
		if (n <= 0)
			return n == 0 ? -ECONNRESET : -errno;
		if (buf[len] == '\n')
			break;
		len++;
	}
	buf[len] = '\0';
	return 0;
}

/* "snapshot=DIR", "snapshot+resume=DIR", "reconnect=DEV" as a request; NULL for any other word. */
static json_t *snapshot_request(const char *arg)
{
	if (!strncmp(arg, "reconnect=", 10))
		return json_pack("{s:s,s:s}", "cmd", "reconnect", "device", arg + 10);
	if (!strncmp(arg, "snapshot=", 9))
		return json_pack("{s:s,s:s}", "cmd", "snapshot", "path", arg + 9);
	if (!strncmp(arg, "snapshot+resume=", 16))
		return json_pack("{s:s,s:s,s:b}", "cmd", "snapshot", "path", arg + 16, "resume", 1);
	return NULL;
}

/* Sends arg as one line: a word becomes {"cmd":"word"}, JSON goes as it is. */
static int send_line(int fd, const char *arg)
{
	json_t *request;
	char *line;
	int err;

	if (arg[0] == '{')
		return dprintf(fd, "%s\n", arg) < 0 ? -errno : 0;
	request = snapshot_request(arg);
	if (!request)
		request = json_pack("{s:s}", "cmd", arg); /* NULL when arg is not UTF-8 */
	line = request ? json_dumps(request, JSON_COMPACT) : NULL;
	json_decref(request);
	if (!line)
		return -EINVAL;
	err = dprintf(fd, "%s\n", line) < 0 ? -errno : 0;
	free(line);
	return err;
}

/* Whether a reply line is a JSON object whose "ok" is true. */
static bool reply_ok(const char *reply)
{
	json_t *o = json_loads(reply, 0, NULL);
	bool ok = json_is_true(json_object_get(o, "ok"));

	json_decref(o);
	return ok;
}

static int run_command(int fd, const char *arg)
{
	char reply[65536];
	int err = send_line(fd, arg);

	/* The VMM may refuse a long line half-way: its reply is still worth reading. */
	if (err)
		fprintf(stderr, "vmmctl: send failed: %s\n", strerror(-err));
	err = read_line(fd, reply, sizeof(reply));
	if (err) {
		fprintf(stderr, "vmmctl: no reply: %s\n", strerror(-err));
		return 2;
	}
	printf("%s\n", reply);
	fflush(stdout);
	return reply_ok(reply) ? 0 : 1;
}

static const char help_text[] =
    "usage: vmmctl SOCKET COMMAND...\n"
    "Sends each COMMAND to a running VMM's control socket (vmm --control SOCKET)\n"
    "and prints each reply line.\n"
    "\n"
    "  status               state of the VM and of each device\n"
    "  pause                park the vCPUs and stop every vhost-user ring\n"
    "  resume               restart the rings and the vCPUs\n"
    "  screenshot [FILE]    write the first GPU's scanout 0 as PNG to FILE\n"
    "                       (default screenshot.png in the current directory)\n"
    "  reconnect=DEVICE     drop DEVICE's back-end (blk0, net0, ...) and wait for\n"
    "                       it to come back, as after a restart of the back-end\n"
    "  quit                 stop the VM (the VMM exits with status 0)\n"
    "  '{\"cmd\":...}'       any request as a raw JSON line\n"
    "\n"
    "Exit status: 0 when every reply had \"ok\":true, 1 when one did not,\n"
    "2 on usage or connection errors.\n";

/* Writes request (consumed; NULL when not UTF-8) into line[0..size) as compact JSON. */
static int json_request(char *line, size_t size, json_t *request)
{
	char *text = request ? json_dumps(request, JSON_COMPACT) : NULL;
	int r = !text ? -EINVAL : snprintf(line, size, "%s", text) >= (int)size ? -E2BIG : 0;

	free(text);
	json_decref(request);
	return r;
}

/* "screenshot [FILE]" as the JSON request, the path made absolute for the VMM. */
static int screenshot_request(char *line, size_t size, const char *file)
{
	char abs[PATH_MAX], cwd[PATH_MAX];

	if (file[0] == '/')
		snprintf(abs, sizeof(abs), "%s", file);
	else if (!getcwd(cwd, sizeof(cwd)) ||
		 snprintf(abs, sizeof(abs), "%s/%s", cwd, file) >= (int)sizeof(abs))
		return -ENAMETOOLONG;
	return json_request(line, size, json_pack("{s:s,s:s}", "cmd", "screenshot", "path", abs));
}

/* Runs argv[*i] (and a screenshot's FILE after it); the worst status so far. */
static int run_arg(int fd, int argc, char **argv, int *i)
{
	char line[PATH_MAX + 64];
	const char *file = "screenshot.png";
	int err;

	if (strcmp(argv[*i], "screenshot"))
		return run_command(fd, argv[*i]);
	if (*i + 1 < argc && argv[*i + 1][0] != '{' && strchr(argv[*i + 1], '.'))
		file = argv[++*i];
	err = screenshot_request(line, sizeof(line), file);
	if (err) {
		fprintf(stderr, "vmmctl: screenshot %s: %s\n", file, strerror(-err));
		return 2;
	}
	return run_command(fd, line);
}

int main(int argc, char **argv)
{
	int fd, status = 0;

	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		fputs(help_text, stdout);
		return 0;
	}
	if (argc < 3) {
		fprintf(
		    stderr,
		    "usage: vmmctl SOCKET COMMAND...  (status, pause, resume, "
		    "screenshot [FILE], snapshot=DIR, snapshot+resume=DIR, reconnect=DEVICE, quit, "
		    "or a JSON line; --help)\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	fd = unix_socket_connect(argv[1], 0, 0);
	if (fd < 0) {
		fprintf(stderr, "vmmctl: %s: %s\n", argv[1], strerror(-fd));
		return 2;
	}
	for (int i = 2; i < argc && status < 2; i++) {
		int r = run_arg(fd, argc, argv, &i);
		if (r > status)
			status = r;
	}
	close(fd);
	return status;
}
