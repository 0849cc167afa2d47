/*
 * Drives QEMU's vhost-user-gpu back-end with no KVM: the test plays the
 * virtio-gpu driver on memfd guest memory (2D commands on the control
 * queue, a cursor command) while gpu_display serves the display socket,
 * then checks the framebuffer and writes a screenshot. Usage:
 *   gpu_test SOCKET SCREENSHOT.png [VNC_ADDR CLIENT_CMD AFTER.png]
 * With VNC_ADDR ("127.0.0.1:PORT") the display also feeds a gpu_vnc view;
 * once the pattern is on screen CLIENT_CMD (a shell command, the VNC
 * clients) runs, then the rectangle is drawn and flushed once more and a
 * second screenshot goes to AFTER.png: the display must be undisturbed.
 * Prints one "ok"/"not ok" line per check; exits 1 when any failed.
 */
#include <errno.h>
#include <inttypes.h>
#include <linux/virtio_config.h>
#include <linux/virtio_gpu.h>
#include <linux/virtio_ids.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/gpu/pattern.h"
#include "tests/lib/fake_vm.h"
#include "tests/lib/tap.h"
#include "tests/lib/vq_driver.h"
#include "vhost_user/frontend.h"
#include "vhost_user/display/display.h"
#include "vhost_user/display/vnc.h"
#include "vmm/memory.h"

#define DATA_GPA 0x1000000ull
#define CMD_GPA DATA_GPA
#define RESP_GPA (DATA_GPA + 0x1000)
#define BACKING_GPA (DATA_GPA + 0x100000)
#define BACKING_CHUNKS 4
#define BACKING_GAP 0x1000
#define RESOURCE_ID 7
#define TIMEOUT_MS 5000

struct gpu_test {
	struct test_tally tap;
	struct guest_memory mem;
	struct vhost_user_frontend fe;
	struct gpu_display display;
	struct test_vq vqs[2];
	struct gpu_vnc *vnc; /* NULL without VNC_ADDR */
};

/* Waits for the next used entry while serving the display channel the back-end may block on. */
static int wait_used_serving(struct gpu_test *t, struct test_vq *vq)
{
	uint32_t id, len;
	int waited;

	for (waited = 0; waited < TIMEOUT_MS; waited += 5) {
		if (gpu_display_fd(&t->display) >= 0)
			gpu_display_handle_readable(&t->display);
		if (test_vq_wait_used(vq, 5, &id, &len) == 0) {
			/* The back-end finished its display messages before completing the command.
			 */
			if (gpu_display_fd(&t->display) >= 0)
				gpu_display_handle_readable(&t->display);
			return 0;
		}
	}
	return -ETIMEDOUT;
}

/* Sends one command (plus optional trailing data) and returns the response header type. */
static uint32_t ctrl_cmd(struct gpu_test *t, const void *cmd, size_t cmd_len, const void *extra,
			 size_t extra_len, void *resp, size_t resp_len)
{
	struct vq_buf bufs[3];
	unsigned n = 0;
	struct virtio_gpu_ctrl_hdr hdr;

	guest_memory_write(&t->mem, CMD_GPA, cmd, cmd_len);
	bufs[n++] = (struct vq_buf){.gpa = CMD_GPA, .len = (uint32_t)cmd_len};
	if (extra_len) {
		guest_memory_write(&t->mem, CMD_GPA + 0x800, extra, extra_len);
		bufs[n++] = (struct vq_buf){.gpa = CMD_GPA + 0x800, .len = (uint32_t)extra_len};
	}
	memset(guest_memory_ptr(&t->mem, RESP_GPA, resp_len), 0, resp_len);
	bufs[n++] =
	    (struct vq_buf){.gpa = RESP_GPA, .len = (uint32_t)resp_len, .device_writes = true};
	if (test_vq_add(&t->vqs[0], bufs, n) < 0)
		return 0;
	test_vq_kick(&t->vqs[0]);
	if (wait_used_serving(t, &t->vqs[0]) < 0)
		return 0;
	guest_memory_read(&t->mem, RESP_GPA, resp, resp_len);
	memcpy(&hdr, resp, sizeof(hdr));
	return le32toh(hdr.type);
}

static uint32_t ctrl_simple(struct gpu_test *t, const void *cmd, size_t len)
{
	struct virtio_gpu_ctrl_hdr resp;

	return ctrl_cmd(t, cmd, len, NULL, 0, &resp, sizeof(resp));
}

static int setup(struct gpu_test *t, const char *sock)
{
	struct virtio_gpu_config config = {0};
	int err;

	err = test_guest_ram_split(&t->mem, DATA_GPA);
	test_check(&t->tap, err == 0, "guest memory");
	vhost_user_frontend_init(&t->fe, "gpu0", VIRTIO_ID_GPU);
	if (!err)
		err = vhost_user_frontend_connect(&t->fe, sock, 10000);
	if (!err)
		err = vhost_user_frontend_handshake(&t->fe);
	test_check(&t->tap, err == 0,
		   "connect + handshake (features 0x%" PRIx64 ", protocol 0x%" PRIx64 ")",
		   t->fe.backend_features, t->fe.protocol_features);
	if (!err)
		err = vhost_user_frontend_get_config(&t->fe, 0, &config, sizeof(config));
	/* num_scanouts is the frontend's to fill in (QEMU does); the back-end leaves it 0. */
	test_check(&t->tap, err == 0, "GET_CONFIG (16 bytes; back-end's num_scanouts %u)",
		   config.num_scanouts);
	if (!err)
		err = vhost_user_frontend_set_features(&t->fe, 1ull << VIRTIO_F_VERSION_1);
	if (!err)
		err = vhost_user_frontend_set_mem_table(&t->fe, &t->mem);
	test_check(&t->tap, err == 0, "SET_FEATURES + SET_MEM_TABLE");
	return err;
}

static int attach_display_and_start(struct gpu_test *t)
{
	const struct gpu_display_config cfg = {
	    .num_scanouts = 1, .width = PATTERN_W, .height = PATTERN_H};
	unsigned i;
	int err = gpu_display_init(&t->display, "gpu0", &cfg);

	if (!err && t->vnc)
		gpu_display_set_vnc(&t->display, t->vnc);
	if (!err)
		err = gpu_display_attach(&t->display, &t->fe, 2000);
	test_check(&t->tap,
		   err == 0 && t->display.stats.messages[GPU_DISPLAY_GET_PROTOCOL_FEATURES] == 1 &&
		       t->display.features_set,
		   "SET_SOCKET: back-end asked GET_PROTOCOL_FEATURES and set 0x%llx",
		   (unsigned long long)t->display.protocol_features);
	for (i = 0; i < 2 && !err; i++) {
		struct vhost_user_vring ring;

		err = test_vq_init(&t->vqs[i], &t->mem, 0x10000ull * (i + 1), 64);
		ring = test_vq_ring(&t->vqs[i], 0);
		if (!err)
			err = vhost_user_frontend_start_queue(&t->fe, i, &ring);
	}
	test_check(&t->tap, err == 0, "control and cursor queues started");
	return err;
}

static void check_display_info(struct gpu_test *t)
{
	struct virtio_gpu_ctrl_hdr cmd = {.type = htole32(VIRTIO_GPU_CMD_GET_DISPLAY_INFO)};
	struct virtio_gpu_resp_display_info info;
	uint32_t type = ctrl_cmd(t, &cmd, sizeof(cmd), NULL, 0, &info, sizeof(info));

	test_check(
	    &t->tap,
	    type == VIRTIO_GPU_RESP_OK_DISPLAY_INFO && le32toh(info.pmodes[0].enabled) == 1 &&
		le32toh(info.pmodes[0].r.width) == PATTERN_W &&
		le32toh(info.pmodes[0].r.height) == PATTERN_H &&
		t->display.stats.messages[GPU_DISPLAY_GET_DISPLAY_INFO] == 1,
	    "GET_DISPLAY_INFO answered through the display socket: %ux%u enabled=%u (type 0x%x)",
	    le32toh(info.pmodes[0].r.width), le32toh(info.pmodes[0].r.height),
	    le32toh(info.pmodes[0].enabled), type);
}

/* Fills the backing chunks with the base pattern, as the guest's framebuffer would. */
static void fill_backing(struct gpu_test *t, bool with_rect)
{
	uint32_t x, y;

	for (y = 0; y < PATTERN_H; y++) {
		for (x = 0; x < PATTERN_W; x++) {
			uint64_t off = ((uint64_t)y * PATTERN_W + x) * 4;
			uint64_t chunk = off / PATTERN_CHUNK;
			uint64_t gpa = BACKING_GPA + chunk * (PATTERN_CHUNK + BACKING_GAP) +
				       off % PATTERN_CHUNK;
			uint32_t px = with_rect ? pattern_final(x, y) : pattern_base(x, y);

			guest_memory_write(&t->mem, gpa, &px, 4); /* B, G, R, X in memory */
		}
	}
}

static void create_and_attach(struct gpu_test *t)
{
	struct virtio_gpu_resource_create_2d c2d = {
	    .hdr.type = htole32(VIRTIO_GPU_CMD_RESOURCE_CREATE_2D),
	    .resource_id = htole32(RESOURCE_ID),
	    .format = htole32(VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM),
	    .width = htole32(PATTERN_W),
	    .height = htole32(PATTERN_H)};
	struct virtio_gpu_resource_attach_backing ab = {
	    .hdr.type = htole32(VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING),
	    .resource_id = htole32(RESOURCE_ID),
	    .nr_entries = htole32(BACKING_CHUNKS)};
	struct virtio_gpu_mem_entry ents[BACKING_CHUNKS];
	struct virtio_gpu_ctrl_hdr resp;
	uint32_t type;
	unsigned i;

	type = ctrl_simple(t, &c2d, sizeof(c2d));
	test_check(&t->tap, type == VIRTIO_GPU_RESP_OK_NODATA,
		   "RESOURCE_CREATE_2D %ux%u B8G8R8X8 (0x%x)", PATTERN_W, PATTERN_H, type);
	fill_backing(t, false);
	for (i = 0; i < BACKING_CHUNKS; i++) {
		ents[i].addr = htole64(BACKING_GPA + i * (uint64_t)(PATTERN_CHUNK + BACKING_GAP));
		ents[i].length = htole32(PATTERN_CHUNK);
		ents[i].padding = 0;
	}
	type = ctrl_cmd(t, &ab, sizeof(ab), ents, sizeof(ents), &resp, sizeof(resp));
	test_check(&t->tap, type == VIRTIO_GPU_RESP_OK_NODATA,
		   "RESOURCE_ATTACH_BACKING: %u scattered chunks (0x%x)", BACKING_CHUNKS, type);
}

static void transfer_and_flush(struct gpu_test *t, uint32_t x, uint32_t y, uint32_t w, uint32_t h,
			       const char *what)
{
	struct virtio_gpu_transfer_to_host_2d t2d = {
	    .hdr.type = htole32(VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D),
	    .r = {.x = htole32(x), .y = htole32(y), .width = htole32(w), .height = htole32(h)},
	    .offset = htole64(((uint64_t)y * PATTERN_W + x) * 4),
	    .resource_id = htole32(RESOURCE_ID)};
	struct virtio_gpu_resource_flush rf = {.hdr.type = htole32(VIRTIO_GPU_CMD_RESOURCE_FLUSH),
					       .r = t2d.r,
					       .resource_id = htole32(RESOURCE_ID)};
	uint64_t updates = t->display.stats.messages[GPU_DISPLAY_UPDATE];
	uint32_t type1 = ctrl_simple(t, &t2d, sizeof(t2d));
	uint32_t type2 = ctrl_simple(t, &rf, sizeof(rf));

	test_check(&t->tap,
		   type1 == VIRTIO_GPU_RESP_OK_NODATA && type2 == VIRTIO_GPU_RESP_OK_NODATA,
		   "%s: TRANSFER_TO_HOST_2D + RESOURCE_FLUSH %ux%u+%u+%u (0x%x, 0x%x)", what, w, h,
		   x, y, type1, type2);
	test_check(&t->tap, t->display.stats.messages[GPU_DISPLAY_UPDATE] == updates + 1,
		   "%s: back-end sent one UPDATE on the display socket", what);
}

/* Compares the framebuffer with the expected picture; reports the first difference. */
static void check_framebuffer(struct gpu_test *t, bool with_rect, const char *what)
{
	const struct gpu_scanout *s = gpu_display_scanout(&t->display, 0);
	uint32_t x, y, bad = 0, first_x = 0, first_y = 0;

	for (y = 0; s->pixels && y < PATTERN_H; y++) {
		for (x = 0; x < PATTERN_W; x++) {
			uint32_t want = with_rect ? pattern_final(x, y) : pattern_base(x, y);

			if ((s->pixels[y * s->width + x] & 0xffffff) != (want & 0xffffff) &&
			    bad++ == 0) {
				first_x = x;
				first_y = y;
			}
		}
	}
	test_check(&t->tap, s->pixels && bad == 0,
		   "%s: framebuffer holds the pattern (%u bad pixels, first at %u,%u)", what, bad,
		   first_x, first_y);
}

static void run_scanout(struct gpu_test *t, const char *png)
{
	struct virtio_gpu_set_scanout ss = {
	    .hdr.type = htole32(VIRTIO_GPU_CMD_SET_SCANOUT),
	    .r = {.width = htole32(PATTERN_W), .height = htole32(PATTERN_H)},
	    .scanout_id = 0,
	    .resource_id = htole32(RESOURCE_ID)};
	const struct gpu_scanout *s = gpu_display_scanout(&t->display, 0);
	uint32_t type = ctrl_simple(t, &ss, sizeof(ss));
	int err;

	test_check(&t->tap,
		   type == VIRTIO_GPU_RESP_OK_NODATA &&
		       t->display.stats.messages[GPU_DISPLAY_SCANOUT] == 1 &&
		       s->width == PATTERN_W && s->height == PATTERN_H,
		   "SET_SCANOUT: display got SCANOUT %ux%u (0x%x)", s->width, s->height, type);
	transfer_and_flush(t, 0, 0, PATTERN_W, PATTERN_H, "full frame");
	check_framebuffer(t, false, "full frame");
	fill_backing(t, true);
	transfer_and_flush(t, RECT_X, RECT_Y, RECT_W, RECT_H, "rectangle");
	check_framebuffer(t, true, "rectangle");
	err = gpu_display_screenshot(&t->display, 0, png);
	test_check(&t->tap, err == 0, "screenshot to %s: %s", png, strerror(-err));
	test_check(&t->tap, gpu_display_screenshot(&t->display, 1, png) == -EINVAL,
		   "screenshot of a scanout that does not exist refused");
}

/* One cursor-queue command; returns once the back-end used it and its display message is in. */
static void cursor_cmd(struct gpu_test *t, uint32_t type, uint32_t resource, uint32_t x, uint32_t y,
		       uint32_t request)
{
	struct virtio_gpu_update_cursor uc = {.hdr.type = htole32(type),
					      .pos = {.x = htole32(x), .y = htole32(y)},
					      .resource_id = htole32(resource)};
	struct vq_buf buf = {.gpa = CMD_GPA + 0x2000, .len = sizeof(uc)};
	uint64_t before = t->display.stats.messages[request];
	int i;

	guest_memory_write(&t->mem, buf.gpa, &uc, sizeof(uc));
	test_vq_add(&t->vqs[1], &buf, 1);
	test_vq_kick(&t->vqs[1]);
	wait_used_serving(t, &t->vqs[1]);
	for (i = 0; i < 100 && t->display.stats.messages[request] == before; i++) {
		struct pollfd pfd = {.fd = gpu_display_fd(&t->display), .events = POLLIN};

		if (poll(&pfd, 1, 10) > 0)
			gpu_display_handle_readable(&t->display);
	}
}

static void run_cursor(struct gpu_test *t)
{
	const struct gpu_scanout *s = gpu_display_scanout(&t->display, 0);

	cursor_cmd(t, VIRTIO_GPU_CMD_MOVE_CURSOR, 0, 10, 20, GPU_DISPLAY_CURSOR_POS_HIDE);
	test_check(&t->tap,
		   t->display.stats.messages[GPU_DISPLAY_CURSOR_POS_HIDE] == 1 &&
		       s->cursor_x == 10 && s->cursor_y == 20 && !s->cursor_visible,
		   "MOVE_CURSOR without resource: CURSOR_POS_HIDE at %u,%u", s->cursor_x,
		   s->cursor_y);
	cursor_cmd(t, VIRTIO_GPU_CMD_MOVE_CURSOR, RESOURCE_ID, 30, 40, GPU_DISPLAY_CURSOR_POS);
	test_check(&t->tap,
		   t->display.stats.messages[GPU_DISPLAY_CURSOR_POS] == 1 && s->cursor_x == 30 &&
		       s->cursor_y == 40 && s->cursor_visible,
		   "MOVE_CURSOR: CURSOR_POS at %u,%u, visible", s->cursor_x, s->cursor_y);
	/* No 64x64 resource: the back-end complains and sends a blank shape, still well-formed. */
	cursor_cmd(t, VIRTIO_GPU_CMD_UPDATE_CURSOR, 0, 50, 60, GPU_DISPLAY_CURSOR_UPDATE);
	test_check(&t->tap,
		   t->display.stats.messages[GPU_DISPLAY_CURSOR_UPDATE] == 1 && s->cursor_defined &&
		       s->cursor_x == 50 && s->cursor_y == 60,
		   "UPDATE_CURSOR: CURSOR_UPDATE (64x64 shape) at %u,%u", s->cursor_x, s->cursor_y);
}

static int start_vnc(struct gpu_test *t, const char *text)
{
	struct gpu_vnc_addr addr;
	int err = gpu_vnc_parse_addr(text, &addr);

	if (!err)
		err = gpu_vnc_start(&t->vnc, "gpu0", &addr, PATTERN_W, PATTERN_H);
	test_check(&t->tap, err == 0, "VNC view listening on %s: %s", text, strerror(-err));
	return err;
}

/* The VNC clients run against the live view; afterwards the display must still work. */
static void run_vnc_clients(struct gpu_test *t, const char *cmd, const char *after_png)
{
	int status, err;

	fflush(stdout);
	status = system(cmd);
	test_check(&t->tap, status == 0, "VNC clients (%s) exited with status %d", cmd, status);
	transfer_and_flush(t, RECT_X, RECT_Y, RECT_W, RECT_H, "after the VNC clients");
	check_framebuffer(t, true, "after the VNC clients");
	err = gpu_display_screenshot(&t->display, 0, after_png);
	test_check(&t->tap, err == 0, "screenshot after the VNC clients to %s: %s", after_png,
		   strerror(-err));
}

int main(int argc, char **argv)
{
	static struct gpu_test t = {.tap.kind = "gpu"};
	uint16_t base;

	setvbuf(stdout, NULL, _IOLBF, 0);
	log_set_level(getenv("VU_DEBUG") ? LOG_DEBUG : LOG_WARN);
	if (argc != 3 && argc != 6) {
		fprintf(stderr, "usage: %s SOCKET SCREENSHOT.png [VNC_ADDR CLIENT_CMD AFTER.png]\n",
			argv[0]);
		return 2;
	}
	if ((argc == 3 || start_vnc(&t, argv[3]) == 0) && setup(&t, argv[1]) == 0 &&
	    attach_display_and_start(&t) == 0) {
		check_display_info(&t);
		create_and_attach(&t);
		run_scanout(&t, argv[2]);
		if (t.vnc)
			run_vnc_clients(&t, argv[4], argv[5]);
		run_cursor(&t);
		test_check(&t.tap, t.display.stats.refused == 0, "no display message refused");
		test_check(&t.tap, vhost_user_frontend_stop_queue(&t.fe, 0, &base) == 0,
			   "control queue stopped at %u", base);
	}
	vhost_user_frontend_close(&t.fe);
	gpu_display_close(&t.display);
	gpu_vnc_stop(t.vnc); /* after the display stopped feeding it */
	test_vq_destroy(&t.vqs[0]);
	test_vq_destroy(&t.vqs[1]);
	guest_memory_destroy(&t.mem);
	printf("# gpu: %u passed, %u failed\n", t.tap.passed, t.tap.failed);
	return t.tap.failed ? 1 : 0;
}
