/* vhost-user-net against a reflecting switch: a frame sent on tx comes back on rx. */
#include <errno.h>
#include <inttypes.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_net.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/vhost_user/backend_test.h"

#define RX 0
#define TX 1
#define RX_BUFS 8
#define RX_BUF_SIZE 2048u
#define RX_GPA(i) (DATA_GPA + 0x10000 + (uint64_t)(i)*RX_BUF_SIZE)
#define TX_GPA DATA_GPA
/* With VERSION_1 the header always carries num_buffers. */
#define NET_HDR_LEN sizeof(struct virtio_net_hdr_mrg_rxbuf)
#define FRAME_LEN 98u
/* The first frame through a software switch can take a while (OVS: ~1.5 s). */
#define FIRST_FRAME_TIMEOUT_MS 9000
/* Sends of one frame before it counts as lost. */
#define ECHO_SENDS 3
#define LATE_ECHO_MS 300

static void post_rx_buffer(struct test_vq *rx, unsigned i)
{
	const struct vq_buf buf = {RX_GPA(i), RX_BUF_SIZE, true};

	test_vq_add(rx, &buf, 1);
}

static void build_frame(uint8_t *frame, uint8_t seed)
{
	static const uint8_t dst[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	static const uint8_t src[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
	unsigned i;

	memcpy(frame, dst, 6);
	memcpy(frame + 6, src, 6);
	frame[12] = 0x88; /* 0x88b5: local experimental ethertype */
	frame[13] = 0xb5;
	for (i = 14; i < FRAME_LEN; i++)
		frame[i] = (uint8_t)(seed + i);
}

/*
 * Sends one frame and expects it back on rx, byte for byte. A switch may drop
 * frames while its port comes up (DPDK's vhost PMD marks its queues ready
 * only after acking the last SET_VRING_ENABLE, queue by queue), so the
 * frame is sent again if nothing comes back; an echo must still arrive.
 */
static void echo_frame(struct test_ctx *t, struct test_vq *vqs, uint8_t seed)
{
	uint8_t *tx = gpa_ptr(t, TX_GPA, NET_HDR_LEN + FRAME_LEN);
	const struct vq_buf buf = {TX_GPA, (uint32_t)(NET_HDR_LEN + FRAME_LEN), false};
	uint32_t id = 0, len = 0, tx_id, tx_len;
	unsigned sends = 0, returned = 0;
	const uint8_t *got;
	int err = -ETIMEDOUT;

	memset(tx, 0, NET_HDR_LEN);
	build_frame(tx + NET_HDR_LEN, seed);
	while (err == -ETIMEDOUT && sends < ECHO_SENDS) {
		test_vq_add(&vqs[TX], &buf, 1);
		test_vq_kick(&vqs[TX]);
		sends++;
		err = test_vq_wait_used(&vqs[RX], FIRST_FRAME_TIMEOUT_MS / ECHO_SENDS, &id, &len);
	}
	while (returned < sends &&
	       test_vq_wait_used(&vqs[TX], REPLY_TIMEOUT_MS, &tx_id, &tx_len) == 0)
		returned++;
	/* A frame that was only late, not lost, comes back too: consume it. */
	while (sends > 1 && test_vq_wait_used(&vqs[RX], LATE_ECHO_MS, &tx_id, &tx_len) == 0)
		;
	test_check(&t->tap, returned == sends, "tx buffers returned on the used ring (%u of %u)",
		   returned, sends);
	test_check(&t->tap, err == 0 && len == NET_HDR_LEN + FRAME_LEN && id < QUEUE_SIZE,
		   "frame came back on rx (err %d, len %u, want %zu; %u send(s))", err,
		   err ? 0 : len, NET_HDR_LEN + FRAME_LEN, sends);
	if (err || id >= QUEUE_SIZE)
		return;
	/* Descriptors were posted one per buffer, in order: head id i is buffer i. */
	got = gpa_ptr(t, RX_GPA(id % RX_BUFS), RX_BUF_SIZE);
	test_check(&t->tap, memcmp(got + NET_HDR_LEN, tx + NET_HDR_LEN, FRAME_LEN) == 0,
		   "echoed frame matches byte for byte (seed 0x%x)", seed);
}

void run_net(struct test_ctx *t, const char *sock)
{
	struct test_vq vqs[2] = {{.kick_fd = -1, .call_fd = -1}, {.kick_fd = -1, .call_fd = -1}};
	uint16_t bases[2];
	unsigned i;

	if (test_setup(t, "net", VIRTIO_ID_NET, sock))
		goto out;
	if (test_vq_init(&vqs[RX], &t->mem, RING_GPA(RX), QUEUE_SIZE) ||
	    test_vq_init(&vqs[TX], &t->mem, RING_GPA(TX), QUEUE_SIZE) ||
	    test_configure(t, 1ull << VIRTIO_F_VERSION_1))
		goto out;
	for (i = 0; i < RX_BUFS; i++)
		post_rx_buffer(&vqs[RX], i);
	if (test_start_queues(t, vqs, NULL, 2))
		goto out;
	test_vq_kick(&vqs[RX]);
	echo_frame(t, vqs, 0x20);
	if (test_stop_queues(t, vqs, bases, 2))
		goto out;
	test_check(&t->tap, bases[TX] == vqs[TX].avail_idx && bases[RX] == vqs[RX].used_seen,
		   "bases after stop: tx %u (want %u), rx %u (want %u)", bases[TX],
		   vqs[TX].avail_idx, bases[RX], vqs[RX].used_seen);
	if (test_start_queues(t, vqs, bases, 2))
		goto out;
	test_vq_kick(&vqs[RX]);
	echo_frame(t, vqs, 0x70);
	test_check(&t->tap, !t->fe.broken, "frontend not marked broken");
out:
	test_teardown(t, vqs, 2);
}
