/* The control socket: JSON-lines commands (status, pause, resume, screenshot, quit). */
#include "vmm/control.h"
#include "vmm/clock.h"

#include <ctype.h>
#include <errno.h>
#include <event2/event.h>
#include <linux/virtio_ids.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "vhost_user/device/device.h"
#include "vmm/devices.h"
#include "vmm/log.h"
#include "vmm/unix_socket.h"
#include "vmm/vcpu.h"
#include "vmm/vm.h"

#define CONTROL_MAX_CLIENTS 8
#define CONTROL_LINE_MAX 4096
#define CONTROL_REPLY_MAX 8192

struct control_client {
	struct control *ctl;
	int fd;
	struct event *ev;
	char buf[CONTROL_LINE_MAX];
	size_t len;
};

struct control {
	struct vm *vm;
	struct vm_devices *devs;
	char path[108];
	int listen_fd;
	struct event *listen_ev;
	bool paused;
	struct control_client *clients[CONTROL_MAX_CLIENTS];
	char out[CONTROL_REPLY_MAX]; /* the reply being built */
};

/* A strict reader for the one-line flat JSON objects of the protocol. */
struct cursor {
	const char *p;
};

static void skip_ws(struct cursor *c)
{
	while (*c->p == ' ' || *c->p == '\t' || *c->p == '\r' || *c->p == '\n')
		c->p++;
}

/* Reads a JSON string into out (non-ASCII escapes become '?'); out may be NULL. */
static int read_string(struct cursor *c, char *out, unsigned size)
{
	unsigned n = 0;

	if (*c->p++ != '"')
		return -EINVAL;
	while (*c->p != '"') {
		char ch = *c->p++;
		if (ch == '\0' || (unsigned char)ch < 0x20)
			return -EINVAL;
		if (ch == '\\') {
			const char *esc = strchr("\"\\/bfnrtu", *c->p);
			if (!*c->p || !esc)
				return -EINVAL;
			ch = *c->p++;
			if (ch == 'u') {
				for (int i = 0; i < 4; i++, c->p++)
					if (!isxdigit((unsigned char)*c->p))
						return -EINVAL;
				ch = '?';
			}
		}
		if (out && n + 1 < size)
			out[n++] = ch;
	}
	c->p++;
	if (out)
		out[n] = '\0';
	return 0;
}

static int read_number(struct cursor *c)
{
	const char *start = c->p;

	if (*c->p == '-')
		c->p++;
	if (!isdigit((unsigned char)*c->p))
		return -EINVAL;
	while (isdigit((unsigned char)*c->p) || strchr(".eE+-", *c->p))
		if (!*c->p++)
			break;
	return c->p > start ? 0 : -EINVAL;
}

/* Scalars only: the protocol has no nested values. */
static int skip_value(struct cursor *c)
{
	static const char *const literals[] = {"true", "false", "null"};

	if (*c->p == '"')
		return read_string(c, NULL, 0);
	for (unsigned i = 0; i < 3; i++) {
		size_t n = strlen(literals[i]);
		if (!strncmp(c->p, literals[i], n)) {
			c->p += n;
			return 0;
		}
	}
	return read_number(c);
}

static int read_member(struct cursor *c, char *cmd, unsigned cmd_size, bool *found)
{
	char key[32];

	if (read_string(c, key, sizeof(key)))
		return -EINVAL;
	skip_ws(c);
	if (*c->p++ != ':')
		return -EINVAL;
	skip_ws(c);
	if (strcmp(key, "cmd") == 0) {
		if (*c->p != '"' || read_string(c, cmd, cmd_size))
			return -EINVAL;
		*found = true;
		return 0;
	}
	return skip_value(c);
}

int control_parse_command(const char *line, char *cmd, unsigned cmd_size, const char **why)
{
	struct cursor c = {.p = line};
	bool found = false;

	skip_ws(&c);
	*why = "malformed JSON (want one object per line)";
	if (*c.p++ != '{')
		return -EINVAL;
	skip_ws(&c);
	while (*c.p != '}') {
		if (read_member(&c, cmd, cmd_size, &found))
			return -EINVAL;
		skip_ws(&c);
		if (*c.p == ',') {
			c.p++;
			skip_ws(&c);
			if (*c.p == '}')
				return -EINVAL;
		} else if (*c.p != '}') {
			return -EINVAL;
		}
	}
	c.p++;
	skip_ws(&c);
	if (*c.p)
		return -EINVAL;
	if (!found) {
		*why = "missing string member \"cmd\"";
		return -EINVAL;
	}
	return 0;
}

static void client_close(struct control_client *cl)
{
	struct control *ctl = cl->ctl;

	for (unsigned i = 0; i < CONTROL_MAX_CLIENTS; i++)
		if (ctl->clients[i] == cl)
			ctl->clients[i] = NULL;
	event_free(cl->ev);
	close(cl->fd);
	free(cl);
}

/* Sends one reply line; false when the client is gone (then it was closed). */
static bool reply(struct control_client *cl, const char *text)
{
	size_t len = strlen(text);
	char *line = malloc(len + 1);
	bool ok;

	if (!line)
		return false;
	memcpy(line, text, len);
	line[len] = '\n';
	ok = send(cl->fd, line, len + 1, MSG_NOSIGNAL) == (ssize_t)(len + 1);
	free(line);
	if (!ok)
		client_close(cl);
	return ok;
}

static void cmd_status(struct control *ctl, char *out, size_t size)
{
	size_t used = (size_t)snprintf(out, size, "{\"ok\":true,\"state\":\"%s\",\"devices\":[",
				       ctl->paused ? "paused" : "running");

	pthread_mutex_lock(&ctl->vm->dev_lock);
	for (unsigned i = 0; i < ctl->devs->nvhost_user && used < size; i++) {
		if (i)
			used += (size_t)snprintf(out + used, size - used, ",");
		if (used < size)
			used += (size_t)vu_device_describe(ctl->devs->vhost_user[i], out + used,
							   size - used);
	}
	pthread_mutex_unlock(&ctl->vm->dev_lock);
	if (used + 3 <= size)
		strcat(out, "]}");
	else
		snprintf(out, size, "{\"ok\":false,\"error\":\"status too long\"}");
}

/* Pauses or resumes every device; names the first that failed in failed_name. */
static void devices_sleep_wake(struct control *ctl, bool pause, const char **failed_name)
{
	pthread_mutex_lock(&ctl->vm->dev_lock);
	for (unsigned i = 0; i < ctl->devs->nvhost_user; i++) {
		struct vu_device *dev = ctl->devs->vhost_user[i];
		int err = pause ? vu_device_pause(dev) : vu_device_resume(dev);
		if (err && !*failed_name)
			*failed_name = vu_device_name(dev);
	}
	pthread_mutex_unlock(&ctl->vm->dev_lock);
}

static void cmd_pause_resume(struct control *ctl, bool pause, char *out, size_t size)
{
	const char *failed = NULL;
	uint64_t start = monotonic_ns();

	if (pause && !ctl->paused) {
		vcpus_pause(ctl->vm);
		devices_sleep_wake(ctl, true, &failed);
	} else if (!pause && ctl->paused) {
		devices_sleep_wake(ctl, false, &failed);
		vcpus_resume(ctl->vm);
	}
	ctl->paused = pause;
	if (failed)
		snprintf(
		    out, size,
		    "{\"ok\":false,\"state\":\"%s\",\"error\":\"device %s failed (see status)\"}",
		    pause ? "paused" : "running", failed);
	else
		snprintf(out, size, "{\"ok\":true,\"state\":\"%s\",\"latency_us\":%llu}",
			 pause ? "paused" : "running",
			 (unsigned long long)((monotonic_ns() - start) / 1000));
	log_info("control", "%s in %llu us", pause ? "paused" : "resumed",
		 (unsigned long long)((monotonic_ns() - start) / 1000));
}

/*
 * Finds member key of a line control_parse_command accepted and copies a
 * string's text or a number's literal into out. -ENOENT when absent.
 */
static int find_member(const char *line, const char *key, char *out, unsigned size)
{
	struct cursor c = {.p = strchr(line, '{') + 1};
	char name[32];

	for (;;) {
		skip_ws(&c);
		if (*c.p != '"' || read_string(&c, name, sizeof(name)))
			return -ENOENT;
		skip_ws(&c);
		c.p++; /* ':' */
		skip_ws(&c);
		if (!strcmp(name, key) && *c.p == '"')
			return read_string(&c, out, size);
		if (!strcmp(name, key)) {
			const char *start = c.p;
			if (read_number(&c) || (size_t)(c.p - start) >= size)
				return -EINVAL;
			memcpy(out, start, (size_t)(c.p - start));
			out[c.p - start] = '\0';
			return 0;
		}
		if (skip_value(&c))
			return -EINVAL;
		skip_ws(&c);
		if (*c.p++ != ',')
			return -ENOENT;
	}
}

/* The device named name, or with name "" the first GPU. */
static struct vu_device *find_device(struct control *ctl, const char *name)
{
	for (unsigned i = 0; i < ctl->devs->nvhost_user; i++) {
		struct vu_device *dev = ctl->devs->vhost_user[i];
		if (name[0] ? !strcmp(vu_device_name(dev), name)
			    : vu_device_type_id(dev) == VIRTIO_ID_GPU)
			return dev;
	}
	return NULL;
}

static const char *screenshot_error(int err)
{
	switch (err) {
	case -ENODEV:
		return "not a GPU device";
	case -EINVAL:
		return "no such scanout";
	case -ENODATA:
		return "scanout disabled or not readable (dmabuf)";
	default:
		return strerror(-err);
	}
}

/* {"cmd":"screenshot","device":"gpu0","scanout":0,"path":"/x.png"}; device, scanout optional. */
static void cmd_screenshot(struct control *ctl, const char *line, char *out, size_t size)
{
	char name[32] = "", number[24] = "0", path[1024] = "", *end;
	struct vu_device *dev;
	unsigned long scanout;
	int err;

	if (find_member(line, "path", path, sizeof(path)) || !path[0] ||
	    find_member(line, "device", name, sizeof(name)) == -EINVAL ||
	    find_member(line, "scanout", number, sizeof(number)) == -EINVAL) {
		snprintf(out, size,
			 "{\"ok\":false,\"error\":\"want path, optional device and scanout\"}");
		return;
	}
	scanout = strtoul(number, &end, 10);
	dev = find_device(ctl, name);
	if (!dev) {
		snprintf(out, size, "{\"ok\":false,\"error\":\"no such device\"}");
		return;
	}
	err = *end || scanout > UINT32_MAX ? -EINVAL
					   : vu_device_screenshot(dev, (unsigned)scanout, path);
	if (err)
		snprintf(out, size, "{\"ok\":false,\"error\":\"%s\"}", screenshot_error(err));
	else
		snprintf(out, size, "{\"ok\":true,\"device\":\"%s\",\"scanout\":%lu}",
			 vu_device_name(dev), scanout);
}

/* Runs one command line; false when the client was closed. */
static bool handle_line(struct control_client *cl, const char *line)
{
	struct control *ctl = cl->ctl;
	char *out = ctl->out;
	const char *why;
	char cmd[32];

	if (control_parse_command(line, cmd, sizeof(cmd), &why)) {
		snprintf(out, sizeof(ctl->out), "{\"ok\":false,\"error\":\"%s\"}",
			 strchr(why, '"') ? "missing string member cmd" : why);
		return reply(cl, out);
	}
	if (!strcmp(cmd, "status")) {
		cmd_status(ctl, out, sizeof(ctl->out));
	} else if (!strcmp(cmd, "pause") || !strcmp(cmd, "resume")) {
		cmd_pause_resume(ctl, !strcmp(cmd, "pause"), out, sizeof(ctl->out));
	} else if (!strcmp(cmd, "screenshot")) {
		cmd_screenshot(ctl, line, out, sizeof(ctl->out));
	} else if (!strcmp(cmd, "quit")) {
		bool ok = reply(cl, "{\"ok\":true}");
		vm_request_exit(ctl->vm, VM_EXIT_USER, 0, "control socket: quit");
		return ok;
	} else {
		snprintf(out, sizeof(ctl->out), "{\"ok\":false,\"error\":\"unknown command\"}");
	}
	return reply(cl, out);
}

/* Serves every complete line in the buffer; false when the client was closed. */
static bool serve_lines(struct control_client *cl)
{
	char *nl;

	while ((nl = memchr(cl->buf, '\n', cl->len))) {
		size_t used = (size_t)(nl - cl->buf) + 1;
		bool blank;

		*nl = '\0';
		blank = strspn(cl->buf, " \t\r") == strlen(cl->buf);
		if (!blank && !handle_line(cl, cl->buf))
			return false;
		memmove(cl->buf, cl->buf + used, cl->len - used);
		cl->len -= used;
	}
	if (cl->len == sizeof(cl->buf)) {
		if (reply(cl, "{\"ok\":false,\"error\":\"line too long\"}"))
			client_close(cl);
		return false;
	}
	return true;
}

static void on_client(evutil_socket_t fd, short what, void *arg)
{
	struct control_client *cl = arg;
	ssize_t n;

	(void)what;
	n = recv((int)fd, cl->buf + cl->len, sizeof(cl->buf) - cl->len, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		client_close(cl);
		return;
	}
	cl->len += (size_t)n;
	serve_lines(cl);
}

static void on_accept(evutil_socket_t fd, short what, void *arg)
{
	struct control *ctl = arg;
	struct control_client *cl;
	unsigned slot;
	int conn;

	(void)what;
	conn = accept4((int)fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (conn < 0)
		return;
	for (slot = 0; slot < CONTROL_MAX_CLIENTS && ctl->clients[slot]; slot++)
		;
	cl = slot < CONTROL_MAX_CLIENTS ? calloc(1, sizeof(*cl)) : NULL;
	if (cl)
		cl->ev = event_new(ctl->vm->evbase, conn, EV_READ | EV_PERSIST, on_client, cl);
	if (!cl || !cl->ev || event_add(cl->ev, NULL) < 0) {
		log_warn("control", "refusing a connection: too many clients or no memory");
		if (cl && cl->ev)
			event_free(cl->ev);
		free(cl);
		close(conn);
		return;
	}
	cl->ctl = ctl;
	cl->fd = conn;
	ctl->clients[slot] = cl;
}

int control_create(struct vm *vm, struct vm_devices *devs, const char *path, struct control **out)
{
	struct control *ctl = calloc(1, sizeof(*ctl));
	int fd;

	if (!ctl)
		return -ENOMEM;
	fd = unix_socket_listen(path, 4, SOCK_NONBLOCK);
	if (fd < 0) {
		log_error("control", "--control %s: %s", path, strerror(-fd));
		free(ctl);
		return fd;
	}
	ctl->vm = vm;
	ctl->devs = devs;
	ctl->listen_fd = fd;
	snprintf(ctl->path, sizeof(ctl->path), "%s", path);
	ctl->listen_ev = event_new(vm->evbase, fd, EV_READ | EV_PERSIST, on_accept, ctl);
	if (!ctl->listen_ev || event_add(ctl->listen_ev, NULL) < 0) {
		control_destroy(ctl);
		return -ENOMEM;
	}
	*out = ctl;
	return 0;
}

void control_destroy(struct control *ctl)
{
	if (!ctl)
		return;
	for (unsigned i = 0; i < CONTROL_MAX_CLIENTS; i++)
		if (ctl->clients[i])
			client_close(ctl->clients[i]);
	if (ctl->listen_ev)
		event_free(ctl->listen_ev);
	close(ctl->listen_fd);
	unlink(ctl->path);
	free(ctl);
}
