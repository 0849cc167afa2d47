/*
 * vmmctl: talks to a running VMM's control socket (--control PATH).
 *   vmmctl SOCKET COMMAND...   each COMMAND is a word (status, pause,
 *                              snapshot=DIR, snapshot+resume=DIR,
 *                              resume, quit) or a raw JSON object line
 * Prints each reply line; exits 0 when every reply had "ok":true, 1 when
 * one did not, 2 on usage or connection errors.
 */
#include <errno.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
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

/* "snapshot=DIR" / "snapshot+resume=DIR" as a request; NULL for any other word. */
static json_t *snapshot_request(const char *arg)
{
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

int main(int argc, char **argv)
{
	int fd, status = 0;

	if (argc < 3) {
		fprintf(stderr, "usage: vmmctl SOCKET COMMAND...  (status, pause, resume, quit, "
				"snapshot=DIR, snapshot+resume=DIR, "
				"or a JSON line)\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	fd = unix_socket_connect(argv[1], 0, 0);
	if (fd < 0) {
		fprintf(stderr, "vmmctl: %s: %s\n", argv[1], strerror(-fd));
		return 2;
	}
	for (int i = 2; i < argc && status < 2; i++) {
		int r = run_command(fd, argv[i]);
		if (r > status)
			status = r;
	}
	close(fd);
	return status;
}
