/* vhost-user-blk against a real back-end: capacity, write, read back, ring restart. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_ids.h>
#include <stdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/vhost_user/backend_test.h"

#define HDR_GPA DATA_GPA
#define STATUS_GPA (DATA_GPA + 0x100)
#define BUF_GPA (DATA_GPA + 0x1000)
#define IO_BYTES 4096u

/* One request: header, data, status byte. Returns the status or -errno. */
static int blk_request(struct test_ctx *t, struct test_vq *vq, uint32_t type, uint64_t sector)
{
	struct virtio_blk_outhdr *hdr = gpa_ptr(t, HDR_GPA, sizeof(*hdr));
	uint8_t *status = gpa_ptr(t, STATUS_GPA, 1);
	const struct vq_buf bufs[] = {
	    {HDR_GPA, sizeof(*hdr), false},
	    {BUF_GPA, IO_BYTES, type == VIRTIO_BLK_T_IN},
	    {STATUS_GPA, 1, true},
	};
	uint32_t id, len;
	int head, err;

	hdr->type = type;
	hdr->ioprio = 0;
	hdr->sector = sector;
	*status = 0xff;
	head = test_vq_add(vq, bufs, 3);
	test_vq_kick(vq);
	err = test_vq_wait_used(vq, REPLY_TIMEOUT_MS, &id, &len);
	if (err)
		return err;
	/* used.len differs between back-ends for the same request: not checked. */
	if ((int)id != head)
		return -EPROTO;
	return *status;
}

static void fill(uint8_t *buf, uint8_t seed)
{
	unsigned i;

	for (i = 0; i < IO_BYTES; i++)
		buf[i] = (uint8_t)(seed + i * 7 + (i >> 8));
}

/* Writes a pattern at sector, reads it back through the ring and from the image file. */
static void write_read(struct test_ctx *t, struct test_vq *vq, int image_fd, uint64_t sector,
		       uint8_t seed)
{
	uint8_t *buf = gpa_ptr(t, BUF_GPA, IO_BYTES);
	uint8_t want[IO_BYTES], on_disk[IO_BYTES];
	unsigned calls = vq->calls;
	int status;

	fill(want, seed);
	memcpy(buf, want, IO_BYTES);
	status = blk_request(t, vq, VIRTIO_BLK_T_OUT, sector);
	test_check(&t->tap, status == VIRTIO_BLK_S_OK,
		   "write %u bytes at sector %" PRIu64 " (status %d)", IO_BYTES, sector, status);
	test_check(&t->tap, test_vq_wait_call(vq, calls, REPLY_TIMEOUT_MS),
		   "back-end signalled the call eventfd");
	memset(buf, 0, IO_BYTES);
	status = blk_request(t, vq, VIRTIO_BLK_T_IN, sector);
	test_check(&t->tap, status == VIRTIO_BLK_S_OK && memcmp(buf, want, IO_BYTES) == 0,
		   "read back sector %" PRIu64 " matches (status %d)", sector, status);
	if (image_fd >= 0)
		test_check(&t->tap,
			   pread(image_fd, on_disk, IO_BYTES, (off_t)(sector * 512)) == IO_BYTES &&
			       memcmp(on_disk, want, IO_BYTES) == 0,
			   "image file holds the pattern at byte %" PRIu64, sector * 512);
}

static void check_capacity(struct test_ctx *t, uint64_t disk_bytes)
{
	uint64_t capacity = 0;
	int err = vhost_user_frontend_get_config(&t->fe, 0, &capacity, sizeof(capacity));

	test_check(&t->tap, err == 0 && capacity * 512 == disk_bytes,
		   "GET_CONFIG capacity %" PRIu64 " sectors = disk %" PRIu64 " bytes", capacity,
		   disk_bytes);
}

/* IMAGE is a file the back-end serves, or "ram:BYTES" for a RAM disk we cannot read. */
static int open_disk(struct test_ctx *t, const char *image, int *fd, uint64_t *bytes)
{
	struct stat st;

	*fd = -1;
	if (strncmp(image, "ram:", 4) == 0) {
		*bytes = strtoull(image + 4, NULL, 0);
		return 0;
	}
	*fd = open(image, O_RDONLY | O_CLOEXEC);
	test_check(&t->tap, *fd >= 0 && fstat(*fd, &st) == 0, "open image %s", image);
	if (*fd < 0)
		return -errno;
	*bytes = (uint64_t)st.st_size;
	return 0;
}

/* A second connection: back-ends that serve several connections must hand-shake again. */
static void check_reconnect(struct test_ctx *t, const char *sock)
{
	struct vhost_user_frontend again;
	int err;

	vhost_user_frontend_init(&again, "blk-again", VIRTIO_ID_BLOCK);
	err = vhost_user_frontend_connect(&again, sock, 2000);
	if (!err)
		err = vhost_user_frontend_handshake(&again);
	test_check(&t->tap, err == 0, "reconnect and handshake again after close");
	vhost_user_frontend_close(&again);
}

void run_blk(struct test_ctx *t, const char *sock, const char *image)
{
	const uint64_t wanted = (1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_BLK_F_SEG_MAX) |
				(1ull << VIRTIO_BLK_F_BLK_SIZE) | (1ull << VIRTIO_BLK_F_FLUSH);
	struct test_vq vq = {.kick_fd = -1, .call_fd = -1};
	uint16_t base = 0;
	uint64_t disk_bytes = 0;
	int image_fd = -1;

	t->tap.kind = "blk";
	if (open_disk(t, image, &image_fd, &disk_bytes) ||
	    test_setup(t, "blk", VIRTIO_ID_BLOCK, sock))
		goto out;
	check_capacity(t, disk_bytes);
	if (test_vq_init(&vq, &t->mem, RING_GPA(0), QUEUE_SIZE) ||
	    test_configure(t, t->fe.device_features & wanted) || test_start_queues(t, &vq, NULL, 1))
		goto out;
	write_read(t, &vq, image_fd, 8, 0x11);
	if (test_stop_queues(t, &vq, &base, 1))
		goto out;
	test_check(&t->tap, base == vq.avail_idx, "base after stop %u == requests made %u", base,
		   vq.avail_idx);
	if (test_start_queues(t, &vq, &base, 1))
		goto out;
	write_read(t, &vq, image_fd, 64, 0x5a);
	test_check(&t->tap, !t->fe.broken, "frontend not marked broken");
	vhost_user_frontend_close(&t->fe);
	check_reconnect(t, sock);
out:
	if (image_fd >= 0)
		close(image_fd);
	test_teardown(t, &vq, 1);
}

/*
 * The back-end dies under a started ring: the frontend must report it, mark
 * the device broken and refuse further requests, without crashing or hanging.
 */
void run_blk_killed(struct test_ctx *t, const char *sock, pid_t backend)
{
	struct test_vq vq = {.kick_fd = -1, .call_fd = -1};
	uint16_t base;
	int err;

	t->tap.kind = "blk-killed";
	if (test_setup(t, "blk-killed", VIRTIO_ID_BLOCK, sock) ||
	    test_vq_init(&vq, &t->mem, RING_GPA(0), QUEUE_SIZE) ||
	    test_configure(t, 1ull << VIRTIO_F_VERSION_1) || test_start_queues(t, &vq, NULL, 1))
		goto out;
	test_check(&t->tap, kill(backend, SIGKILL) == 0, "killed back-end pid %d", (int)backend);
	err = vhost_user_frontend_stop_queue(&t->fe, 0, &base);
	test_check(&t->tap, err == -ECONNRESET || err == -EPIPE, "stop after back-end death: %s",
		   strerror(-err));
	test_check(&t->tap, t->fe.broken, "frontend marked broken");
	err = vhost_user_frontend_set_features(&t->fe, 1ull << VIRTIO_F_VERSION_1);
	test_check(&t->tap, err == -EIO, "later requests refused without I/O: %s", strerror(-err));
out:
	test_teardown(t, &vq, 1);
}
