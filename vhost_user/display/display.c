/* The vhost-user-gpu display channel: incremental message receiver, request handlers, replies. */
#include "vhost_user/display/display.h"
#include "vmm/clock.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/virtio_gpu.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "vhost_user/display/internal.h"
#include "vhost_user/frontend.h"
#include "vmm/util.h"

#define OFFERED_FEATURES BIT(GPU_DISPLAY_PROTOCOL_F_EDID)
#define RX_MAX_FDS 4
#define RX_IOV_MAX 64
/* Work done per readable event before yielding to the event loop. */
#define RX_BUDGET_BYTES (8u << 20)
#define REPLY_TIMEOUT_MS 1000

#define refuse(d, ...) log_warn_ratelimited(&(d)->rl, (d)->log_component, __VA_ARGS__)

static const char *request_name(uint32_t request)
{
	const struct vhost_user_msg_info *info = vhost_user_gpu_msg_info(request);

	return info ? info->name : "UNKNOWN";
}

int gpu_display_init(struct gpu_display *d, const char *name, const struct gpu_display_config *cfg)
{
	const struct gpu_display_config fallback = {
	    .num_scanouts = 1, .width = 1024, .height = 768};

	memset(d, 0, sizeof(*d));
	d->fd = -1;
	if (!cfg)
		cfg = &fallback;
	if (strlen(name) >= sizeof(d->name) || cfg->num_scanouts == 0 ||
	    cfg->num_scanouts > GPU_DISPLAY_MAX_SCANOUTS ||
	    !gpu_display_mode_valid(cfg->width, cfg->height))
		return -EINVAL;
	strcpy(d->name, name);
	snprintf(d->log_component, sizeof(d->log_component), "gpu-display %s", name);
	d->config = *cfg;
	return 0;
}

static void rx_reset(struct gpu_display *d)
{
	vhost_user_close_fds(d->rx.in.fds, d->rx.in.n);
	memset(&d->rx, 0, sizeof(d->rx));
	d->rx.phase = RX_HEADER;
	d->rx.want = sizeof(d->rx.hdr);
	d->rx.in.max = RX_MAX_FDS;
}

/* Too many descriptors, or some were lost: the message is read to its end, then refused. */
static bool rx_bad_fds(const struct gpu_display_rx *rx)
{
	return rx->in.dropped || rx->in.truncated;
}

static void close_socket(struct gpu_display *d, const char *why)
{
	if (d->fd < 0)
		return;
	log_warn(d->log_component, "%s: display channel closed: %s", d->name, why);
	close(d->fd);
	d->fd = -1;
	rx_reset(d);
}

int gpu_display_open_socket(struct gpu_display *d, int *backend_fd)
{
	int pair[2];

	if (d->fd >= 0) {
		close(d->fd);
		d->fd = -1;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0)
		return -errno;
	if (fcntl(pair[0], F_SETFL, O_NONBLOCK) < 0) {
		int err = -errno;

		close(pair[0]);
		close(pair[1]);
		return err;
	}
	d->fd = pair[0];
	d->features_set = false;
	d->protocol_features = 0;
	rx_reset(d);
	*backend_fd = pair[1];
	return 0;
}

int gpu_display_fd(const struct gpu_display *d)
{
	return d->fd;
}

void gpu_display_close(struct gpu_display *d)
{
	if (d->fd >= 0)
		close(d->fd);
	d->fd = -1;
	rx_reset(d);
	gpu_fb_free_all(d);
}

static int send_reply(struct gpu_display *d, uint32_t request, const void *payload, uint32_t size)
{
	struct gpu_display_msg_header hdr = {
	    .request = request, .flags = GPU_DISPLAY_FLAG_REPLY, .size = size};
	struct iovec iov[2] = {{.iov_base = &hdr, .iov_len = sizeof(hdr)},
			       {.iov_base = (void *)payload, .iov_len = size}};
	int err = vhost_user_sendmsg_fds(d->fd, iov, 2, NULL, 0, REPLY_TIMEOUT_MS);

	if (err) {
		close_socket(d, "reply could not be sent");
		return err;
	}
	d->stats.replies++;
	return 0;
}

static int reply_display_info(struct gpu_display *d)
{
	struct virtio_gpu_resp_display_info info;
	unsigned i;

	memset(&info, 0, sizeof(info));
	info.hdr.type = htole32(VIRTIO_GPU_RESP_OK_DISPLAY_INFO);
	for (i = 0; i < d->config.num_scanouts; i++) {
		info.pmodes[i].r.width = htole32(d->config.width);
		info.pmodes[i].r.height = htole32(d->config.height);
		info.pmodes[i].enabled = htole32(1);
	}
	return send_reply(d, GPU_DISPLAY_GET_DISPLAY_INFO, &info, sizeof(info));
}

/* The back-end blocks until it has this reply, so even a bad scanout id gets one (an error). */
static int reply_edid(struct gpu_display *d, uint32_t scanout_id)
{
	struct virtio_gpu_resp_edid resp;

	memset(&resp, 0, sizeof(resp));
	if (scanout_id >= d->config.num_scanouts) {
		refuse(d, "%s: GET_EDID: scanout %u does not exist", d->name, scanout_id);
		d->stats.refused++;
		resp.hdr.type = htole32(VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID);
	} else {
		resp.hdr.type = htole32(VIRTIO_GPU_RESP_OK_EDID);
		resp.size = htole32(GPU_DISPLAY_EDID_SIZE);
		gpu_display_build_edid(resp.edid, d->config.width, d->config.height);
	}
	return send_reply(d, GPU_DISPLAY_GET_EDID, &resp, sizeof(resp));
}

static int set_features(struct gpu_display *d, uint64_t features)
{
	d->features_set = true;
	if (features & ~OFFERED_FEATURES) {
		refuse(d, "%s: SET_PROTOCOL_FEATURES: 0x%llx not offered (offered 0x%llx)", d->name,
		       (unsigned long long)features, (unsigned long long)OFFERED_FEATURES);
		d->protocol_features = features & OFFERED_FEATURES;
		return -EINVAL;
	}
	d->protocol_features = features;
	return 0;
}

/* Serves one complete, well-sized message. Returns -errno only when the channel died. */
static int dispatch(struct gpu_display *d)
{
	struct gpu_display_rx *rx = &d->rx;
	int fd = rx->in.n ? rx->in.fds[0] : -1;
	int err = 0;
	uint64_t u64;

	switch (rx->hdr.request) {
	case GPU_DISPLAY_GET_PROTOCOL_FEATURES:
		u64 = OFFERED_FEATURES;
		return send_reply(d, rx->hdr.request, &u64, sizeof(u64));
	case GPU_DISPLAY_SET_PROTOCOL_FEATURES:
		memcpy(&u64, rx->fixed.bytes, sizeof(u64));
		err = set_features(d, u64);
		break;
	case GPU_DISPLAY_GET_DISPLAY_INFO:
		return reply_display_info(d);
	case GPU_DISPLAY_GET_EDID:
		memcpy(&u64, rx->fixed.bytes, sizeof(uint32_t));
		return reply_edid(d, (uint32_t)u64);
	case GPU_DISPLAY_CURSOR_POS:
	case GPU_DISPLAY_CURSOR_POS_HIDE:
		err = gpu_fb_cursor_pos(d, &rx->fixed.cursor_update.pos,
					rx->hdr.request == GPU_DISPLAY_CURSOR_POS);
		break;
	case GPU_DISPLAY_CURSOR_UPDATE:
		err = gpu_fb_cursor_update(d, &rx->fixed.cursor_update);
		break;
	case GPU_DISPLAY_SCANOUT:
		err =
		    gpu_fb_set_scanout(d, (const struct gpu_display_scanout_msg *)rx->fixed.bytes);
		break;
	case GPU_DISPLAY_UPDATE:
		d->scanouts[rx->fixed.update.scanout_id].updates++;
		gpu_fb_update_done(d, &rx->fixed.update);
		log_debug(d->log_component, "%s: UPDATE scanout %u: %ux%u+%u+%u", d->name,
			  rx->fixed.update.scanout_id, rx->fixed.update.width,
			  rx->fixed.update.height, rx->fixed.update.x, rx->fixed.update.y);
		break;
	case GPU_DISPLAY_DMABUF_SCANOUT:
		rx->in.n = 0; /* ownership passes to the handler */
		err = gpu_fb_dmabuf_scanout(d, &rx->fixed.dmabuf_scanout, fd);
		break;
	case GPU_DISPLAY_DMABUF_UPDATE:
		gpu_fb_dmabuf_update(d, &rx->fixed.update);
		/* Acknowledged whatever happened: the back-end stalls until it is. */
		return send_reply(d, GPU_DISPLAY_DMABUF_UPDATE, NULL, 0);
	}
	if (err)
		d->stats.refused++;
	return 0;
}

/* The table's entry for a request we serve, or NULL. */
static const struct vhost_user_msg_info *served_info(uint32_t request)
{
	/* DMABUF_SCANOUT2 is not served: DMABUF2 is never offered. */
	if (request == GPU_DISPLAY_DMABUF_SCANOUT2)
		return NULL;
	/* GET_EDID is served even if EDID was not negotiated: the back-end waits for an answer. */
	return vhost_user_gpu_msg_info(request);
}

/* Checks a header; on refusal the payload is skipped, never interpreted. */
static bool header_acceptable(struct gpu_display *d, const struct vhost_user_msg_info *info)
{
	const struct gpu_display_msg_header *h = &d->rx.hdr;
	const char *name = request_name(h->request);

	if (!info) {
		refuse(d, "%s: request %u (%s) not supported here", d->name, h->request, name);
		return false;
	}
	/*
	 * QEMU 7.2's vhost-user-gpu sends UPDATE from a buffer it never
	 * clears, so that message's flags are noise: ignore them there.
	 */
	if (h->request != GPU_DISPLAY_UPDATE && (h->flags & GPU_DISPLAY_FLAG_REPLY)) {
		refuse(d, "%s: %s: unexpected reply flag (flags 0x%x)", d->name, name, h->flags);
		return false;
	}
	if (h->size < info->size.min || h->size > info->size.max) {
		refuse(d, "%s: %s: payload size %u, expected %s%u", d->name, name, h->size,
		       info->size.max > info->size.min ? "at least " : "", info->size.min);
		return false;
	}
	return true;
}

static bool fds_acceptable(struct gpu_display *d)
{
	unsigned allowed = d->rx.hdr.request == GPU_DISPLAY_DMABUF_SCANOUT ? 1 : 0;

	if (d->rx.in.n > allowed) {
		refuse(d, "%s: %s: %u descriptors attached, at most %u allowed", d->name,
		       request_name(d->rx.hdr.request), d->rx.in.n, allowed);
		return false;
	}
	return true;
}

static void start_discard(struct gpu_display *d)
{
	d->stats.refused++;
	d->rx.refused = true;
	d->rx.phase = RX_DISCARD;
	d->rx.got = 0;
}

/* Advances the state machine after a phase completed; returns -errno if the channel died. */
static int phase_done(struct gpu_display *d)
{
	struct gpu_display_rx *rx = &d->rx;
	const struct vhost_user_msg_info *info;
	int err = 0;

	if (rx->phase == RX_HEADER) {
		if (rx->hdr.request < GPU_DISPLAY_REQUEST_MAX)
			d->stats.messages[rx->hdr.request]++;
		rx->left = rx->hdr.size;
		info = served_info(rx->hdr.request);
		rx->got = 0;
		if (rx_bad_fds(rx) || !header_acceptable(d, info)) {
			start_discard(d);
		} else {
			rx->phase = RX_FIXED;
			rx->want = info->size.min;
		}
	} else if (rx->phase == RX_FIXED && rx->hdr.request == GPU_DISPLAY_UPDATE) {
		rx->got = 0;
		if (gpu_fb_check_update(d, &rx->fixed.update, rx->left) != 0)
			start_discard(d);
		else
			rx->phase = RX_PIXELS;
	}
	if (rx->left > 0 || (rx->phase == RX_FIXED && rx->got < rx->want))
		return 0;
	/* The whole message is in. */
	if (!rx->refused && !rx_bad_fds(rx) && fds_acceptable(d))
		err = dispatch(d);
	else if (!rx->refused)
		d->stats.refused++;
	if (d->fd >= 0)
		rx_reset(d);
	return err;
}

/* Where the next received bytes go, for the current phase. */
static unsigned rx_iov(struct gpu_display *d, struct iovec *iov, uint8_t *scratch,
		       size_t scratch_len)
{
	struct gpu_display_rx *rx = &d->rx;

	switch (rx->phase) {
	case RX_HEADER:
		iov->iov_base = (uint8_t *)&rx->hdr + rx->got;
		iov->iov_len = rx->want - rx->got;
		return 1;
	case RX_FIXED:
		iov->iov_base = rx->fixed.bytes + rx->got;
		iov->iov_len = rx->want - rx->got;
		return 1;
	case RX_PIXELS:
		return gpu_fb_update_iov(d, &rx->fixed.update, rx->got, iov, RX_IOV_MAX);
	case RX_DISCARD:
		iov->iov_base = scratch;
		iov->iov_len = rx->left < scratch_len ? (size_t)rx->left : scratch_len;
		return 1;
	}
	return 0;
}

/*
 * One recvmsg; returns bytes read (> 0), -EAGAIN, or another -errno (channel
 * dead). Descriptors beyond RX_MAX_FDS, or a truncated control message,
 * poison the message: it is read to its end (framing stays intact) and then
 * refused.
 */
static ssize_t rx_once(struct gpu_display *d)
{
	uint8_t scratch[4096];
	struct iovec iov[RX_IOV_MAX];
	unsigned niov = rx_iov(d, iov, scratch, sizeof(scratch));

	return vhost_user_recvmsg_fds(d->fd, iov, niov, &d->rx.in);
}

int gpu_display_handle_readable(struct gpu_display *d)
{
	size_t budget = RX_BUDGET_BYTES;
	int err = 0;

	while (d->fd >= 0 && budget > 0 && !err) {
		struct gpu_display_rx *rx = &d->rx;
		ssize_t n = rx_once(d);

		if (n == -EAGAIN)
			return 0;
		if (n < 0) {
			close_socket(d, n == -ECONNRESET ? "back-end hung up" : strerror((int)-n));
			return (int)n;
		}
		budget -= (size_t)n < budget ? (size_t)n : budget;
		rx->got += (size_t)n;
		if (rx->phase != RX_HEADER)
			rx->left -= (uint64_t)n;
		if (rx->phase == RX_PIXELS || rx->phase == RX_DISCARD ? rx->left == 0
								      : rx->got == rx->want)
			err = phase_done(d);
	}
	return err;
}

int gpu_display_serve(struct gpu_display *d, int timeout_ms,
		      bool (*done)(const struct gpu_display *d, void *arg), void *arg)
{
	int64_t deadline = monotonic_ms() + timeout_ms;

	for (;;) {
		struct pollfd pfd = {.fd = d->fd, .events = POLLIN};
		int64_t left;
		int err;

		if (done && done(d, arg))
			return 0;
		if (d->fd < 0)
			return -ENOTCONN;
		left = deadline - monotonic_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		if (poll(&pfd, 1, (int)left) > 0) {
			err = gpu_display_handle_readable(d);
			if (err)
				return err;
		}
	}
}

static bool features_done(const struct gpu_display *d, void *arg)
{
	(void)arg;
	return d->features_set;
}

int gpu_display_attach(struct gpu_display *d, struct vhost_user_frontend *fe, int timeout_ms)
{
	int backend_fd, err;

	err = gpu_display_open_socket(d, &backend_fd);
	if (err)
		return err;
	err = vhost_user_frontend_gpu_set_socket(fe, backend_fd);
	close(backend_fd);
	if (err) {
		gpu_display_close(d);
		return err;
	}
	err = gpu_display_serve(d, timeout_ms, features_done, NULL);
	return err == -ETIMEDOUT ? 0 : err;
}
