/*
 * A view-only VNC server (LibVNCServer) showing one GPU scanout to a
 * developer at a desk.
 *
 * Threads: LibVNCServer runs entirely on a thread of its own (accepting,
 * reading clients, encoding and sending). The display thread only copies
 * what changed into a shadow buffer under a short lock and returns: a slow
 * or hostile client can stall the VNC thread, never the display thread or
 * a vCPU. The VNC thread copies the shadow into the framebuffer that
 * LibVNCServer reads, which no other thread touches, so a scanout that is
 * resized or freed cannot be read after it is gone.
 */
#ifndef VHOST_USER_GPU_VNC_H
#define VHOST_USER_GPU_VNC_H

#include <netinet/in.h>
#include <stdint.h>

struct gpu_vnc;

/* Where to listen: an IPv4 address and a TCP port (port 0: no server). */
struct gpu_vnc_addr {
	struct in_addr host;
	uint16_t port;
};

/*
 * Parses "HOST:PORT" (HOST a dotted IPv4 address) or a bare "PORT"
 * (meaning 127.0.0.1), PORT in 1..65535. Returns 0 or -EINVAL.
 */
int gpu_vnc_parse_addr(const char *text, struct gpu_vnc_addr *addr);

/*
 * Starts a server named name (the device, "gpu0") on addr showing a black
 * width x height screen, and the thread that serves it. The first call also
 * routes LibVNCServer's process-wide log hooks to vmm/log.h (debug level);
 * make it before any other thread uses LibVNCServer. Returns 0 and *out,
 * -EINVAL (bad size or port 0), -ENOMEM, or -errno when the port cannot be
 * bound (logged with the address).
 */
int gpu_vnc_start(struct gpu_vnc **out, const char *name, const struct gpu_vnc_addr *addr,
		  uint32_t width, uint32_t height);

/* The port listened on. */
uint16_t gpu_vnc_port(const struct gpu_vnc *v);

/*
 * Display thread. The scanout now has this size (1..GPU_DISPLAY_MAX_DIM)
 * and is black; clients are sent the new size. Never blocks on a client;
 * if memory runs out the view keeps its old picture (logged).
 */
void gpu_vnc_resize(struct gpu_vnc *v, uint32_t width, uint32_t height);

/* Display thread. Shows black, keeping the size (the scanout went away). */
void gpu_vnc_blank(struct gpu_vnc *v);

/*
 * Display thread. Rectangle w x h at x,y of pixels (XRGB8888, rows of
 * src_width pixels, the scanout's buffer) changed: copies it into the
 * shadow. Rectangles outside the view's current size are clipped.
 */
void gpu_vnc_update(struct gpu_vnc *v, const uint32_t *pixels, uint32_t src_width, uint32_t x,
		    uint32_t y, uint32_t w, uint32_t h);

/*
 * Disconnects every client, stops the thread and frees v. Waits a few
 * seconds at most: a thread stuck on a client is detached and frees its
 * own state when it finishes. v may be NULL.
 */
void gpu_vnc_stop(struct gpu_vnc *v);

#endif
