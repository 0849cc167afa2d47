/* Framebuffer and cursor operations behind gpu_display.c's message handlers; not a public API. */
#ifndef VHOST_USER_GPU_DISPLAY_INTERNAL_H
#define VHOST_USER_GPU_DISPLAY_INTERNAL_H

#include <sys/uio.h>

#include "vhost_user/display/display.h"

/* Each returns 0 or -errno after logging why the message was refused. */
int gpu_fb_set_scanout(struct gpu_display *d, const struct gpu_display_scanout_msg *m);
/* pixel_bytes: payload bytes after the update header. */
int gpu_fb_check_update(struct gpu_display *d, const struct gpu_display_update *u,
			uint64_t pixel_bytes);
int gpu_fb_cursor_pos(struct gpu_display *d, const struct gpu_display_cursor_pos *p, bool visible);
int gpu_fb_cursor_update(struct gpu_display *d, const struct gpu_display_cursor_update *c);
/* fd < 0: disable. Takes ownership of fd (closes it: we cannot map dmabufs). */
int gpu_fb_dmabuf_scanout(struct gpu_display *d, const struct gpu_display_dmabuf_scanout *m,
			  int fd);
int gpu_fb_dmabuf_update(struct gpu_display *d, const struct gpu_display_update *u);

/*
 * Fills up to max iovecs with the framebuffer bytes that pixel bytes
 * [offset, end) of a checked update land in, row by row. Returns the count.
 */
unsigned gpu_fb_update_iov(struct gpu_display *d, const struct gpu_display_update *u,
			   uint64_t offset, struct iovec *iov, unsigned max);

/* A checked UPDATE's pixels are all in: passes them to the VNC view if it shows that scanout. */
void gpu_fb_update_done(struct gpu_display *d, const struct gpu_display_update *u);

void gpu_fb_free_all(struct gpu_display *d);

#endif
