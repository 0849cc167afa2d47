/* The vhost-user-gpu display protocol's wire format: requests, flags and payload layouts. */
#ifndef VHOST_USER_WIRE_GPU_H
#define VHOST_USER_WIRE_GPU_H

#include <stdint.h>

#include "vhost_user/wire.h"

#define GPU_DISPLAY_CURSOR_DIM 64u

/* Display protocol requests (back-end to us). */
enum gpu_display_request {
	GPU_DISPLAY_GET_PROTOCOL_FEATURES = 1,
	GPU_DISPLAY_SET_PROTOCOL_FEATURES = 2,
	GPU_DISPLAY_GET_DISPLAY_INFO = 3,
	GPU_DISPLAY_CURSOR_POS = 4,
	GPU_DISPLAY_CURSOR_POS_HIDE = 5,
	GPU_DISPLAY_CURSOR_UPDATE = 6,
	GPU_DISPLAY_SCANOUT = 7,
	GPU_DISPLAY_UPDATE = 8,
	GPU_DISPLAY_DMABUF_SCANOUT = 9,
	GPU_DISPLAY_DMABUF_UPDATE = 10,
	GPU_DISPLAY_GET_EDID = 11,
	GPU_DISPLAY_DMABUF_SCANOUT2 = 12,
	GPU_DISPLAY_REQUEST_MAX
};

#define GPU_DISPLAY_FLAG_REPLY 0x4u
#define GPU_DISPLAY_PROTOCOL_F_EDID 0
#define GPU_DISPLAY_PROTOCOL_F_DMABUF2 1

/* Payload layouts as they travel (packed, native byte order). */
struct gpu_display_msg_header {
	uint32_t request;
	uint32_t flags;
	uint32_t size;
} __attribute__((packed));

struct gpu_display_cursor_pos {
	uint32_t scanout_id, x, y;
} __attribute__((packed));

struct gpu_display_cursor_update {
	struct gpu_display_cursor_pos pos;
	uint32_t hot_x, hot_y;
	uint32_t data[GPU_DISPLAY_CURSOR_DIM * GPU_DISPLAY_CURSOR_DIM]; /* ARGB */
} __attribute__((packed));

struct gpu_display_scanout_msg {
	uint32_t scanout_id, width, height;
} __attribute__((packed));

/* UPDATE and DMABUF_UPDATE; UPDATE is followed by width * height XRGB pixels. */
struct gpu_display_update {
	uint32_t scanout_id, x, y, width, height;
} __attribute__((packed));

struct gpu_display_dmabuf_scanout {
	uint32_t scanout_id, x, y, width, height;
	uint32_t fd_width, fd_height, fd_stride, fd_flags;
	int32_t fd_drm_fourcc;
} __attribute__((packed));

/*
 * The table entry for a display protocol message (payload size, and its
 * reply's when the front-end answers it), or NULL outside the table.
 */
const struct vhost_user_msg_info *vhost_user_gpu_msg_info(uint32_t request);

#endif
