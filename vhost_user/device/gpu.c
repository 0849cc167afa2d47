/*
 * The display side of a vhost-user GPU device, served on a thread of its own.
 *
 * Why a thread: the back-end blocks on GET_DISPLAY_INFO, GET_EDID and
 * DMABUF_UPDATE until we answer on the display socket, and while it waits
 * it may not answer the main socket. Our synchronous requests on the main
 * socket (SET_FEATURES at DRIVER_OK, GET_CONFIG on a config read,
 * GET_VRING_BASE at reset) run on a vCPU or the loop thread holding
 * vm->dev_lock, so a display socket served by the event loop (which needs
 * dev_lock too) could not be answered until that request timed out and
 * failed the device. The display thread never takes dev_lock: it owns the
 * socket between start and stop, and the display's own lock guards the
 * framebuffers against screenshots from the loop thread.
 *
 * With vnc=HOST:PORT a view-only VNC server (display/vnc.c, its own thread)
 * shows scanout 0; it lives from create to destroy, across resets.
 */
#include "vhost_user/device/internal.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <linux/virtio_ids.h>
#include <stdio.h>

#include "vhost_user/display/display.h"
#include "vhost_user/display/vnc.h"
#include "vmm/log.h"

#define GPU_ATTACH_TIMEOUT_MS 1000
/* virtio-gpu config: events_read, events_clear, num_scanouts, num_capsets. */
#define GPU_CFG_NUM_SCANOUTS 8
#define GPU_CFG_LOCAL_END 12

/* The type's key: where the VNC view of scanout 0 listens; port 0 = no view. */
struct gpu_args {
	struct gpu_vnc_addr vnc;
};
_Static_assert(sizeof(struct gpu_args) <= VU_TYPE_ARGS_MAX, "gpu keys outgrow vu_spec");

/* dev->type_state of a GPU device. */
struct vu_gpu {
	struct vu_device *dev;
	pthread_mutex_t lock; /* guards display */
	struct gpu_display display;
	pthread_t thread;
	bool thread_on;
	int stop_fd;	     /* eventfd: the display thread exits when it is readable */
	struct gpu_vnc *vnc; /* NULL without vnc= */
};

static int gpu_parse_key(void *args, const char *key, const char *value, char *err, size_t n)
{
	struct gpu_args *a = args;

	if (strcmp(key, "vnc"))
		return -ENOENT;
	if (gpu_vnc_parse_addr(value, &a->vnc)) {
		snprintf(err, n, "bad value for key 'vnc': '%s' (want IPV4:PORT or PORT)", value);
		return -EINVAL;
	}
	return 0;
}

static int gpu_setup(struct vu_device *dev, unsigned ordinal, char *err, size_t n)
{
	(void)ordinal;
	(void)err;
	(void)n;
	/* Without CONFIG every field is ours: scanouts, no events, no capsets. */
	dev->local_config =
	    !vhost_user_frontend_has_protocol(&dev->fe, VHOST_USER_PROTOCOL_F_CONFIG);
	return 0;
}

static int gpu_create(struct vu_device *dev)
{
	const struct gpu_display_config cfg = {.num_scanouts = 1, .width = 1024, .height = 768};
	const struct gpu_args *a = (const void *)dev->spec.type_args;
	struct vu_gpu *g = calloc(1, sizeof(*g));
	int err;

	if (!g)
		return -ENOMEM;
	err = gpu_display_init(&g->display, dev->name, &cfg);
	if (err) {
		free(g);
		return err;
	}
	if (a->vnc.port) {
		err = gpu_vnc_start(&g->vnc, dev->name, &a->vnc, cfg.width, cfg.height);
		if (err) {
			free(g);
			return err;
		}
		gpu_display_set_vnc(&g->display, g->vnc);
	}
	g->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (g->stop_fd < 0) {
		err = -errno;
		gpu_vnc_stop(g->vnc);
		free(g);
		return err;
	}
	pthread_mutex_init(&g->lock, NULL);
	g->dev = dev;
	dev->type_state = g;
	return 0;
}

/* Serves the display socket until stop_fd fires or the channel fails. */
static void *display_thread(void *arg)
{
	struct vu_gpu *g = arg;
	int fd = gpu_display_fd(&g->display); /* fixed until stop: only this thread closes it */

	while (fd >= 0) {
		struct pollfd pfd[2] = {{.fd = fd, .events = POLLIN},
					{.fd = g->stop_fd, .events = POLLIN}};
		int n = poll(pfd, 2, -1), err;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || pfd[1].revents)
			break;
		if (!pfd[0].revents)
			continue;
		pthread_mutex_lock(&g->lock);
		err = gpu_display_handle_readable(&g->display);
		fd = gpu_display_fd(&g->display);
		pthread_mutex_unlock(&g->lock);
		if (err)
			log_warn(g->display.log_component, "%s: display channel closed: %s",
				 g->dev->name, strerror(-err));
	}
	return NULL;
}

static void gpu_stop(struct vu_device *dev);

static int gpu_start(struct vu_device *dev)
{
	struct vu_gpu *g = dev->type_state;
	uint64_t drained;
	int err;

	gpu_stop(dev);
	if (read(g->stop_fd, &drained, sizeof(drained)) < 0 && errno != EAGAIN)
		return -errno;
	/* No thread yet: serving the socket here is safe, and attach needs it served. */
	pthread_mutex_lock(&g->lock);
	err = gpu_display_attach(&g->display, &dev->fe, GPU_ATTACH_TIMEOUT_MS);
	pthread_mutex_unlock(&g->lock);
	if (err) {
		log_error(dev->fe.log_component, "%s: cannot attach the display: %s", dev->name,
			  strerror(-err));
		return err;
	}
	err = -pthread_create(&g->thread, NULL, display_thread, g);
	if (err) {
		pthread_mutex_lock(&g->lock);
		gpu_display_close(&g->display);
		pthread_mutex_unlock(&g->lock);
		return err;
	}
	g->thread_on = true;
	return 0;
}

static void gpu_stop(struct vu_device *dev)
{
	struct vu_gpu *g = dev->type_state;
	uint64_t one = 1;

	if (!g)
		return;
	if (g->thread_on) {
		/* The thread never takes dev_lock, so joining under it cannot deadlock. */
		if (write(g->stop_fd, &one, sizeof(one)) < 0)
			log_debug(dev->fe.log_component, "stop eventfd: %s", strerror(errno));
		pthread_join(g->thread, NULL);
		g->thread_on = false;
	}
	pthread_mutex_lock(&g->lock);
	gpu_display_close(&g->display);
	pthread_mutex_unlock(&g->lock);
}

static void gpu_destroy(struct vu_device *dev)
{
	struct vu_gpu *g = dev->type_state;

	if (!g)
		return;
	gpu_stop(dev); /* the display thread is gone: nothing else calls the view */
	gpu_display_set_vnc(&g->display, NULL);
	gpu_vnc_stop(g->vnc);
	close(g->stop_fd);
	pthread_mutex_destroy(&g->lock);
	free(g);
	dev->type_state = NULL;
}

static void gpu_config_read(struct vu_device *dev, uint32_t offset, void *data, unsigned len)
{
	/* The back-end reports no scanouts (QEMU fills them in) and its events are not ours. */
	const struct vu_gpu *g = dev->type_state;
	uint8_t local[GPU_CFG_LOCAL_END] = {0};
	uint32_t n = g->display.config.num_scanouts; /* fixed at create */

	memcpy(local + GPU_CFG_NUM_SCANOUTS, &n, sizeof(n));
	for (unsigned i = 0; i < len; i++)
		if (offset + i < GPU_CFG_LOCAL_END)
			((uint8_t *)data)[i] = local[offset + i];
}

/* events_clear: the events are served here. */
static bool gpu_config_write_local(struct vu_device *dev, uint32_t offset, unsigned len)
{
	(void)dev;
	return offset + len <= GPU_CFG_LOCAL_END;
}

/* UPDATE messages the display applied to scanout 0 (for status and benchmarks). */
static uint64_t gpu_updates(const struct vu_device *dev)
{
	struct vu_gpu *g = dev->type_state;
	uint64_t n;

	pthread_mutex_lock(&g->lock); /* after dev_lock: the display thread takes only this one */
	n = g->display.scanouts[0].updates;
	pthread_mutex_unlock(&g->lock);
	return n;
}

static int gpu_screenshot(struct vu_device *dev, unsigned scanout, const char *path)
{
	struct vu_gpu *g = dev->type_state;
	struct gpu_image img;
	int err;

	if (!g)
		return -ENODEV;
	/*
	 * Only the copy is made under the lock. Encoding a large framebuffer
	 * takes seconds; under the lock it would stall the display thread (and
	 * with it the back-end) and every status read, which waits for this
	 * lock holding dev_lock, and so every vCPU.
	 */
	pthread_mutex_lock(&g->lock);
	err = gpu_display_capture(&g->display, scanout, &img);
	pthread_mutex_unlock(&g->lock);
	if (!err)
		err = gpu_image_write_png(&img, path);
	gpu_image_free(&img);
	return err;
}

const struct vu_type_ops vu_gpu_ops = {
    .id = VIRTIO_ID_GPU,
    .keys = "vnc=HOST:PORT",
    .parse_key = gpu_parse_key,
    .setup = gpu_setup,
    .create = gpu_create,
    .destroy = gpu_destroy,
    .start = gpu_start,
    .stop = gpu_stop,
    .config_read = gpu_config_read,
    .config_write_local = gpu_config_write_local,
    .counter_name = "display_updates",
    .counter = gpu_updates,
    .screenshot = gpu_screenshot,
    .no_reconnect = "the display channel and the guest's resources live in the back-end",
};
