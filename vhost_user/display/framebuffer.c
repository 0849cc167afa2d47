/* Per-scanout framebuffers, cursor state, the EDID we report, and PNG screenshots. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vhost_user/display/internal.h"
#include "vhost_user/display/vnc.h"
#include "vhost_user/display/png.h"

#define VNC_SCANOUT 0 /* the scanout a VNC view shows */

#define refuse(d, ...) log_warn_ratelimited(&(d)->rl, (d)->log_component, __VA_ARGS__)

static struct gpu_scanout *scanout_of(struct gpu_display *d, uint32_t id, const char *what)
{
	if (id >= d->config.num_scanouts) {
		refuse(d, "%s: %s: scanout %u does not exist (have %u)", d->name, what, id,
		       d->config.num_scanouts);
		return NULL;
	}
	return &d->scanouts[id];
}

/* The VNC view, when there is one and it shows scanout id. */
static struct gpu_vnc *vnc_of(struct gpu_display *d, uint32_t id)
{
	return id == VNC_SCANOUT ? d->vnc : NULL;
}

static void free_pixels(struct gpu_scanout *s)
{
	free(s->pixels);
	s->pixels = NULL;
	s->width = s->height = 0;
}

int gpu_fb_set_scanout(struct gpu_display *d, const struct gpu_display_scanout_msg *m)
{
	struct gpu_scanout *s = scanout_of(d, m->scanout_id, "SCANOUT");
	uint32_t *pixels;

	if (!s)
		return -EINVAL;
	s->dmabuf = false;
	if (m->width == 0 || m->height == 0) {
		free_pixels(s);
		if (vnc_of(d, m->scanout_id))
			gpu_vnc_blank(d->vnc);
		log_info(d->log_component, "%s: scanout %u disabled", d->name, m->scanout_id);
		return 0;
	}
	if (m->width > GPU_DISPLAY_MAX_DIM || m->height > GPU_DISPLAY_MAX_DIM ||
	    (uint64_t)m->width * m->height * 4 > GPU_DISPLAY_MAX_FB_BYTES) {
		refuse(d, "%s: SCANOUT: %ux%u too large (max %ux%u, %u MiB)", d->name, m->width,
		       m->height, GPU_DISPLAY_MAX_DIM, GPU_DISPLAY_MAX_DIM,
		       GPU_DISPLAY_MAX_FB_BYTES >> 20);
		return -EINVAL;
	}
	if (s->pixels && s->width == m->width && s->height == m->height)
		return 0;
	pixels = calloc((size_t)m->width * m->height, sizeof(uint32_t));
	if (!pixels)
		return -ENOMEM;
	free_pixels(s);
	s->pixels = pixels;
	s->width = m->width;
	s->height = m->height;
	if (vnc_of(d, m->scanout_id))
		gpu_vnc_resize(d->vnc, m->width, m->height);
	log_info(d->log_component, "%s: scanout %u is %ux%u", d->name, m->scanout_id, m->width,
		 m->height);
	return 0;
}

/* The rectangle lies inside a w x h surface; written so that nothing can overflow. */
static bool rect_inside(const struct gpu_display_update *u, uint32_t w, uint32_t h)
{
	return u->x <= w && u->width <= w - u->x && u->y <= h && u->height <= h - u->y;
}

int gpu_fb_check_update(struct gpu_display *d, const struct gpu_display_update *u,
			uint64_t pixel_bytes)
{
	struct gpu_scanout *s = scanout_of(d, u->scanout_id, "UPDATE");

	if (!s)
		return -EINVAL;
	if (!s->pixels) {
		refuse(d, "%s: UPDATE: scanout %u has no framebuffer", d->name, u->scanout_id);
		return -ENODEV;
	}
	if (!rect_inside(u, s->width, s->height)) {
		refuse(d, "%s: UPDATE: %ux%u+%u+%u outside scanout %u (%ux%u)", d->name, u->width,
		       u->height, u->x, u->y, u->scanout_id, s->width, s->height);
		return -ERANGE;
	}
	/* Both factors are bounded by the scanout, so the product fits in 64 bits. */
	if (pixel_bytes != (uint64_t)u->width * u->height * 4) {
		refuse(d, "%s: UPDATE: %ux%u needs %llu pixel bytes, got %llu", d->name, u->width,
		       u->height, (unsigned long long)u->width * u->height * 4,
		       (unsigned long long)pixel_bytes);
		return -EPROTO;
	}
	return 0;
}

unsigned gpu_fb_update_iov(struct gpu_display *d, const struct gpu_display_update *u,
			   uint64_t offset, struct iovec *iov, unsigned max)
{
	const struct gpu_scanout *s = &d->scanouts[u->scanout_id];
	uint64_t row_bytes = (uint64_t)u->width * 4;
	uint64_t total = row_bytes * u->height;
	unsigned n = 0;

	while (n < max && offset < total) {
		uint64_t row = offset / row_bytes, col = offset % row_bytes;
		uint8_t *line = (uint8_t *)(s->pixels + (size_t)(u->y + row) * s->width + u->x);

		iov[n].iov_base = line + col;
		iov[n].iov_len = (size_t)(row_bytes - col);
		offset += row_bytes - col;
		n++;
	}
	return n;
}

void gpu_fb_update_done(struct gpu_display *d, const struct gpu_display_update *u)
{
	const struct gpu_scanout *s = &d->scanouts[u->scanout_id];

	if (vnc_of(d, u->scanout_id) && s->pixels)
		gpu_vnc_update(d->vnc, s->pixels, s->width, u->x, u->y, u->width, u->height);
}

int gpu_fb_cursor_pos(struct gpu_display *d, const struct gpu_display_cursor_pos *p, bool visible)
{
	struct gpu_scanout *s = scanout_of(d, p->scanout_id, "CURSOR_POS");

	if (!s)
		return -EINVAL;
	s->cursor_x = p->x;
	s->cursor_y = p->y;
	s->cursor_visible = visible;
	return 0;
}

int gpu_fb_cursor_update(struct gpu_display *d, const struct gpu_display_cursor_update *c)
{
	struct gpu_scanout *s = scanout_of(d, c->pos.scanout_id, "CURSOR_UPDATE");

	if (!s)
		return -EINVAL;
	if (c->hot_x >= GPU_DISPLAY_CURSOR_DIM || c->hot_y >= GPU_DISPLAY_CURSOR_DIM) {
		refuse(d, "%s: CURSOR_UPDATE: hot spot %u,%u outside the 64x64 cursor", d->name,
		       c->hot_x, c->hot_y);
		return -ERANGE;
	}
	memcpy(s->cursor, c->data, sizeof(s->cursor));
	s->cursor_hot_x = c->hot_x;
	s->cursor_hot_y = c->hot_y;
	s->cursor_defined = true;
	return gpu_fb_cursor_pos(d, &c->pos, true);
}

int gpu_fb_dmabuf_scanout(struct gpu_display *d, const struct gpu_display_dmabuf_scanout *m, int fd)
{
	struct gpu_scanout *s = scanout_of(d, m->scanout_id, "DMABUF_SCANOUT");

	if (fd >= 0)
		close(fd); /* no /dev/dri here: we cannot import it, only note that it exists */
	if (!s)
		return -EINVAL;
	if (fd < 0) {
		s->dmabuf = false;
		log_info(d->log_component, "%s: dmabuf scanout %u disabled", d->name,
			 m->scanout_id);
		return 0;
	}
	s->dmabuf = true;
	s->dmabuf_info = *m;
	if (vnc_of(d, m->scanout_id))
		gpu_vnc_blank(d->vnc); /* what it shows is no longer the scanout */
	log_warn_ratelimited(&d->rl, d->log_component,
			     "%s: scanout %u shows a %ux%u dmabuf (fourcc 0x%x) we cannot read; "
			     "screenshots of it are unavailable",
			     d->name, m->scanout_id, m->width, m->height,
			     (unsigned)m->fd_drm_fourcc);
	return 0;
}

int gpu_fb_dmabuf_update(struct gpu_display *d, const struct gpu_display_update *u)
{
	struct gpu_scanout *s = scanout_of(d, u->scanout_id, "DMABUF_UPDATE");

	if (!s)
		return -EINVAL;
	if (!s->dmabuf) {
		refuse(d, "%s: DMABUF_UPDATE: scanout %u has no dmabuf", d->name, u->scanout_id);
		return -ENODEV;
	}
	s->dmabuf_updates++;
	return 0;
}

void gpu_fb_free_all(struct gpu_display *d)
{
	unsigned i;

	for (i = 0; i < GPU_DISPLAY_MAX_SCANOUTS; i++) {
		free_pixels(&d->scanouts[i]);
		memset(&d->scanouts[i], 0, sizeof(d->scanouts[i]));
	}
	if (d->vnc)
		gpu_vnc_blank(d->vnc);
}

void gpu_display_set_vnc(struct gpu_display *d, struct gpu_vnc *vnc)
{
	const struct gpu_scanout *s = &d->scanouts[VNC_SCANOUT];

	d->vnc = vnc;
	if (vnc && s->pixels && !s->dmabuf) {
		gpu_vnc_resize(vnc, s->width, s->height);
		gpu_vnc_update(vnc, s->pixels, s->width, 0, 0, s->width, s->height);
	}
}

const struct gpu_scanout *gpu_display_scanout(const struct gpu_display *d, unsigned i)
{
	return i < GPU_DISPLAY_MAX_SCANOUTS ? &d->scanouts[i] : NULL;
}

int gpu_display_capture(const struct gpu_display *d, unsigned scanout, struct gpu_image *img)
{
	const struct gpu_scanout *s;
	size_t bytes;

	memset(img, 0, sizeof(*img));
	if (scanout >= d->config.num_scanouts)
		return -EINVAL;
	s = &d->scanouts[scanout];
	if (s->dmabuf || !s->pixels)
		return -ENODATA;
	bytes = (size_t)s->width * s->height * 4; /* bounded by GPU_DISPLAY_MAX_FB_BYTES */
	img->pixels = malloc(bytes);
	if (!img->pixels)
		return -ENOMEM;
	memcpy(img->pixels, s->pixels, bytes);
	img->width = s->width;
	img->height = s->height;
	return 0;
}

int gpu_image_write_png(const struct gpu_image *img, const char *path)
{
	return png_write_xrgb(path, img->pixels, img->width, img->height, (size_t)img->width * 4);
}

void gpu_image_free(struct gpu_image *img)
{
	free(img->pixels);
	img->pixels = NULL;
}

int gpu_display_screenshot(struct gpu_display *d, unsigned scanout, const char *path)
{
	struct gpu_image img;
	int err = gpu_display_capture(d, scanout, &img);

	if (!err)
		err = gpu_image_write_png(&img, path);
	gpu_image_free(&img);
	return err;
}
