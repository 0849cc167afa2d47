/* The control socket: JSON-lines commands (status, pause, resume, screenshot, quit). */
#include "vmm/control.h"
#include "vmm/clock.h"
#include "vmm/console.h"

#include <errno.h>
#include <event2/event.h>
#include <jansson.h>
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
#include "vmm/snapshot.h"
#include "vmm/unix_socket.h"
#include "vmm/vcpu.h"
#include "vmm/vm.h"

#define CONTROL_SOCKET_MODE 0600

struct control_client {
	struct control *ctl;
	int fd;
	struct event *ev;
	struct event *idle_ev; /* fires idle_timeout_ms after the last complete line */
	uint64_t last_line_ns; /* when it connected or last sent a complete line */
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
	unsigned idle_timeout_ms;
	uid_t uid; /* the only peer uid let in: the VMM's own */
	struct log_ratelimit rl;
	struct control_client *clients[CONTROL_MAX_CLIENTS];
};

static void client_close(struct control_client *cl)
{
	struct control *ctl = cl->ctl;

	for (unsigned i = 0; i < CONTROL_MAX_CLIENTS; i++)
		if (ctl->clients[i] == cl)
			ctl->clients[i] = NULL;
	event_free(cl->ev);
	event_free(cl->idle_ev);
	close(cl->fd);
	free(cl);
}

/*
 * Sends msg (the reference is taken) as one compact line; false when the
 * client is gone or no reply could be built (then it was closed).
 */
static bool reply(struct control_client *cl, json_t *msg)
{
	char *text = msg ? json_dumps(msg, JSON_COMPACT) : NULL;
	struct iovec iov[2] = {{.iov_base = text, .iov_len = text ? strlen(text) : 0},
			       {.iov_base = "\n", .iov_len = 1}};
	struct msghdr mh = {.msg_iov = iov, .msg_iovlen = 2};
	bool ok = text && sendmsg(cl->fd, &mh, MSG_NOSIGNAL) == (ssize_t)(iov[0].iov_len + 1);

	if (!text)
		log_warn("control", "out of memory building a reply; closing the connection");
	free(text);
	json_decref(msg);
	if (!ok)
		client_close(cl);
	return ok;
}

static json_t *error_reply(const char *why)
{
	return json_pack("{s:b,s:s}", "ok", 0, "error", why);
}

static json_t *cmd_status(struct control *ctl)
{
	json_t *devices = json_array();
	bool ok = devices != NULL;

	pthread_mutex_lock(&ctl->vm->dev_lock);
	for (unsigned i = 0; ok && i < ctl->devs->nvhost_user; i++)
		ok = !json_array_append_new(devices, vu_device_describe(ctl->devs->vhost_user[i]));
	pthread_mutex_unlock(&ctl->vm->dev_lock);
	if (!ok) {
		json_decref(devices);
		return NULL;
	}
	/* The documented order: ok, state, devices, then what was added later. */
	return json_pack("{s:b,s:s,s:o,s:I}", "ok", 1, "state", ctl->paused ? "paused" : "running",
			 "devices", devices, "console_dropped",
			 (json_int_t)console_dropped(ctl->vm->console));
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

static json_t *cmd_pause_resume(struct control *ctl, bool pause)
{
	const char *failed = NULL, *state = pause ? "paused" : "running";
	uint64_t start = monotonic_ns(), latency_us;
	char why[192];

	if (pause && !ctl->paused) {
		if (vcpus_pause(ctl->vm, why, sizeof(why))) {
			log_warn("control", "pause failed: %s", why);
			return json_pack("{s:b,s:s,s:s}", "ok", 0, "state", "running", "error",
					 why);
		}
		devices_sleep_wake(ctl, true, &failed);
	} else if (!pause && ctl->paused) {
		devices_sleep_wake(ctl, false, &failed);
		vcpus_resume(ctl->vm);
	}
	ctl->paused = pause;
	latency_us = (monotonic_ns() - start) / 1000;
	log_info("control", "%s in %llu us", pause ? "paused" : "resumed",
		 (unsigned long long)latency_us);
	if (!failed)
		return json_pack("{s:b,s:s,s:I}", "ok", 1, "state", state, "latency_us",
				 (json_int_t)latency_us);
	snprintf(why, sizeof(why), "device %s failed (see status)", failed);
	return json_pack("{s:b,s:s,s:s}", "ok", 0, "state", state, "error", why);
}

/* {"cmd":"snapshot","path":DIR[,"resume":true]}: checked, paused, written (vmm/snapshot.c). */
static json_t *cmd_snapshot(struct control *ctl, const struct control_request *req)
{
	struct snapshot_stats st;
	char err[SNAP_RESTORE_ERR_MAX];
	json_t *paused;
	int r = vm_snapshot_check(ctl->vm, ctl->devs, err, sizeof(err));

	if (r)
		return error_reply(err);
	paused = cmd_pause_resume(ctl, true);
	if (!json_is_true(json_object_get(paused, "ok")))
		return paused;
	json_decref(paused);
	r = vm_snapshot_save(ctl->vm, ctl->devs, req->path, &st, err, sizeof(err));
	if (req->resume)
		json_decref(cmd_pause_resume(ctl, false));
	if (r)
		return error_reply(err);
	log_info("control", "snapshot %s: %llu bytes of RAM in %.1f ms", req->path,
		 (unsigned long long)st.ram_bytes, (double)st.ns / 1e6);
	return json_pack("{s:b,s:s,s:I,s:I}", "ok", 1, "state", ctl->paused ? "paused" : "running",
			 "ram_bytes", (json_int_t)st.ram_bytes, "ms",
			 (json_int_t)(st.ns / 1000000));
}

/* The device named name, or with name "" the first with a display (a GPU). */
static struct vu_device *find_device(struct control *ctl, const char *name)
{
	for (unsigned i = 0; i < ctl->devs->nvhost_user; i++) {
		struct vu_device *dev = ctl->devs->vhost_user[i];
		if (name[0] ? !strcmp(vu_device_name(dev), name) : vu_device_has_display(dev))
			return dev;
	}
	return NULL;
}

/* {"cmd":"reconnect","device":"blk0"}: the back-end is dropped; the device waits for it. */
static json_t *cmd_reconnect(struct control *ctl, const struct control_request *req)
{
	struct vu_device *dev = req->device[0] ? find_device(ctl, req->device) : NULL;
	int err;

	if (!dev)
		return error_reply("no such device");
	pthread_mutex_lock(&ctl->vm->dev_lock);
	err = vu_device_reconnect(dev);
	pthread_mutex_unlock(&ctl->vm->dev_lock);
	if (err == -EALREADY)
		return error_reply("already reconnecting");
	if (err)
		return error_reply("the device failed: the guest must reset it first");
	return json_pack("{s:b,s:s}", "ok", 1, "device", vu_device_name(dev));
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
	case -EEXIST:
		return "path exists (screenshots never replace a file)";
	default:
		return strerror(-err);
	}
}

/* {"cmd":"screenshot","device":"gpu0","scanout":0,"path":"/x.png"}; device, scanout optional. */
static json_t *cmd_screenshot(struct control *ctl, const struct control_request *req)
{
	struct vu_device *dev = find_device(ctl, req->device);
	int err;

	if (!dev)
		return error_reply("no such device");
	err = vu_device_screenshot(dev, req->scanout, req->path);
	if (err)
		return error_reply(screenshot_error(err));
	return json_pack("{s:b,s:s,s:I}", "ok", 1, "device", vu_device_name(dev), "scanout",
			 (json_int_t)req->scanout);
}

/* Runs one command line of len bytes; false when the client was closed. */
static bool handle_line(struct control_client *cl, const char *line, size_t len)
{
	struct control *ctl = cl->ctl;
	struct control_request req;
	bool ok;

	if (control_parse_request(line, len, &req))
		return reply(cl, error_reply(req.error));
	switch (req.cmd) {
	case CONTROL_STATUS:
		return reply(cl, cmd_status(ctl));
	case CONTROL_PAUSE:
	case CONTROL_RESUME:
		return reply(cl, cmd_pause_resume(ctl, req.cmd == CONTROL_PAUSE));
	case CONTROL_SCREENSHOT:
		return reply(cl, cmd_screenshot(ctl, &req));
	case CONTROL_SNAPSHOT:
		return reply(cl, cmd_snapshot(ctl, &req));
	case CONTROL_RECONNECT:
		return reply(cl, cmd_reconnect(ctl, &req));
	case CONTROL_QUIT:
		break;
	}
	ok = reply(cl, json_pack("{s:b}", "ok", 1));
	vm_request_exit(ctl->vm, VM_EXIT_USER, 0, "control socket: quit");
	return ok;
}

/* A complete line: the client is not idle; its idle timer starts again. */
static void client_active(struct control_client *cl)
{
	struct timeval tv = {.tv_sec = cl->ctl->idle_timeout_ms / 1000,
			     .tv_usec = (cl->ctl->idle_timeout_ms % 1000) * 1000};

	cl->last_line_ns = monotonic_ns();
	event_add(cl->idle_ev, &tv);
}

static void on_idle(evutil_socket_t fd, short what, void *arg)
{
	struct control_client *cl = arg;

	(void)fd;
	(void)what;
	log_warn_ratelimited(&cl->ctl->rl, "control", "closing a client idle for %u ms",
			     cl->ctl->idle_timeout_ms);
	client_close(cl);
}

static bool is_blank(const char *p, size_t len)
{
	while (len && (*p == ' ' || *p == '\t' || *p == '\r'))
		p++, len--;
	return len == 0;
}

/* Serves every complete line in the buffer; false when the client was closed. */
static bool serve_lines(struct control_client *cl)
{
	char *nl;

	while ((nl = memchr(cl->buf, '\n', cl->len))) {
		size_t len = (size_t)(nl - cl->buf), used = len + 1;

		if (!is_blank(cl->buf, len) && !handle_line(cl, cl->buf, len))
			return false;
		client_active(cl);
		memmove(cl->buf, cl->buf + used, cl->len - used);
		cl->len -= used;
	}
	if (cl->len == sizeof(cl->buf)) {
		if (reply(cl, error_reply("line too long")))
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

/* Whether the peer runs as the VMM's own uid; anyone else is refused (README). */
static bool peer_allowed(struct control *ctl, int conn)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(conn, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
		log_warn_ratelimited(&ctl->rl, "control", "refusing a client: SO_PEERCRED: %s",
				     strerror(errno));
		return false;
	}
	if (cred.uid == ctl->uid)
		return true;
	log_warn_ratelimited(&ctl->rl, "control",
			     "refusing a client of uid %u (pid %d): only uid %u may connect",
			     (unsigned)cred.uid, (int)cred.pid, (unsigned)ctl->uid);
	return false;
}

/*
 * A free slot for a new client. At the limit, the client that has gone
 * longest without a complete line is closed to make room: a stuck or
 * forgotten client must not lock the operator out.
 */
static unsigned free_slot(struct control *ctl)
{
	unsigned slot = 0;

	for (unsigned i = 0; i < CONTROL_MAX_CLIENTS; i++) {
		if (!ctl->clients[i])
			return i;
		if (ctl->clients[i]->last_line_ns < ctl->clients[slot]->last_line_ns)
			slot = i;
	}
	log_warn_ratelimited(&ctl->rl, "control",
			     "%u clients connected: closing the one idle longest for a new one",
			     CONTROL_MAX_CLIENTS);
	client_close(ctl->clients[slot]);
	return slot;
}

static struct control_client *client_new(struct control *ctl, int conn)
{
	struct control_client *cl = calloc(1, sizeof(*cl));

	if (!cl)
		return NULL;
	cl->ctl = ctl;
	cl->fd = conn;
	cl->ev = event_new(ctl->vm->evbase, conn, EV_READ | EV_PERSIST, on_client, cl);
	cl->idle_ev = evtimer_new(ctl->vm->evbase, on_idle, cl);
	if (!cl->ev || !cl->idle_ev || event_add(cl->ev, NULL) < 0) {
		if (cl->ev)
			event_free(cl->ev);
		if (cl->idle_ev)
			event_free(cl->idle_ev);
		free(cl);
		return NULL;
	}
	client_active(cl);
	return cl;
}

static void on_accept(evutil_socket_t fd, short what, void *arg)
{
	struct control *ctl = arg;
	struct control_client *cl;
	int conn;

	(void)what;
	conn = accept4((int)fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (conn < 0)
		return;
	if (!peer_allowed(ctl, conn)) {
		close(conn);
		return;
	}
	cl = client_new(ctl, conn);
	if (!cl) {
		log_warn_ratelimited(&ctl->rl, "control", "refusing a connection: no memory");
		close(conn);
		return;
	}
	ctl->clients[free_slot(ctl)] = cl;
}

int control_create(struct vm *vm, struct vm_devices *devs, const char *path, struct control **out)
{
	struct control *ctl = calloc(1, sizeof(*ctl));
	int fd;

	if (!ctl)
		return -ENOMEM;
	fd = unix_socket_listen_mode(path, 4, SOCK_NONBLOCK, CONTROL_SOCKET_MODE);
	if (fd < 0) {
		log_error("control", "--control %s: %s", path, strerror(-fd));
		free(ctl);
		return fd;
	}
	ctl->vm = vm;
	ctl->devs = devs;
	ctl->listen_fd = fd;
	ctl->uid = geteuid();
	ctl->idle_timeout_ms = CONTROL_IDLE_TIMEOUT_MS;
	snprintf(ctl->path, sizeof(ctl->path), "%s", path);
	ctl->listen_ev = event_new(vm->evbase, fd, EV_READ | EV_PERSIST, on_accept, ctl);
	if (!ctl->listen_ev || event_add(ctl->listen_ev, NULL) < 0) {
		control_destroy(ctl);
		return -ENOMEM;
	}
	*out = ctl;
	return 0;
}

void control_set_idle_timeout(struct control *ctl, unsigned ms)
{
	ctl->idle_timeout_ms = ms;
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
