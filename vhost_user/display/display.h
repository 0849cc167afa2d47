/*
 * The display side of a vhost-user GPU: serves the back-end's second
 * protocol (QEMU's vhost-user-gpu display protocol) on our end of the
 * socketpair handed over with VHOST_USER_GPU_SET_SOCKET, keeps one
 * framebuffer per scanout and turns it into a PNG on request.
 *
 * Which messages are answered: GET_PROTOCOL_FEATURES (u64),
 * GET_DISPLAY_INFO (virtio_gpu_resp_display_info), GET_EDID
 * (virtio_gpu_resp_edid) and DMABUF_UPDATE (an empty reply that unblocks
 * the back-end). SET_PROTOCOL_FEATURES, SCANOUT, UPDATE, the cursor
 * messages and DMABUF_SCANOUT get none.
 */
#ifndef VHOST_USER_GPU_DISPLAY_H
#define VHOST_USER_GPU_DISPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vhost_user/wire_gpu.h"
#include "vmm/log.h"

struct vhost_user_frontend;
struct gpu_vnc;

#define GPU_DISPLAY_MAX_SCANOUTS 16 /* VIRTIO_GPU_MAX_SCANOUTS */
#define GPU_DISPLAY_MAX_DIM 16384u
#define GPU_DISPLAY_MAX_FB_BYTES (256u << 20)
#define GPU_DISPLAY_EDID_SIZE 128u

struct gpu_display_config {
	unsigned num_scanouts; /* 1..GPU_DISPLAY_MAX_SCANOUTS; scanouts reported enabled */
	uint32_t width;	       /* preferred mode, for display info and EDID */
	uint32_t height;
};

struct gpu_scanout {
	uint32_t width, height; /* 0 while disabled */
	uint32_t *pixels;	/* width * height XRGB8888, rows packed */
	uint64_t updates;	/* UPDATE messages applied */
	bool dmabuf;		/* the back-end scans out a dmabuf we cannot read */
	struct gpu_display_dmabuf_scanout dmabuf_info;
	uint64_t dmabuf_updates;
	bool cursor_visible, cursor_defined;
	uint32_t cursor_x, cursor_y, cursor_hot_x, cursor_hot_y;
	uint32_t cursor[GPU_DISPLAY_CURSOR_DIM * GPU_DISPLAY_CURSOR_DIM];
};

/* Where a partly received message stands. */
enum gpu_display_rx_phase { RX_HEADER, RX_FIXED, RX_PIXELS, RX_DISCARD };

struct gpu_display_rx {
	enum gpu_display_rx_phase phase;
	struct gpu_display_msg_header hdr;
	size_t got;		       /* bytes of the current phase received */
	size_t want;		       /* bytes the current phase needs */
	uint64_t left;		       /* payload bytes of the message not yet read */
	bool refused;		       /* the message is being thrown away */
	struct vhost_user_fd_inbox in; /* descriptors that came with the message */
	union {
		struct gpu_display_cursor_update cursor_update;
		struct gpu_display_dmabuf_scanout dmabuf_scanout;
		struct gpu_display_update update;
		uint8_t bytes[sizeof(struct gpu_display_cursor_update)];
	} fixed;
};

struct gpu_display_stats {
	uint64_t messages[GPU_DISPLAY_REQUEST_MAX];
	uint64_t refused; /* messages rejected as invalid */
	uint64_t replies;
};

struct gpu_display {
	char name[32];
	char log_component[48];
	int fd; /* our end of the display socket, non-blocking; -1 when closed */
	struct gpu_display_config config;
	uint64_t protocol_features; /* what the back-end set */
	bool features_set;	    /* SET_PROTOCOL_FEATURES seen */
	struct gpu_display_rx rx;
	struct gpu_display_stats stats;
	struct log_ratelimit rl;
	struct gpu_scanout scanouts[GPU_DISPLAY_MAX_SCANOUTS];
	struct gpu_vnc *vnc; /* live view of scanout 0, or NULL; not owned */
};

/*
 * Prepares d named name ("gpu0") with cfg (NULL: one 1024x768 scanout).
 * No I/O. Returns 0 or -EINVAL (bad config: 0 or too many scanouts, a mode
 * outside 16..4095 or one whose pixel clock does not fit an EDID).
 */
int gpu_display_init(struct gpu_display *d, const char *name, const struct gpu_display_config *cfg);

/*
 * Creates the display socketpair: keeps one end (gpu_display_fd) and
 * returns the other in *backend_fd for VHOST_USER_GPU_SET_SOCKET; the
 * caller closes *backend_fd once sent. Resets the receive state; an older
 * socket is closed first. Returns 0 or -errno.
 */
int gpu_display_open_socket(struct gpu_display *d, int *backend_fd);

/*
 * Convenience for the device glue: opens the socket, sends SET_SOCKET on
 * fe and serves the display channel until the back-end has asked for and
 * set its protocol features (up to timeout_ms; a back-end that asks for
 * nothing is fine). Afterwards register gpu_display_fd with the event loop.
 */
int gpu_display_attach(struct gpu_display *d, struct vhost_user_frontend *fe, int timeout_ms);

/* The fd to watch for readability, or -1. */
int gpu_display_fd(const struct gpu_display *d);

/*
 * Reads what is available without blocking and serves every complete
 * message (a large UPDATE may take several calls). Invalid messages are
 * refused, counted and logged (rate-limited) without harm. Returns 0, or
 * -errno when the channel failed (peer hung up, framing broken, a reply
 * could not be sent): the socket is then closed and gpu_display_fd is -1.
 */
int gpu_display_handle_readable(struct gpu_display *d);

/*
 * Serves the channel for up to timeout_ms, returning early once done(d,
 * arg) holds (done may be NULL). For tests and synchronous set-up, not
 * for the event loop. Returns 0 when done held, -ETIMEDOUT, or an error of
 * gpu_display_handle_readable.
 */
int gpu_display_serve(struct gpu_display *d, int timeout_ms,
		      bool (*done)(const struct gpu_display *d, void *arg), void *arg);

/* Scanout i's state, or NULL when i is out of range. */
const struct gpu_scanout *gpu_display_scanout(const struct gpu_display *d, unsigned i);

/* A copy of one scanout's pixels, owned by whoever captured it. */
struct gpu_image {
	uint32_t width, height;
	uint32_t *pixels; /* width * height XRGB8888, rows packed; free with gpu_image_free */
};

/*
 * Copies scanout's framebuffer into img (cursor not drawn): a memcpy, so a
 * caller holding the lock that guards d holds it only for that, and encodes
 * the copy after letting go. Returns 0, -EINVAL (no such scanout), -ENODATA
 * (scanout disabled or showing a dmabuf we cannot read) or -ENOMEM.
 */
int gpu_display_capture(const struct gpu_display *d, unsigned scanout, struct gpu_image *img);

/* Writes a captured image to path as a new PNG: png_write_xrgb's rules and errors. */
int gpu_image_write_png(const struct gpu_image *img, const char *path);

void gpu_image_free(struct gpu_image *img);

/*
 * gpu_display_capture, then gpu_image_write_png: for callers that need no
 * lock around d. Returns 0 or an error of either.
 */
int gpu_display_screenshot(struct gpu_display *d, unsigned scanout, const char *path);

/*
 * Shows scanout 0 on vnc (gpu_vnc.h) from now on: its size, and every
 * SCANOUT, UPDATE and disable that follows, as they are served (NULL:
 * none). Not owned: stop vnc only once d calls it no more (set NULL, or d
 * closed for good). The caller serialises this with the display's other
 * calls. Survives gpu_display_close; gpu_display_init clears it.
 */
void gpu_display_set_vnc(struct gpu_display *d, struct gpu_vnc *vnc);

/* Closes the socket, frees every framebuffer (the VNC view goes black); d may be opened again. */
void gpu_display_close(struct gpu_display *d);

/* The 128-byte EDID 1.4 block we hand out for a width x height mode. */
void gpu_display_build_edid(uint8_t edid[GPU_DISPLAY_EDID_SIZE], uint32_t width, uint32_t height);

/* True when a mode can be described by gpu_display_build_edid. */
bool gpu_display_mode_valid(uint32_t width, uint32_t height);

#endif
