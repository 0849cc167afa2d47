/* Unit tests for the answers the VMM gives on a dead vhost-user back-end's rings. */
#include <errno.h>
#include <event2/event.h>
#include <linux/fuse.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/unit/check_main.h"
#include "vhost_user/device/internal.h"
#include "tests/lib/fake_vm.h"
#include "tests/lib/vq_driver.h"
#include "vmm/vm.h"
#include "vmm/util.h"

#define RAM_SIZE (4u << 20)
#define QSIZE 16
#define NQ 5
#define RING_GPA(q) (0x10000u + (q)*0x10000u)
#define DATA_GPA 0x100000u
#define SENTINEL 0xaa
#define UNIQUE 0x1122334455667788ull

struct fixture {
	struct vm vm;
	struct vu_device dev;
	struct vhost_user_type type_buf;
	struct test_vq drv[NQ];
	struct virtq dvq; /* device side of drv[0], for the per-chain tests */
	struct virtq_chain chain;
	uint64_t next_data;
};

static struct fixture *setup(void)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct ram_range ram = {0, RAM_SIZE};

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(test_vm_init(&f->vm, &ram, 1), 0);
	for (unsigned q = 0; q < NQ; q++)
		ck_assert_int_eq(test_vq_init(&f->drv[q], &f->vm.mem, RING_GPA(q), QSIZE), 0);
	ck_assert_int_eq(virtq_init(&f->dvq, &f->vm.mem, QSIZE, f->drv[0].desc_gpa,
				    f->drv[0].avail_gpa, f->drv[0].used_gpa, false),
			 0);
	f->next_data = DATA_GPA;
	return f;
}

static void teardown(struct fixture *f)
{
	for (unsigned q = 0; q < NQ; q++)
		test_vq_destroy(&f->drv[q]);
	test_vm_destroy(&f->vm);
	free(f);
}

static uint8_t *host(struct fixture *f, uint64_t gpa, uint64_t len)
{
	uint8_t *p = guest_memory_ptr(&f->vm.mem, gpa, len);

	ck_assert_ptr_nonnull(p);
	return p;
}

/* A fresh guest buffer of len bytes holding data (or the sentinel); returns its address. */
static uint64_t buffer(struct fixture *f, const void *data, uint32_t len)
{
	uint64_t gpa = f->next_data;

	f->next_data += (len + 63) & ~63u;
	if (len)
		memset(host(f, gpa, len), SENTINEL, len);
	if (data && len)
		memcpy(host(f, gpa, len), data, len);
	return gpa;
}

static bool untouched(struct fixture *f, uint64_t gpa, uint32_t len)
{
	const uint8_t *p = host(f, gpa, len);

	for (uint32_t i = 0; i < len; i++)
		if (p[i] != SENTINEL)
			return false;
	return true;
}

static struct fuse_in_header fuse_request(uint32_t opcode)
{
	struct fuse_in_header in = {
	    .len = sizeof(in) + 8, .opcode = opcode, .unique = UNIQUE, .nodeid = 1};
	return in;
}

/* Offers bufs on queue 0 and pops them as the device; returns the chain. */
static const struct virtq_chain *offer_and_pop(struct fixture *f, const struct vq_buf *bufs,
					       unsigned n)
{
	ck_assert_int_ge(test_vq_add(&f->drv[0], bufs, n), 0);
	ck_assert_int_eq(virtq_pop(&f->dvq, &f->chain), 1);
	return &f->chain;
}

static void check_fs_reply(struct fixture *f, uint64_t gpa)
{
	struct fuse_out_header out;

	memcpy(&out, host(f, gpa, sizeof(out)), sizeof(out));
	ck_assert_uint_eq(out.len, 16);
	ck_assert_int_eq(out.error, -EIO);
	ck_assert_uint_eq(out.unique, UNIQUE);
}

START_TEST(fs_request_gets_eio_with_its_unique)
{
	struct fixture *f = setup();
	struct fuse_in_header in = fuse_request(FUSE_GETATTR);
	uint64_t reply = buffer(f, NULL, 16), payload = buffer(f, NULL, 104);
	struct vq_buf bufs[] = {{buffer(f, &in, sizeof(in)), sizeof(in), false},
				{buffer(f, "argument", 8), 8, false},
				{reply, 16, true},
				{payload, 104, true}};

	ck_assert_uint_eq(sizeof(struct fuse_in_header), 40);
	ck_assert_uint_eq(vu_takeover_fs(offer_and_pop(f, bufs, 4)), 16);
	check_fs_reply(f, reply);
	ck_assert(untouched(f, payload, 104));
	teardown(f);
}
END_TEST

START_TEST(fs_headers_may_span_buffers)
{
	struct fixture *f = setup();
	struct fuse_in_header in = fuse_request(FUSE_LOOKUP);
	uint8_t raw[sizeof(in)], reply[16];
	uint64_t w1 = buffer(f, NULL, 5), w2 = buffer(f, NULL, 11), w3 = buffer(f, NULL, 8);
	struct vq_buf bufs[] = {{buffer(f, NULL, 0), 0, false},
				{buffer(f, NULL, 10), 10, false},
				{buffer(f, NULL, 30), 30, false},
				{w1, 5, true},
				{buffer(f, NULL, 0), 0, true},
				{w2, 11, true},
				{w3, 8, true}};

	memcpy(raw, &in, sizeof(in));
	memcpy(host(f, bufs[1].gpa, 10), raw, 10);
	memcpy(host(f, bufs[2].gpa, 30), raw + 10, 30);
	ck_assert_uint_eq(vu_takeover_fs(offer_and_pop(f, bufs, 7)), 16);
	memcpy(reply, host(f, w1, 5), 5);
	memcpy(reply + 5, host(f, w2, 11), 11);
	ck_assert_uint_eq(reply[0], 16);
	ck_assert_int_eq(((struct fuse_out_header *)reply)->error, -EIO);
	ck_assert_uint_eq(((struct fuse_out_header *)reply)->unique, UNIQUE);
	ck_assert(untouched(f, w3, 8));
	teardown(f);
}
END_TEST

START_TEST(fs_forget_has_no_reply)
{
	struct fixture *f = setup();
	struct fuse_in_header in = fuse_request(FUSE_FORGET);
	uint64_t after = buffer(f, NULL, 16);
	struct vq_buf bufs[] = {{buffer(f, &in, sizeof(in)), sizeof(in), false},
				{buffer(f, "nlookup!", 8), 8, false}};

	ck_assert_uint_eq(vu_takeover_fs(offer_and_pop(f, bufs, 2)), 0);
	ck_assert(untouched(f, after, 16));
	ck_assert_int_eq(memcmp(host(f, bufs[0].gpa, sizeof(in)), &in, sizeof(in)), 0);
	teardown(f);
}
END_TEST

START_TEST(fs_short_request_is_not_answered)
{
	struct fixture *f = setup();
	struct fuse_in_header in = fuse_request(FUSE_GETATTR);
	uint64_t reply = buffer(f, NULL, 64);
	struct vq_buf bufs[] = {{buffer(f, &in, 39), 39, false}, {reply, 64, true}};

	ck_assert_uint_eq(vu_takeover_fs(offer_and_pop(f, bufs, 2)), 0);
	ck_assert(untouched(f, reply, 64));
	teardown(f);
}
END_TEST

START_TEST(fs_short_reply_buffer_is_not_written)
{
	struct fixture *f = setup();
	struct fuse_in_header in = fuse_request(FUSE_GETATTR);
	uint64_t reply = buffer(f, NULL, 15);
	struct vq_buf bufs[] = {{buffer(f, &in, sizeof(in)), sizeof(in), false},
				{reply, 15, true},
				{buffer(f, NULL, 0), 0, true}};

	ck_assert_uint_eq(vu_takeover_fs(offer_and_pop(f, bufs, 3)), 0);
	ck_assert(untouched(f, reply, 15));
	teardown(f);
}
END_TEST

START_TEST(empty_chains_get_length_zero)
{
	struct fixture *f = setup();
	struct vq_buf nothing[] = {{buffer(f, NULL, 0), 0, false}, {buffer(f, NULL, 0), 0, true}};
	vu_takeover_serve_fn fns[] = {vu_takeover_blk, vu_takeover_fs, vu_takeover_net_tx};

	for (unsigned i = 0; i < ARRAY_SIZE(fns); i++) {
		const struct virtq_chain *c = offer_and_pop(f, nothing, 2);

		ck_assert_uint_eq(c->nbufs, 0);
		ck_assert_uint_eq(fns[i](c), 0);
	}
	teardown(f);
}
END_TEST

START_TEST(net_tx_frames_are_dropped)
{
	struct fixture *f = setup();
	uint8_t frame[60];
	struct vq_buf bufs[2];

	memset(frame, 0x5a, sizeof(frame));
	bufs[0] = (struct vq_buf){buffer(f, frame, 12), 12, false};
	bufs[1] = (struct vq_buf){buffer(f, frame, 60), 60, false};
	ck_assert_uint_eq(vu_takeover_net_tx(offer_and_pop(f, bufs, 2)), 0);
	ck_assert_uint_eq(host(f, bufs[1].gpa, 60)[59], 0x5a);
	teardown(f);
}
END_TEST

START_TEST(blk_status_is_ioerr)
{
	struct fixture *f = setup();
	uint8_t hdr[16] = {0};
	uint64_t data = buffer(f, NULL, 512), status = buffer(f, NULL, 1);
	struct vq_buf bufs[] = {
	    {buffer(f, hdr, 16), 16, false}, {data, 512, true}, {status, 1, true}};

	ck_assert_uint_eq(vu_takeover_blk(offer_and_pop(f, bufs, 3)), 1);
	ck_assert_uint_eq(*host(f, status, 1), VIRTIO_BLK_S_IOERR);
	ck_assert(untouched(f, data, 512));
	teardown(f);
}
END_TEST

START_TEST(chain_copies_stay_in_bounds)
{
	struct fixture *f = setup();
	uint8_t out[32], in[32] = {1, 2, 3};
	uint64_t w = buffer(f, NULL, 8);
	struct vq_buf bufs[] = {{buffer(f, "0123456789", 10), 10, false}, {w, 8, true}};
	const struct virtq_chain *c = offer_and_pop(f, bufs, 2);

	ck_assert_int_eq(virtq_chain_read(c, out, 10), 0);
	ck_assert_int_eq(memcmp(out, "0123456789", 10), 0);
	ck_assert_int_eq(virtq_chain_read(c, out, 11), -EINVAL); /* the writable part is not read */
	ck_assert_int_eq(virtq_chain_write(c, in, 9), -ENOSPC);
	ck_assert(untouched(f, w, 8));
	ck_assert_int_eq(virtq_chain_write(c, in, 8), 0);
	ck_assert_int_eq(memcmp(host(f, w, 8), in, 8), 0);
	teardown(f);
}
END_TEST

START_TEST(drain_pushes_each_answer)
{
	struct fixture *f = setup();
	struct fuse_in_header in = fuse_request(FUSE_READ);
	uint64_t reply = buffer(f, NULL, 16);
	struct vq_buf req[] = {{buffer(f, &in, sizeof(in)), sizeof(in), false}, {reply, 16, true}};
	struct vq_buf forget[] = {{buffer(f, &in, sizeof(in)), sizeof(in), false}};
	uint32_t id, len;
	int head = test_vq_add(&f->drv[0], req, 2);

	ck_assert_int_ge(test_vq_add(&f->drv[0], forget, 1), 0);
	ck_assert_int_eq(vu_takeover_drain(&f->dvq, &f->chain, vu_takeover_fs), 2);
	ck_assert_int_eq(test_vq_wait_used(&f->drv[0], 0, &id, &len), 0);
	ck_assert_uint_eq(id, (uint32_t)head);
	ck_assert_uint_eq(len, 16);
	check_fs_reply(f, reply);
	ck_assert_int_eq(test_vq_wait_used(&f->drv[0], 0, &id, &len), 0);
	ck_assert_uint_eq(len, 0);
	ck_assert_int_eq(vu_takeover_drain(&f->dvq, &f->chain, vu_takeover_fs), 0);
	teardown(f);
}
END_TEST

START_TEST(drain_stops_at_a_broken_ring)
{
	struct fixture *f = setup();
	struct vq_buf outside[] = {{RAM_SIZE - 8, 64, false}};
	uint32_t id, len;

	test_vq_add(&f->drv[0], outside, 1);
	ck_assert_int_eq(vu_takeover_drain(&f->dvq, &f->chain, vu_takeover_net_tx), -EIO);
	ck_assert_int_eq(test_vq_wait_used(&f->drv[0], 0, &id, &len), -ETIMEDOUT);
	teardown(f);
}
END_TEST

/* A device of type id with nq enabled queues, over the fixture's rings. */
static struct vu_device *device(struct fixture *f, uint32_t id, unsigned nq, uint64_t features)
{
	struct vu_device *dev = &f->dev;

	dev->fe.type = vhost_user_type_find(id, &f->type_buf);
	dev->spec.type = dev->fe.type;
	dev->spec.ops = vu_type_ops_find(id);
	snprintf(dev->fe.log_component, sizeof(dev->fe.log_component), "test");
	snprintf(dev->name, sizeof(dev->name), "dev0");
	dev->vm = &f->vm;
	dev->nqueues = nq;
	dev->driver_features = features;
	for (unsigned q = 0; q < nq; q++) {
		struct virtio_queue_info *qi = &dev->queues[q];

		qi->enabled = true;
		qi->size = QSIZE;
		qi->desc = f->drv[q].desc_gpa;
		qi->driver = f->drv[q].avail_gpa;
		qi->device = f->drv[q].used_gpa;
		qi->kick_fd = f->drv[q].kick_fd;
		qi->call_fd = f->drv[q].call_fd;
	}
	return dev;
}

START_TEST(picks_the_answer_per_queue)
{
	struct fixture *f = setup();
	struct vu_device *dev = device(f, VIRTIO_ID_NET, 2, 0);

	ck_assert_int_eq(vu_net_ctrl_queue(dev), -1);
	ck_assert_ptr_null(vu_takeover_pick(dev, 0));
	ck_assert(vu_takeover_pick(dev, 1) == vu_takeover_net_tx);
	dev = device(f, VIRTIO_ID_NET, 3, BIT(VIRTIO_NET_F_CTRL_VQ));
	ck_assert_int_eq(vu_net_ctrl_queue(dev), 2);
	ck_assert(vu_queue_local(dev, 2)); /* the VMM's: takeover.c leaves it alone */
	dev = device(f, VIRTIO_ID_FS, 3, 0);
	ck_assert(vu_takeover_pick(dev, 0) == vu_takeover_fs);
	ck_assert(vu_takeover_pick(dev, 1) == vu_takeover_fs);
	dev->driver_features = BIT(0); /* NOTIFICATION: queue 1 is the device's to fill */
	ck_assert_ptr_null(vu_takeover_pick(dev, 1));
	ck_assert(vu_takeover_pick(dev, 2) == vu_takeover_fs);
	dev = device(f, VIRTIO_ID_BLOCK, 1, 0);
	ck_assert(vu_takeover_pick(dev, 0) == vu_takeover_blk);
	dev = device(f, VIRTIO_ID_RNG, 1, 0);
	ck_assert_ptr_null(vu_takeover_pick(dev, 0));
	teardown(f);
}
END_TEST

static struct vring_used *used_ring(struct fixture *f, unsigned q)
{
	return (struct vring_used *)host(f, f->drv[q].used_gpa, 6 + 8u * QSIZE);
}

/* The u16 after the used ring: the driver kicks once its avail index passes it. */
static uint16_t *avail_event(struct fixture *f, unsigned q)
{
	return (uint16_t *)((uint8_t *)used_ring(f, q) + 4 + 8u * QSIZE);
}

/* What the back-end did before it died: head completed with its whole length. */
static void backend_completed(struct fixture *f, unsigned q, int head)
{
	struct vring_used *used = used_ring(f, q);

	ck_assert_int_ge(head, 0);
	used->ring[used->idx % QSIZE] = (struct vring_used_elem){(uint32_t)head, 74};
	used->idx++;
}

static void run_loop(struct fixture *f)
{
	ck_assert_int_ge(event_base_loop(f->vm.evbase, EVLOOP_NONBLOCK), 0);
}

static struct vu_device *failed_device(struct fixture *f, uint32_t id, unsigned nq,
				       uint64_t features)
{
	struct vu_device *dev = device(f, id, nq, features);

	dev->state = VU_DEV_FAILED;
	dev->failure.rings_were_live = true;
	return dev;
}

static void release(struct fixture *f)
{
	vu_takeover_release(&f->dev);
}

/*
 * A polling back-end (DPDK) dies with a frame in flight and kicks switched
 * off. Its data rings are taken over; the control queue, the VMM's all
 * along, keeps its answers: an rx-mode command is still OK, a pairs change
 * (which needs the back-end) ERR.
 */
START_TEST(net_takeover_end_to_end)
{
	struct fixture *f = setup();
	struct vu_device *dev =
	    failed_device(f, VIRTIO_ID_NET, 3,
			  BIT(VIRTIO_NET_F_CTRL_VQ) | BIT(VIRTIO_NET_F_CTRL_RX) |
			      BIT(VIRTIO_NET_F_MQ) | BIT(VIRTIO_RING_F_EVENT_IDX));
	uint8_t hdr[3] = {VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_ALLMULTI, 1};
	uint8_t pairs[4] = {VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, 1, 0};
	uint64_t ack = buffer(f, NULL, 1), ack2 = buffer(f, NULL, 1), rx = buffer(f, NULL, 1514);
	struct vq_buf frame[] = {{buffer(f, NULL, 74), 74, false}};
	struct vq_buf rx_buf[] = {{rx, 1514, true}};
	struct vq_buf cmd[] = {{buffer(f, hdr, 3), 3, false}, {ack, 1, true}};
	struct vq_buf cmd2[] = {{buffer(f, pairs, 4), 4, false}, {ack2, 1, true}};
	uint32_t id, len;
	int heads[2];

	test_vq_add(&f->drv[0], rx_buf, 1);
	backend_completed(f, 1, test_vq_add(&f->drv[1], frame, 1));
	ck_assert_int_eq(test_vq_wait_used(&f->drv[1], 0, &id, &len), 0);
	ck_assert_uint_eq(len, 74);
	heads[0] = test_vq_add(&f->drv[1], frame, 1); /* taken by the back-end, never completed */
	heads[1] = test_vq_add(&f->drv[1], frame, 1);
	used_ring(f, 1)->flags = VRING_USED_F_NO_NOTIFY;
	*avail_event(f, 1) = 0x8000;
	/* The control queue was served since DRIVER_OK, whatever the back-end did. */
	ck_assert_int_eq(dev->spec.ops->create(dev), 0);
	ck_assert_int_eq(dev->spec.ops->local_start(dev, false), 0);
	vu_takeover_start(dev);
	ck_assert(!dev->takeover[2].on);
	/* The frames past the used index are completed now, the first one only once. */
	for (unsigned i = 0; i < 2; i++) {
		ck_assert_int_eq(test_vq_wait_used(&f->drv[1], 0, &id, &len), 0);
		ck_assert_uint_eq(id, (uint32_t)heads[i]);
		ck_assert_uint_eq(len, 0);
	}
	ck_assert_int_eq(test_vq_wait_used(&f->drv[1], 0, &id, &len), -ETIMEDOUT);
	ck_assert_int_eq(test_vq_wait_used(&f->drv[0], 0, &id, &len), -ETIMEDOUT);
	ck_assert(untouched(f, rx, 1514));
	/* The driver kicks again: its next avail index passes avail_event. */
	ck_assert_uint_eq(*avail_event(f, 1), f->drv[1].avail_idx);
	test_vq_add(&f->drv[2], cmd, 2);
	test_vq_add(&f->drv[2], cmd2, 2);
	test_vq_kick(&f->drv[2]);
	run_loop(f);
	ck_assert_int_eq(test_vq_wait_used(&f->drv[2], 0, &id, &len), 0);
	ck_assert_uint_eq(len, 1);
	ck_assert_uint_eq(*host(f, ack, 1), VIRTIO_NET_OK);
	ck_assert_int_eq(test_vq_wait_used(&f->drv[2], 0, &id, &len), 0);
	ck_assert_uint_eq(*host(f, ack2, 1), VIRTIO_NET_ERR);
	ck_assert_int_eq(test_vq_wait_used(&f->drv[0], 0, &id, &len), -ETIMEDOUT);
	vu_local_stop(dev, false);
	dev->spec.ops->destroy(dev);
	release(f);
	teardown(f);
}
END_TEST

START_TEST(fs_takeover_end_to_end)
{
	struct fixture *f = setup();
	struct vu_device *dev = failed_device(f, VIRTIO_ID_FS, 2, 0);
	struct fuse_in_header in = fuse_request(FUSE_OPEN);
	uint64_t reply = buffer(f, NULL, 32);
	struct vq_buf forget[] = {{buffer(f, &in, sizeof(in)), sizeof(in), false}};
	struct vq_buf open[] = {{buffer(f, &in, sizeof(in)), sizeof(in), false}, {reply, 32, true}};
	uint32_t id, len;

	test_vq_add(&f->drv[0], forget, 1);
	vu_takeover_start(dev);
	ck_assert_int_eq(test_vq_wait_used(&f->drv[0], 0, &id, &len), 0);
	ck_assert_uint_eq(len, 0);
	test_vq_add(&f->drv[1], open, 2);
	run_loop(f);
	ck_assert_int_eq(test_vq_wait_used(&f->drv[1], 0, &id, &len), -ETIMEDOUT); /* no kick */
	test_vq_kick(&f->drv[1]);
	run_loop(f);
	ck_assert_int_eq(test_vq_wait_used(&f->drv[1], 0, &id, &len), 0);
	ck_assert_uint_eq(len, 16);
	check_fs_reply(f, reply);
	release(f);
	teardown(f);
}
END_TEST

/* A full ring hits the per-call bound: the queue kicks itself to finish later. */
START_TEST(full_ring_is_served_and_rearmed)
{
	struct fixture *f = setup();
	struct vu_device *dev = failed_device(f, VIRTIO_ID_FS, 2, 0);
	struct fuse_in_header in = fuse_request(FUSE_FORGET);
	struct vq_buf forget[] = {{buffer(f, &in, sizeof(in)), sizeof(in), false}};
	uint64_t count;
	uint32_t id, len;

	for (unsigned i = 0; i < QSIZE; i++)
		ck_assert_int_ge(test_vq_add(&f->drv[0], forget, 1), 0);
	vu_takeover_start(dev);
	for (unsigned i = 0; i < QSIZE; i++)
		ck_assert_int_eq(test_vq_wait_used(&f->drv[0], 0, &id, &len), 0);
	ck_assert_int_eq(read(f->drv[0].kick_fd, &count, sizeof(count)), sizeof(count));
	ck_assert_int_eq(test_vq_wait_used(&f->drv[1], 0, &id, &len), -ETIMEDOUT);
	ck_assert_int_eq(read(f->drv[1].kick_fd, &count, sizeof(count)), -1);
	release(f);
	teardown(f);
}
END_TEST

START_TEST(idle_rings_are_not_taken_over)
{
	struct fixture *f = setup();
	struct vu_device *dev = failed_device(f, VIRTIO_ID_FS, 2, 0);
	struct fuse_in_header in = fuse_request(FUSE_OPEN);
	struct vq_buf forget[] = {{buffer(f, &in, sizeof(in)), sizeof(in), false}};
	uint32_t id, len;

	dev->failure.rings_were_live = false;
	test_vq_add(&f->drv[0], forget, 1);
	vu_takeover_start(dev);
	test_vq_kick(&f->drv[0]);
	run_loop(f);
	ck_assert_int_eq(test_vq_wait_used(&f->drv[0], 0, &id, &len), -ETIMEDOUT);
	ck_assert(!dev->takeover[0].on);
	release(f);
	teardown(f);
}
END_TEST

static Suite *takeover_suite(void)
{
	Suite *s = suite_create("vhost_user_takeover");
	TCase *chains = tcase_create("chains");
	TCase *queues = tcase_create("queues");

	tcase_add_test(chains, fs_request_gets_eio_with_its_unique);
	tcase_add_test(chains, fs_headers_may_span_buffers);
	tcase_add_test(chains, fs_forget_has_no_reply);
	tcase_add_test(chains, fs_short_request_is_not_answered);
	tcase_add_test(chains, fs_short_reply_buffer_is_not_written);
	tcase_add_test(chains, empty_chains_get_length_zero);
	tcase_add_test(chains, net_tx_frames_are_dropped);
	tcase_add_test(chains, blk_status_is_ioerr);
	tcase_add_test(chains, chain_copies_stay_in_bounds);
	tcase_add_test(chains, drain_pushes_each_answer);
	tcase_add_test(chains, drain_stops_at_a_broken_ring);
	tcase_add_test(queues, picks_the_answer_per_queue);
	tcase_add_test(queues, net_takeover_end_to_end);
	tcase_add_test(queues, fs_takeover_end_to_end);
	tcase_add_test(queues, full_ring_is_served_and_rearmed);
	tcase_add_test(queues, idle_rings_are_not_taken_over);
	suite_add_tcase(s, chains);
	suite_add_tcase(s, queues);
	return s;
}

CHECK_MAIN(takeover_suite)
