/* Unit tests for the vhost-user-gpu display channel: replies, framebuffer updates, refusals. */
#include <check.h>
#include <errno.h>
#include <linux/virtio_gpu.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/lib/fds.h"
#include "tests/unit/check_main.h"
#include "vhost_user/display/display.h"

struct fixture {
	struct gpu_display d;
	int peer; /* plays the back-end */
};

static void setup(struct fixture *f, uint32_t w, uint32_t h)
{
	const struct gpu_display_config cfg = {.num_scanouts = 1, .width = w, .height = h};

	ck_assert_int_eq(gpu_display_init(&f->d, "gpu0", &cfg), 0);
	ck_assert_int_eq(gpu_display_open_socket(&f->d, &f->peer), 0);
}

static void teardown(struct fixture *f)
{
	gpu_display_close(&f->d);
	close(f->peer);
}

static void send_msg_fd(struct fixture *f, uint32_t request, uint32_t flags, const void *payload,
			uint32_t size, int fd)
{
	struct gpu_display_msg_header hdr = {.request = request, .flags = flags, .size = size};
	size_t len = sizeof(hdr) + size;
	uint8_t *buf = malloc(len);
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} control;
	struct iovec iov = {.iov_base = buf, .iov_len = len};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};

	memcpy(buf, &hdr, sizeof(hdr));
	if (size)
		memcpy(buf + sizeof(hdr), payload, size);
	if (fd >= 0) {
		mh.msg_control = control.buf;
		mh.msg_controllen = sizeof(control.buf);
		CMSG_FIRSTHDR(&mh)->cmsg_level = SOL_SOCKET;
		CMSG_FIRSTHDR(&mh)->cmsg_type = SCM_RIGHTS;
		CMSG_FIRSTHDR(&mh)->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(CMSG_FIRSTHDR(&mh)), &fd, sizeof(int));
	}
	ck_assert_int_eq(sendmsg(f->peer, &mh, 0), (ssize_t)len);
	free(buf);
	ck_assert_int_eq(gpu_display_handle_readable(&f->d), 0);
}

static void send_msg(struct fixture *f, uint32_t request, const void *payload, uint32_t size)
{
	send_msg_fd(f, request, 0, payload, size, -1);
}

/* Reads one reply of exactly size payload bytes into payload. */
static void read_reply(struct fixture *f, uint32_t request, void *payload, uint32_t size)
{
	struct gpu_display_msg_header hdr;

	ck_assert_int_eq(recv(f->peer, &hdr, sizeof(hdr), MSG_DONTWAIT), sizeof(hdr));
	ck_assert_uint_eq(hdr.request, request);
	ck_assert_uint_eq(hdr.flags, GPU_DISPLAY_FLAG_REPLY);
	ck_assert_uint_eq(hdr.size, size);
	if (size)
		ck_assert_int_eq(recv(f->peer, payload, size, MSG_WAITALL), (ssize_t)size);
}

static void scanout(struct fixture *f, uint32_t id, uint32_t w, uint32_t h)
{
	struct gpu_display_scanout_msg m = {.scanout_id = id, .width = w, .height = h};

	send_msg(f, GPU_DISPLAY_SCANOUT, &m, sizeof(m));
}

/* An UPDATE whose pixels are value + index; extra bytes make the size lie. */
static void update(struct fixture *f, uint32_t id, uint32_t x, uint32_t y, uint32_t w, uint32_t h,
		   uint32_t pixels, uint32_t value)
{
	struct gpu_display_update u = {.scanout_id = id, .x = x, .y = y, .width = w, .height = h};
	size_t size = sizeof(u) + (size_t)pixels * 4;
	uint8_t *buf = malloc(size);
	uint32_t i;

	memcpy(buf, &u, sizeof(u));
	for (i = 0; i < pixels; i++) {
		uint32_t px = value + i;

		memcpy(buf + sizeof(u) + i * 4, &px, 4);
	}
	send_msg(f, GPU_DISPLAY_UPDATE, buf, (uint32_t)size);
	free(buf);
}

START_TEST(init_rejects_bad_config)
{
	struct gpu_display d;
	struct gpu_display_config cfg = {.num_scanouts = 0, .width = 1024, .height = 768};

	ck_assert_int_eq(gpu_display_init(&d, "gpu0", &cfg), -EINVAL);
	cfg.num_scanouts = GPU_DISPLAY_MAX_SCANOUTS + 1;
	ck_assert_int_eq(gpu_display_init(&d, "gpu0", &cfg), -EINVAL);
	cfg.num_scanouts = 1;
	cfg.width = 8;
	ck_assert_int_eq(gpu_display_init(&d, "gpu0", &cfg), -EINVAL);
	cfg.width = 5000;
	ck_assert_int_eq(gpu_display_init(&d, "gpu0", &cfg), -EINVAL);
	ck_assert_int_eq(gpu_display_init(&d, "gpu0", NULL), 0);
	ck_assert_uint_eq(d.config.width, 1024);
}
END_TEST

START_TEST(features_and_display_info)
{
	struct fixture f;
	struct virtio_gpu_resp_display_info info;
	uint64_t u64 = 0;

	setup(&f, 800, 600);
	send_msg(&f, GPU_DISPLAY_GET_PROTOCOL_FEATURES, NULL, 0);
	read_reply(&f, GPU_DISPLAY_GET_PROTOCOL_FEATURES, &u64, sizeof(u64));
	ck_assert_uint_eq(u64, 1u << GPU_DISPLAY_PROTOCOL_F_EDID);
	u64 = 1u << GPU_DISPLAY_PROTOCOL_F_EDID;
	send_msg(&f, GPU_DISPLAY_SET_PROTOCOL_FEATURES, &u64, sizeof(u64));
	ck_assert(f.d.features_set);
	ck_assert_uint_eq(f.d.protocol_features, u64);
	send_msg(&f, GPU_DISPLAY_GET_DISPLAY_INFO, NULL, 0);
	read_reply(&f, GPU_DISPLAY_GET_DISPLAY_INFO, &info, sizeof(info));
	ck_assert_uint_eq(info.hdr.type, VIRTIO_GPU_RESP_OK_DISPLAY_INFO);
	ck_assert_uint_eq(info.pmodes[0].r.width, 800);
	ck_assert_uint_eq(info.pmodes[0].r.height, 600);
	ck_assert_uint_eq(info.pmodes[0].enabled, 1);
	ck_assert_uint_eq(info.pmodes[1].enabled, 0);
	/* A feature we never offered is refused but remembered as "set". */
	u64 = 1u << GPU_DISPLAY_PROTOCOL_F_DMABUF2;
	send_msg(&f, GPU_DISPLAY_SET_PROTOCOL_FEATURES, &u64, sizeof(u64));
	ck_assert_uint_eq(f.d.protocol_features, 0);
	ck_assert_uint_eq(f.d.stats.refused, 1);
	teardown(&f);
}
END_TEST

START_TEST(edid_is_valid)
{
	struct fixture f;
	struct virtio_gpu_resp_edid resp;
	uint32_t id = 0;
	unsigned i, sum = 0;
	const uint8_t *e = resp.edid, *dtd = resp.edid + 54;

	setup(&f, 1280, 720);
	send_msg(&f, GPU_DISPLAY_GET_EDID, &id, sizeof(id));
	read_reply(&f, GPU_DISPLAY_GET_EDID, &resp, sizeof(resp));
	ck_assert_uint_eq(resp.hdr.type, VIRTIO_GPU_RESP_OK_EDID);
	ck_assert_uint_eq(resp.size, 128);
	ck_assert_mem_eq(e, "\x00\xff\xff\xff\xff\xff\xff\x00", 8);
	for (i = 0; i < 128; i++)
		sum += e[i];
	ck_assert_uint_eq(sum % 256, 0);
	ck_assert_uint_eq(e[18], 1);
	ck_assert_uint_eq(e[19], 4);
	ck_assert_uint_eq(dtd[2] | (dtd[4] >> 4) << 8, 1280);
	ck_assert_uint_eq(dtd[5] | (dtd[7] >> 4) << 8, 720);
	ck_assert_uint_ne(dtd[0] | dtd[1] << 8, 0); /* a pixel clock */
	id = 3;
	send_msg(&f, GPU_DISPLAY_GET_EDID, &id, sizeof(id));
	read_reply(&f, GPU_DISPLAY_GET_EDID, &resp, sizeof(resp));
	ck_assert_uint_eq(resp.hdr.type, VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID);
	teardown(&f);
}
END_TEST

START_TEST(scanout_and_updates)
{
	struct fixture f;
	const struct gpu_scanout *s;

	setup(&f, 1024, 768);
	s = gpu_display_scanout(&f.d, 0);
	scanout(&f, 0, 8, 4);
	ck_assert_uint_eq(s->width, 8);
	ck_assert_uint_eq(s->height, 4);
	update(&f, 0, 0, 0, 8, 4, 32, 0x100);
	ck_assert_uint_eq(s->pixels[0], 0x100);
	ck_assert_uint_eq(s->pixels[31], 0x100 + 31);
	update(&f, 0, 2, 1, 3, 2, 6, 0x5000);
	ck_assert_uint_eq(s->pixels[1 * 8 + 2], 0x5000);
	ck_assert_uint_eq(s->pixels[1 * 8 + 4], 0x5002);
	ck_assert_uint_eq(s->pixels[2 * 8 + 2], 0x5003);
	ck_assert_uint_eq(s->pixels[1 * 8 + 5], 0x100 + 13); /* outside the rectangle */
	ck_assert_uint_eq(s->updates, 2);
	ck_assert_uint_eq(f.d.stats.refused, 0);
	scanout(&f, 0, 0, 0);
	ck_assert_ptr_null(s->pixels);
	teardown(&f);
}
END_TEST

START_TEST(bad_messages_are_refused_and_skipped)
{
	struct fixture f;
	const struct gpu_scanout *s;
	uint8_t junk[100] = {0};
	struct gpu_display_cursor_update cu = {.hot_x = 64};
	int fds_before;
	int spare;

	setup(&f, 1024, 768);
	s = gpu_display_scanout(&f.d, 0);
	update(&f, 0, 0, 0, 1, 1, 1, 7); /* before any scanout */
	scanout(&f, 1, 8, 4);		 /* no scanout 1 */
	scanout(&f, 0, 20000, 20000);	 /* too large */
	ck_assert_ptr_null(s->pixels);
	scanout(&f, 0, 8, 4);
	update(&f, 0, 0xfffffff0u, 0, 0x20, 1, 0x20, 7); /* x + width wraps */
	update(&f, 0, 6, 0, 3, 1, 3, 7);		 /* sticks out on the right */
	update(&f, 0, 0, 3, 1, 2, 2, 7);		 /* sticks out at the bottom */
	update(&f, 0, 0, 0, 2, 2, 3, 7);		 /* size says 3 pixels, rect 4 */
	update(&f, 5, 0, 0, 1, 1, 1, 7);		 /* scanout id out of range */
	send_msg(&f, 99, junk, sizeof(junk));		 /* unknown request */
	send_msg(&f, GPU_DISPLAY_SCANOUT, junk, 11);	 /* short payload */
	send_msg_fd(&f, GPU_DISPLAY_CURSOR_POS, GPU_DISPLAY_FLAG_REPLY, junk, 12, -1);
	send_msg(&f, GPU_DISPLAY_CURSOR_UPDATE, &cu, sizeof(cu)); /* hot spot outside */
	ck_assert_uint_eq(f.d.stats.refused, 12);
	ck_assert(!s->cursor_defined);
	/* A descriptor on a message that carries none is closed, and the message refused. */
	fds_before = test_open_fds();
	spare = dup(0);
	send_msg_fd(&f, GPU_DISPLAY_SCANOUT, 0, &(struct gpu_display_scanout_msg){0, 4, 4},
		    sizeof(struct gpu_display_scanout_msg), spare);
	close(spare);
	ck_assert_int_eq(test_open_fds(), fds_before);
	ck_assert_uint_eq(s->width, 8);
	ck_assert_uint_eq(f.d.stats.refused, 13);
	/* Framing survived all of it. */
	update(&f, 0, 7, 3, 1, 1, 1, 0xabcdef);
	ck_assert_uint_eq(s->pixels[3 * 8 + 7], 0xabcdef);
	ck_assert_uint_eq(s->pixels[0], 0);
	ck_assert_int_ge(gpu_display_fd(&f.d), 0);
	teardown(&f);
}
END_TEST

START_TEST(dmabuf_placeholder_and_ack)
{
	struct fixture f;
	struct gpu_display_dmabuf_scanout m = {.scanout_id = 0, .width = 8, .height = 4};
	struct gpu_display_update u = {.scanout_id = 0, .width = 8, .height = 4};
	int fds_before = test_open_fds();
	int spare;

	setup(&f, 1024, 768);
	scanout(&f, 0, 8, 4);
	spare = dup(0);
	send_msg_fd(&f, GPU_DISPLAY_DMABUF_SCANOUT, 0, &m, sizeof(m), spare);
	close(spare);
	ck_assert(gpu_display_scanout(&f.d, 0)->dmabuf);
	ck_assert_int_eq(gpu_display_screenshot(&f.d, 0, "/nonexistent/x.png"), -ENODATA);
	send_msg(&f, GPU_DISPLAY_DMABUF_UPDATE, &u, sizeof(u));
	read_reply(&f, GPU_DISPLAY_DMABUF_UPDATE, NULL, 0);
	u.scanout_id = 9; /* still acknowledged, or the back-end would stall */
	send_msg(&f, GPU_DISPLAY_DMABUF_UPDATE, &u, sizeof(u));
	read_reply(&f, GPU_DISPLAY_DMABUF_UPDATE, NULL, 0);
	send_msg(&f, GPU_DISPLAY_DMABUF_SCANOUT, &m, sizeof(m)); /* no fd: disable */
	ck_assert(!gpu_display_scanout(&f.d, 0)->dmabuf);
	teardown(&f);
	ck_assert_int_eq(test_open_fds(), fds_before + 0);
}
END_TEST

START_TEST(byte_by_byte_and_hang_up)
{
	struct fixture f;
	struct {
		struct gpu_display_msg_header h;
		struct gpu_display_update u;
		uint32_t px[2];
	} __attribute__((packed))
	msg = {{GPU_DISPLAY_UPDATE, 0, sizeof(msg.u) + 8}, {0, 1, 0, 2, 1}, {0x11, 0x22}};
	const uint8_t *p = (const uint8_t *)&msg;
	size_t i;

	setup(&f, 1024, 768);
	scanout(&f, 0, 4, 1);
	for (i = 0; i < sizeof(msg); i++) {
		ck_assert_int_eq(write(f.peer, p + i, 1), 1);
		ck_assert_int_eq(gpu_display_handle_readable(&f.d), 0);
	}
	ck_assert_uint_eq(gpu_display_scanout(&f.d, 0)->pixels[1], 0x11);
	ck_assert_uint_eq(gpu_display_scanout(&f.d, 0)->pixels[2], 0x22);
	close(f.peer);
	ck_assert_int_eq(gpu_display_handle_readable(&f.d), -ECONNRESET);
	ck_assert_int_eq(gpu_display_fd(&f.d), -1);
	gpu_display_close(&f.d);
}
END_TEST

START_TEST(screenshot_writes_png)
{
	struct fixture f;
	char dir[] = "/tmp/test_gpu_display_XXXXXX", path[64];
	uint8_t head[24];
	FILE *file;

	/* A fresh name: screenshots never replace a file (see png_write_xrgb). */
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/shot.png", dir);
	setup(&f, 1024, 768);
	ck_assert_int_eq(gpu_display_screenshot(&f.d, 0, path), -ENODATA);
	scanout(&f, 0, 300, 200);
	update(&f, 0, 0, 0, 2, 1, 2, 0xff0000);
	ck_assert_int_eq(gpu_display_screenshot(&f.d, 0, path), 0);
	file = fopen(path, "rb");
	ck_assert_ptr_nonnull(file);
	ck_assert_uint_eq(fread(head, 1, sizeof(head), file), sizeof(head));
	fclose(file);
	ck_assert_int_eq(gpu_display_screenshot(&f.d, 0, path), -EEXIST);
	unlink(path);
	rmdir(dir);
	ck_assert_mem_eq(head, "\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR", 16);
	ck_assert_mem_eq(head + 16, "\0\0\x01\x2c\0\0\0\xc8", 8); /* 300 x 200 */
	teardown(&f);
}
END_TEST

static Suite *gpu_display_suite(void)
{
	Suite *s = suite_create("gpu_display");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, init_rejects_bad_config);
	tcase_add_test(tc, features_and_display_info);
	tcase_add_test(tc, edid_is_valid);
	tcase_add_test(tc, scanout_and_updates);
	tcase_add_test(tc, bad_messages_are_refused_and_skipped);
	tcase_add_test(tc, dmabuf_placeholder_and_ack);
	tcase_add_test(tc, byte_by_byte_and_hang_up);
	tcase_add_test(tc, screenshot_writes_png);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(gpu_display_suite)
