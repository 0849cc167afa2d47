/* Checker smoke requests per device type: blk write+read, net echo, fs FUSE_INIT, gpu display info.
 */
#include <errno.h>
#include <linux/virtio_ids.h>
#include <linux/fuse.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_gpu.h>
#include <linux/virtio_net.h>
#include <string.h>

#include "tools/check/check.h"

#define HDR_GPA CHECK_DATA_GPA
#define STATUS_GPA (CHECK_DATA_GPA + 0x100)
#define BUF_GPA (CHECK_DATA_GPA + 0x1000)
#define REPLY_GPA (CHECK_DATA_GPA + 0x10000)
#define RX_GPA (CHECK_DATA_GPA + 0x20000)
#define IO_BYTES 4096u
#define NET_HDR_LEN sizeof(struct virtio_net_hdr_mrg_rxbuf)
#define FRAME_LEN 98u

static void *gpa(struct checker *c, uint64_t addr, uint64_t len)
{
	return guest_memory_ptr(&c->mem, addr, len);
}

/* Waits for vq's next used entry, serving the display socket meanwhile (a GPU asks it). */
static int wait_used(struct checker *c, struct test_vq *vq, int timeout_ms, uint32_t *id,
		     uint32_t *len)
{
	const int slice_ms = 10;
	int err = -ETIMEDOUT;

	if (!c->display_on || gpu_display_fd(&c->display) < 0)
		return test_vq_wait_used(vq, timeout_ms, id, len);
	for (int waited = 0; waited < timeout_ms && err == -ETIMEDOUT; waited += slice_ms) {
		int served = gpu_display_serve(&c->display, slice_ms, NULL, NULL);

		if (served && served != -ETIMEDOUT) {
			check_row(c, "display socket", CHECK_FAIL,
				  "vhost-user-gpu display protocol",
				  "the display channel failed: %s", strerror(-served));
			return test_vq_wait_used(vq, timeout_ms - waited, id, len);
		}
		err = test_vq_wait_used(vq, 0, id, len);
	}
	return err;
}

/* Publishes a chain on vq, kicks, waits for its used entry. */
static int round_trip(struct checker *c, struct test_vq *vq, const struct vq_buf *bufs, unsigned n,
		      int timeout_ms)
{
	uint32_t id, len;
	int head = test_vq_add(vq, bufs, n);
	int err;

	if (head < 0)
		return head;
	test_vq_kick(vq);
	err = wait_used(c, vq, timeout_ms, &id, &len);
	if (err)
		return err;
	return (int)id == head ? 0 : -EPROTO;
}

static int blk_io(struct checker *c, uint32_t type, uint64_t sector, uint8_t *status)
{
	struct virtio_blk_outhdr *hdr = gpa(c, HDR_GPA, sizeof(*hdr));
	const struct vq_buf bufs[] = {{HDR_GPA, sizeof(*hdr), false},
				      {BUF_GPA, IO_BYTES, type == VIRTIO_BLK_T_IN},
				      {STATUS_GPA, 1, true}};

	*hdr = (struct virtio_blk_outhdr){.type = type, .sector = sector};
	*status = 0xff;
	return round_trip(c, &c->vqs[0], bufs, 3, CHECK_IO_TIMEOUT_MS);
}

static void smoke_blk(struct checker *c, const char *name)
{
	uint8_t *buf = gpa(c, BUF_GPA, IO_BYTES), *status = gpa(c, STATUS_GPA, 1);
	uint8_t want[IO_BYTES];
	unsigned i;
	int err;

	for (i = 0; i < IO_BYTES; i++)
		want[i] = (uint8_t)(i * 13 + c->vqs[0].avail_idx);
	memcpy(buf, want, IO_BYTES);
	err = blk_io(c, VIRTIO_BLK_T_OUT, 8, status);
	if (!err && *status == VIRTIO_BLK_S_OK) {
		memset(buf, 0, IO_BYTES);
		err = blk_io(c, VIRTIO_BLK_T_IN, 8, status);
	}
	if (err || *status != VIRTIO_BLK_S_OK || memcmp(buf, want, IO_BYTES))
		check_row(c, name, CHECK_FAIL, "virtio spec 5.2 (block device)",
			  "write+read 4 KiB at sector 8: %s, status %u%s",
			  err ? strerror(-err) : "completed", *status,
			  !err && *status == 0 ? ", data differs" : "");
	else
		check_row(c, name, CHECK_PASS, "virtio spec 5.2 (block device)",
			  "wrote and read back 4 KiB at sector 8");
}

static void smoke_fs(struct checker *c, const char *name)
{
	struct fuse_in_header *in = gpa(c, HDR_GPA, sizeof(*in) + 16);
	struct fuse_out_header *out = gpa(c, REPLY_GPA, 4096);
	struct fuse_init_in init = {.major = FUSE_KERNEL_VERSION, .minor = 31};
	const struct vq_buf bufs[] = {{HDR_GPA, sizeof(*in) + 16, false}, {REPLY_GPA, 4096, true}};
	struct fuse_init_out *reply = (struct fuse_init_out *)(out + 1);
	int err;

	*in = (struct fuse_in_header){.len = sizeof(*in) + 16, .opcode = FUSE_INIT, .unique = 2};
	memcpy(in + 1, &init, 16); /* minor 31: the 16-byte fuse_init_in */
	memset(out, 0, 4096);
	err = round_trip(c, &c->vqs[1], bufs, 2, CHECK_IO_TIMEOUT_MS);
	if (err || out->error || out->unique != 2 || reply->major != FUSE_KERNEL_VERSION)
		check_row(c, name, CHECK_FAIL, "virtio spec 5.11 (file system device)",
			  "FUSE_INIT on the request queue: %s, error %d",
			  err ? strerror(-err) : "completed", out->error);
	else
		check_row(c, name, CHECK_PASS, "virtio spec 5.11 (file system device)",
			  "FUSE_INIT answered, protocol %u.%u", reply->major, reply->minor);
}

static void smoke_gpu(struct checker *c, const char *name)
{
	struct virtio_gpu_ctrl_hdr *req = gpa(c, HDR_GPA, sizeof(*req));
	struct virtio_gpu_resp_display_info *resp = gpa(c, REPLY_GPA, sizeof(*resp));
	const struct vq_buf bufs[] = {{HDR_GPA, sizeof(*req), false},
				      {REPLY_GPA, sizeof(*resp), true}};
	int err;

	*req = (struct virtio_gpu_ctrl_hdr){.type = VIRTIO_GPU_CMD_GET_DISPLAY_INFO};
	memset(resp, 0, sizeof(*resp));
	err = round_trip(c, &c->vqs[0], bufs, 2, CHECK_IO_TIMEOUT_MS);
	check_row(c, name,
		  !err && resp->hdr.type == VIRTIO_GPU_RESP_OK_DISPLAY_INFO ? CHECK_PASS
									    : CHECK_FAIL,
		  "virtio spec 5.7 (GPU device)",
		  "GET_DISPLAY_INFO: %s, response type 0x%x, scanout 0 %ux%u %s",
		  err ? strerror(-err) : "completed", resp->hdr.type, resp->pmodes[0].r.width,
		  resp->pmodes[0].r.height, resp->pmodes[0].enabled ? "enabled" : "disabled");
}

void check_display_attach(struct checker *c)
{
	int err;

	if (c->type->id != VIRTIO_ID_GPU)
		return;
	err = gpu_display_init(&c->display, "check0", NULL);
	if (!err) {
		check_capture_begin(c);
		err = gpu_display_attach(&c->display, &c->fe, c->fe.timeout_ms);
		check_capture_end(c);
	}
	c->display_on = !err;
	if (err)
		check_row(c, "display socket (GPU_SET_SOCKET)", CHECK_FAIL,
			  "vhost-user-gpu display protocol", "%s",
			  c->last_log[0] ? c->last_log : strerror(-err));
	else
		check_row(c, "display socket (GPU_SET_SOCKET)", CHECK_PASS,
			  "vhost-user-gpu display protocol",
			  "socket handed over; back-end set display protocol features 0x%llx%s",
			  (unsigned long long)c->display.protocol_features,
			  c->display.features_set ? "" : " (none asked)");
}

void check_display_close(struct checker *c)
{
	if (c->display_on)
		gpu_display_close(&c->display);
	c->display_on = false;
}

/* Sends a frame on tx; a reflecting back-end (testpmd io, OVS in_port) returns it on rx. */
static void smoke_net(struct checker *c, const char *name)
{
	uint8_t *tx = gpa(c, BUF_GPA, NET_HDR_LEN + FRAME_LEN);
	const struct vq_buf txb = {BUF_GPA, NET_HDR_LEN + FRAME_LEN, false};
	const struct vq_buf rxb = {RX_GPA, 2048, true};
	uint32_t id, len;
	int err;

	memset(tx, 0, NET_HDR_LEN);
	memset(tx + NET_HDR_LEN, 0xff, 6);
	memcpy(tx + NET_HDR_LEN + 6, "\x52\x54\x00\x12\x34\x56\x88\xb5", 8);
	memset(tx + NET_HDR_LEN + 14, 0x5a, FRAME_LEN - 14);
	test_vq_add(&c->vqs[0], &rxb, 1);
	test_vq_kick(&c->vqs[0]);
	err = round_trip(c, &c->vqs[1], &txb, 1, CHECK_IO_TIMEOUT_MS);
	if (err) {
		check_row(c, name, CHECK_FAIL, "virtio spec 5.1 (network device)",
			  "tx buffer not returned: %s", strerror(-err));
		return;
	}
	err = test_vq_wait_used(&c->vqs[0], 8000, &id, &len);
	if (err)
		check_row(c, name, CHECK_WARN, "virtio spec 5.1 (network device)",
			  "tx completed; no frame came back (back-end does not reflect?)");
	else
		check_row(
		    c, name,
		    len == NET_HDR_LEN + FRAME_LEN &&
			    !memcmp(gpa(c, RX_GPA, len) + NET_HDR_LEN, tx + NET_HDR_LEN, FRAME_LEN)
			? CHECK_PASS
			: CHECK_FAIL,
		    "virtio spec 5.1 (network device)", "frame echoed: %u bytes", len);
}

void check_smoke(struct checker *c, const char *when)
{
	char name[40];

	snprintf(name, sizeof(name), "smoke request %s", when);
	switch (c->type->id) {
	case 1:
		smoke_net(c, name);
		break;
	case 2:
		smoke_blk(c, name);
		break;
	case 16:
		smoke_gpu(c, name);
		break;
	case 26:
		smoke_fs(c, name);
		break;
	default:
		check_row(c, name, CHECK_SKIP, "-", "no smoke request for type %s", c->type->name);
	}
}
