/* Unit tests for the net control queue the VMM serves: layout, command answers, VQ_PAIRS_SET. */
#include <errno.h>
#include <event2/event.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/lib/vq_driver.h"
#include "tests/unit/check_main.h"
#include "vhost_user/device/internal.h"
#include "vmm/vm.h"

#include "vmm/util.h"
#define RAM_SIZE (4u << 20)
#define QSIZE 16
#define CTRL_GPA 0x10000u
#define DATA_GPA 0x100000u
#define SENTINEL 0xaa
#define ALL_CTRL                                                                                   \
	(BIT(VIRTIO_NET_F_CTRL_VQ) | BIT(VIRTIO_NET_F_CTRL_RX) | BIT(VIRTIO_NET_F_MQ) |            \
	 BIT(VIRTIO_NET_F_CTRL_MAC_ADDR))

/* A fake back-end: acks everything that asks, records SET_VRING_ENABLE per ring. */
struct fake_backend {
	int sock;
	int enable[VHOST_USER_MAX_QUEUES]; /* last SET_VRING_ENABLE num, -1: none */
	unsigned enables;		   /* SET_VRING_ENABLE messages seen */
	unsigned kicks;			   /* SET_VRING_KICK messages seen (a ring started) */
	bool refuse;			   /* nack every request */
	pthread_mutex_t lock;
};

struct fixture {
	struct vm vm;
	struct vu_device dev;
	struct test_vq drv; /* the driver's side of the control queue */
	struct virtq dvq;   /* device side of drv, for answering single chains */
	struct virtq_chain chain;
	uint64_t next_data;
	struct fake_backend fb;
	pthread_t thread;
	bool backend;
};

static void *fake_backend_thread(void *arg)
{
	struct fake_backend *fb = arg;
	struct vhost_user_error e = {0};
	struct vhost_user_msg m;
	int fds[VHOST_USER_MAX_FDS];
	unsigned nfds;

	while (vhost_user_recv(fb->sock, &m, fds, VHOST_USER_MAX_FDS, &nfds, -1, &e) == 0) {
		struct vhost_user_header hdr = {m.hdr.request,
						VHOST_USER_VERSION | VHOST_USER_FLAG_REPLY, 8};
		uint64_t status;

		vhost_user_close_fds(fds, nfds);
		pthread_mutex_lock(&fb->lock);
		if (m.hdr.request == VHOST_USER_SET_VRING_ENABLE &&
		    m.payload.state.index < VHOST_USER_MAX_QUEUES) {
			fb->enable[m.payload.state.index] = (int)m.payload.state.num;
			fb->enables++;
		}
		fb->kicks += m.hdr.request == VHOST_USER_SET_VRING_KICK;
		status = fb->refuse ? 1 : 0;
		pthread_mutex_unlock(&fb->lock);
		if (m.hdr.flags & VHOST_USER_FLAG_NEED_REPLY)
			vhost_user_send(fb->sock, &hdr, &status, NULL, 0);
	}
	close(fb->sock);
	return NULL;
}

/* A net device with pairs rx/tx pairs and the control queue's ring, negotiated features. */
static struct fixture *setup(unsigned pairs, uint64_t features)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct ram_range ram = {0, RAM_SIZE};
	struct vu_device *dev = &f->dev;
	int ctrl;

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(guest_memory_init(&f->vm.mem, &ram, 1), 0);
	f->vm.evbase = event_base_new();
	ck_assert_ptr_nonnull(f->vm.evbase);
	pthread_mutex_init(&f->vm.dev_lock, NULL);
	ck_assert_int_eq(vhost_user_frontend_init(&dev->fe, "net0", VIRTIO_ID_NET), 0);
	dev->spec.type = dev->fe.type;
	dev->spec.ops = vu_type_ops_find(VIRTIO_ID_NET);
	snprintf(dev->name, sizeof(dev->name), "net0");
	dev->vm = &f->vm;
	dev->watch.work_fd = dev->watch.ack_timer_fd = -1;
	dev->nqueues = 2 * pairs + 1;
	dev->driver_features = features;
	dev->state = VU_DEV_ACTIVE;
	ck_assert_int_eq(dev->spec.ops->create(dev), 0);
	ck_assert_int_eq(test_vq_init(&f->drv, &f->vm.mem, CTRL_GPA, QSIZE), 0);
	ck_assert_int_eq(virtq_init(&f->dvq, &f->vm.mem, QSIZE, f->drv.desc_gpa, f->drv.avail_gpa,
				    f->drv.used_gpa, false),
			 0);
	/* Data rings: somewhere in RAM (the fake back-end never reads them), no fds. */
	for (unsigned q = 0; q < dev->nqueues; q++)
		dev->queues[q] = (struct virtio_queue_info){.enabled = true,
							    .size = QSIZE,
							    .desc = f->drv.desc_gpa,
							    .driver = f->drv.avail_gpa,
							    .device = f->drv.used_gpa,
							    .kick_fd = -1,
							    .call_fd = -1};
	ctrl = vu_net_ctrl_queue(dev);
	if (ctrl >= 0) {
		struct virtio_queue_info *qi = &dev->queues[ctrl];

		qi->size = QSIZE;
		qi->desc = f->drv.desc_gpa;
		qi->driver = f->drv.avail_gpa;
		qi->device = f->drv.used_gpa;
		qi->kick_fd = f->drv.kick_fd;
		qi->call_fd = f->drv.call_fd;
	}
	f->next_data = DATA_GPA;
	return f;
}

/* Connects the device to the fake back-end with rings 0..nrings-1 started and enabled. */
static void connect_backend(struct fixture *f, unsigned nrings)
{
	struct vu_device *dev = &f->dev;
	int sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	pthread_mutex_init(&f->fb.lock, NULL);
	for (unsigned q = 0; q < VHOST_USER_MAX_QUEUES; q++)
		f->fb.enable[q] = -1;
	f->fb.sock = sv[1];
	dev->fe.sock = sv[0];
	dev->fe.timeout_ms = 1000;
	dev->fe.backend_features = BIT(VHOST_USER_F_PROTOCOL_FEATURES);
	dev->fe.protocol_features =
	    BIT(VHOST_USER_PROTOCOL_F_MQ) | BIT(VHOST_USER_PROTOCOL_F_REPLY_ACK);
	dev->fe.num_queues = VHOST_USER_MAX_QUEUES;
	dev->fe.mem = &f->vm.mem;
	for (unsigned q = 0; q < nrings; q++)
		dev->fe.queues[q].started = dev->fe.queues[q].enabled = true;
	ck_assert_int_eq(pthread_create(&f->thread, NULL, fake_backend_thread, &f->fb), 0);
	f->backend = true;
}

static void teardown(struct fixture *f)
{
	vu_local_stop(&f->dev, false);
	f->dev.spec.ops->destroy(&f->dev);
	ck_assert_ptr_null(f->dev.type_state);
	if (f->backend) {
		vhost_user_frontend_close(&f->dev.fe);
		pthread_join(f->thread, NULL);
	}
	test_vq_destroy(&f->drv);
	event_base_free(f->vm.evbase);
	pthread_mutex_destroy(&f->vm.dev_lock);
	guest_memory_destroy(&f->vm.mem);
	free(f);
}

static uint8_t *host(struct fixture *f, uint64_t gpa, uint64_t len)
{
	uint8_t *p = guest_memory_ptr(&f->vm.mem, gpa, len);

	ck_assert_ptr_nonnull(p);
	return p;
}

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

/*
 * Offers a command (len bytes of cmd in one readable buffer, when len)
 * with a one-byte ack buffer, answers it, and returns the ack (or -1 when
 * the used length was 0 and the ack untouched).
 */
static int command(struct fixture *f, const void *cmd, uint32_t len)
{
	uint64_t ack = buffer(f, NULL, 1);
	struct vq_buf bufs[] = {{buffer(f, cmd, len), len, false}, {ack, 1, true}};
	uint32_t used;

	ck_assert_int_ge(test_vq_add(&f->drv, len ? bufs : bufs + 1, len ? 2 : 1), 0);
	ck_assert_int_eq(virtq_pop(&f->dvq, &f->chain), 1);
	used = vu_net_ctrl_answer(&f->dev, &f->chain);
	if (used == 0) {
		ck_assert_uint_eq(*host(f, ack, 1), SENTINEL);
		return -1;
	}
	ck_assert_uint_eq(used, 1);
	return *host(f, ack, 1);
}

START_TEST(layout_follows_pairs_and_mq)
{
	static const unsigned ns[] = {1, 2, 4};

	for (unsigned i = 0; i < 3; i++) {
		unsigned n = ns[i];
		struct fixture *f = setup(n, ALL_CTRL);
		struct vu_device *dev = &f->dev;

		ck_assert_uint_eq(vu_net_max_pairs(dev), n);
		/* With MQ: pairs 0..n-1, then the control queue at 2n. */
		ck_assert_int_eq(vu_net_ctrl_queue(dev), (int)(2 * n));
		for (unsigned q = 0; q < 2 * n; q++)
			ck_assert(!vu_queue_local(dev, q));
		ck_assert(vu_queue_local(dev, 2 * n));
		/* Without MQ: one pair, the control queue at 2, the rest used by no one. */
		dev->driver_features = ALL_CTRL & ~BIT(VIRTIO_NET_F_MQ);
		ck_assert_int_eq(vu_net_ctrl_queue(dev), 2);
		ck_assert(!vu_queue_local(dev, 0));
		ck_assert(!vu_queue_local(dev, 1));
		for (unsigned q = 2; q <= 2 * n; q++)
			ck_assert(vu_queue_local(dev, q));
		/* MQ without CTRL_VQ cannot be commanded: no control queue, one pair. */
		dev->driver_features = BIT(VIRTIO_NET_F_MQ);
		ck_assert_int_eq(vu_net_ctrl_queue(dev), -1);
		ck_assert(!vu_queue_local(dev, 1));
		ck_assert(vu_queue_local(dev, 2));
		teardown(f);
	}
}
END_TEST

START_TEST(rx_commands_are_accepted)
{
	struct fixture *f = setup(1, ALL_CTRL);
	uint8_t promisc_on[] = {VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_PROMISC, 1};
	uint8_t allmulti_off[] = {VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_ALLMULTI, 0};
	uint8_t alluni[] = {VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_ALLUNI, 1};
	uint8_t two[] = {VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_PROMISC, 1, 0};
	uint8_t bad_on[] = {VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_PROMISC, 2};

	ck_assert_int_eq(command(f, promisc_on, 3), VIRTIO_NET_OK);
	ck_assert_int_eq(command(f, allmulti_off, 3), VIRTIO_NET_OK);
	ck_assert_int_eq(command(f, alluni, 3), VIRTIO_NET_ERR); /* CTRL_RX_EXTRA is not offered */
	ck_assert_int_eq(command(f, two, 4), VIRTIO_NET_ERR);
	ck_assert_int_eq(command(f, promisc_on, 2), VIRTIO_NET_ERR);
	ck_assert_int_eq(command(f, bad_on, 3), VIRTIO_NET_ERR);
	f->dev.driver_features &= ~BIT(VIRTIO_NET_F_CTRL_RX);
	ck_assert_int_eq(command(f, promisc_on, 3), VIRTIO_NET_ERR);
	teardown(f);
}
END_TEST

/* A TABLE_SET command: uni unicast entries, multi multicast entries. */
static uint32_t mac_table(uint8_t *out, uint32_t uni, uint32_t multi)
{
	uint32_t at = 0;

	out[at++] = VIRTIO_NET_CTRL_MAC;
	out[at++] = VIRTIO_NET_CTRL_MAC_TABLE_SET;
	memcpy(out + at, &uni, 4);
	at += 4;
	memset(out + at, 0x02, 6 * uni);
	at += 6 * uni;
	memcpy(out + at, &multi, 4);
	at += 4;
	memset(out + at, 0x01, 6 * multi);
	return at + 6 * multi;
}

START_TEST(mac_commands_are_kept)
{
	struct fixture *f = setup(1, ALL_CTRL);
	static uint8_t table[VU_NET_CTRL_MAX_CMD + 64];
	uint8_t addr[] = {VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_ADDR_SET, 0x52, 0, 0, 0, 0, 9};
	uint8_t group[] = {VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_ADDR_SET, 0x01, 0, 0, 0, 0, 9};
	uint8_t mac[6];
	uint32_t len;

	ck_assert_int_eq(command(f, table, mac_table(table, 0, 0)), VIRTIO_NET_OK);
	ck_assert_int_eq(command(f, table, mac_table(table, 3, 2)), VIRTIO_NET_OK);
	len = mac_table(table, 3, 2);
	ck_assert_int_eq(command(f, table, len - 1), VIRTIO_NET_ERR); /* a list runs short */
	ck_assert_int_eq(command(f, table, len + 1), VIRTIO_NET_ERR); /* a byte left over */
	memset(table + 2, 0xff, 4); /* 2^32 - 1 unicast entries announced, 58 bytes follow */
	ck_assert_int_eq(command(f, table, 64), VIRTIO_NET_ERR);
	len = mac_table(table, VU_NET_MAC_TABLE_MAX, VU_NET_MAC_TABLE_MAX);
	ck_assert_int_eq(command(f, table, len), VIRTIO_NET_OK);
	len = mac_table(table, VU_NET_MAC_TABLE_MAX + 1, VU_NET_MAC_TABLE_MAX);
	ck_assert_int_eq(command(f, table, len), VIRTIO_NET_ERR); /* more than the VMM reads */
	/* ADDR_SET: kept, and config space's mac reads it back. */
	ck_assert_int_eq(command(f, addr, sizeof(addr)), VIRTIO_NET_OK);
	f->dev.spec.ops->config_read(&f->dev, 0, mac, 6);
	ck_assert_int_eq(memcmp(mac, addr + 2, 6), 0);
	ck_assert_int_eq(command(f, group, sizeof(group)), VIRTIO_NET_ERR);
	ck_assert_int_eq(command(f, addr, 7), VIRTIO_NET_ERR);
	f->dev.driver_features &= ~BIT(VIRTIO_NET_F_CTRL_MAC_ADDR);
	ck_assert_int_eq(command(f, addr, sizeof(addr)), VIRTIO_NET_ERR);
	teardown(f);
}
END_TEST

START_TEST(malformed_and_unknown_get_err)
{
	struct fixture *f = setup(2, ALL_CTRL);
	uint8_t vlan[] = {VIRTIO_NET_CTRL_VLAN, VIRTIO_NET_CTRL_VLAN_ADD, 1, 0};
	uint8_t unknown[] = {0xee, 0x00};
	uint8_t one = VIRTIO_NET_CTRL_RX;
	static uint8_t huge[VU_NET_CTRL_MAX_CMD + 1] = {VIRTIO_NET_CTRL_RX};
	uint64_t ack = buffer(f, NULL, 1), spare = buffer(f, NULL, 4);
	struct vq_buf no_ack[] = {{buffer(f, unknown, 2), 2, false}};
	struct vq_buf split[] = {{buffer(f, &one, 1), 1, false},
				 {buffer(f, (uint8_t[]){VIRTIO_NET_CTRL_RX_PROMISC}, 1), 1, false},
				 {buffer(f, (uint8_t[]){1}, 1), 1, false},
				 {buffer(f, NULL, 0), 0, true},
				 {ack, 1, true}};

	ck_assert_int_eq(command(f, vlan, sizeof(vlan)), VIRTIO_NET_ERR);
	ck_assert_int_eq(command(f, unknown, sizeof(unknown)), VIRTIO_NET_ERR);
	ck_assert_int_eq(command(f, &one, 1), VIRTIO_NET_ERR);
	ck_assert_int_eq(command(f, NULL, 0), VIRTIO_NET_ERR);
	ck_assert_int_eq(command(f, huge, sizeof(huge)), VIRTIO_NET_ERR);
	/* No writable byte: nothing to answer in, nothing carried out or written. */
	ck_assert_int_ge(test_vq_add(&f->drv, no_ack, 1), 0);
	ck_assert_int_eq(virtq_pop(&f->dvq, &f->chain), 1);
	ck_assert_uint_eq(vu_net_ctrl_answer(&f->dev, &f->chain), 0);
	ck_assert_uint_eq(*host(f, spare, 1), SENTINEL);
	/* A command spread over buffers, the ack after an empty one. */
	ck_assert_int_ge(test_vq_add(&f->drv, split, 5), 0);
	ck_assert_int_eq(virtq_pop(&f->dvq, &f->chain), 1);
	ck_assert_uint_eq(vu_net_ctrl_answer(&f->dev, &f->chain), 1);
	ck_assert_uint_eq(*host(f, ack, 1), VIRTIO_NET_OK);
	teardown(f);
}
END_TEST

static uint8_t pairs_set(struct fixture *f, unsigned pairs)
{
	uint8_t cmd[] = {VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, (uint8_t)pairs,
			 (uint8_t)(pairs >> 8)};

	return (uint8_t)command(f, cmd, sizeof(cmd));
}

static int backend_enable(struct fixture *f, unsigned q)
{
	int v;

	pthread_mutex_lock(&f->fb.lock);
	v = f->fb.enable[q];
	pthread_mutex_unlock(&f->fb.lock);
	return v;
}

START_TEST(pairs_set_enables_exactly_the_pairs)
{
	struct fixture *f = setup(4, ALL_CTRL);

	connect_backend(f, 8);
	ck_assert_int_eq(pairs_set(f, 2), VIRTIO_NET_OK);
	for (unsigned q = 0; q < 4; q++)
		ck_assert_int_eq(backend_enable(f, q), -1); /* already enabled: nothing sent */
	for (unsigned q = 4; q < 8; q++)
		ck_assert_int_eq(backend_enable(f, q), 0);
	ck_assert(f->dev.spec.ops->ring_enabled(&f->dev, 3));
	ck_assert(!f->dev.spec.ops->ring_enabled(&f->dev, 4));
	ck_assert_int_eq(pairs_set(f, 4), VIRTIO_NET_OK);
	for (unsigned q = 4; q < 8; q++)
		ck_assert_int_eq(backend_enable(f, q), 1);
	ck_assert_int_eq(backend_enable(f, 8), -1); /* the control queue is never the back-end's */
	ck_assert_int_eq(pairs_set(f, 1), VIRTIO_NET_OK);
	ck_assert_int_eq(backend_enable(f, 1), -1);
	for (unsigned q = 2; q < 8; q++)
		ck_assert_int_eq(backend_enable(f, q), 0);
	ck_assert_uint_eq(f->fb.enables, 4 + 4 + 6);
	teardown(f);
}
END_TEST

/* Rings of pairs the driver never used were never started: the first VQ_PAIRS_SET starts them. */
START_TEST(pairs_set_starts_rings_first_used)
{
	struct fixture *f = setup(3, ALL_CTRL);

	connect_backend(f, 2);
	ck_assert_int_eq(pairs_set(f, 2), VIRTIO_NET_OK);
	ck_assert_uint_eq(f->fb.kicks, 2);
	ck_assert(f->dev.fe.queues[2].started && f->dev.fe.queues[3].started);
	ck_assert(!f->dev.fe.queues[4].started && !f->dev.fe.queues[5].started);
	ck_assert_int_eq(backend_enable(f, 2), 1);
	ck_assert_int_eq(backend_enable(f, 3), 1);
	ck_assert_int_eq(backend_enable(f, 4), -1);
	/* Fewer pairs: started rings are disabled, not stopped; unused ones stay unsent. */
	ck_assert_int_eq(pairs_set(f, 1), VIRTIO_NET_OK);
	ck_assert_int_eq(backend_enable(f, 2), 0);
	ck_assert_int_eq(backend_enable(f, 3), 0);
	ck_assert(f->dev.fe.queues[2].started);
	ck_assert_int_eq(pairs_set(f, 3), VIRTIO_NET_OK);
	ck_assert_uint_eq(f->fb.kicks, 4);
	for (unsigned q = 0; q < 6; q++)
		ck_assert(f->dev.fe.queues[q].started && f->dev.fe.queues[q].enabled);
	ck_assert_int_eq(backend_enable(f, 6), -1); /* the control queue */
	teardown(f);
}
END_TEST

START_TEST(pairs_set_out_of_range_changes_nothing)
{
	struct fixture *f = setup(2, ALL_CTRL);
	uint8_t short_cmd[] = {VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, 1};
	uint8_t rss[] = {VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_RSS_CONFIG, 1, 0};

	connect_backend(f, 4);
	ck_assert_int_eq(pairs_set(f, 0), VIRTIO_NET_ERR);
	ck_assert_int_eq(pairs_set(f, 3), VIRTIO_NET_ERR);
	ck_assert_int_eq(pairs_set(f, 0x8000), VIRTIO_NET_ERR);
	ck_assert_int_eq(pairs_set(f, 0xffff), VIRTIO_NET_ERR);
	ck_assert_int_eq(command(f, short_cmd, sizeof(short_cmd)), VIRTIO_NET_ERR);
	ck_assert_int_eq(command(f, rss, sizeof(rss)), VIRTIO_NET_ERR);
	/* A pair whose rings the driver never set up. */
	f->dev.queues[3].enabled = false;
	ck_assert_int_eq(pairs_set(f, 2), VIRTIO_NET_ERR);
	f->dev.queues[3].enabled = true;
	/* Without MQ negotiated the command is not the driver's to send. */
	f->dev.driver_features &= ~BIT(VIRTIO_NET_F_MQ);
	ck_assert_int_eq(pairs_set(f, 1), VIRTIO_NET_ERR);
	f->dev.driver_features |= BIT(VIRTIO_NET_F_MQ);
	ck_assert_uint_eq(f->fb.enables, 0);
	ck_assert_int_eq(pairs_set(f, 1), VIRTIO_NET_OK);
	ck_assert_int_eq(backend_enable(f, 2), 0);
	/* A failed back-end: nothing to enable, the answer is ERR. */
	f->dev.state = VU_DEV_FAILED;
	ck_assert_int_eq(pairs_set(f, 2), VIRTIO_NET_ERR);
	ck_assert_int_eq(backend_enable(f, 2), 0);
	teardown(f);
}
END_TEST

START_TEST(refused_enable_fails_the_device)
{
	struct fixture *f = setup(2, ALL_CTRL);

	connect_backend(f, 4);
	f->dev.watch.work_fd = -1;
	f->fb.refuse = true;
	ck_assert_int_eq(pairs_set(f, 1), VIRTIO_NET_ERR);
	ck_assert_int_eq(f->dev.state, VU_DEV_FAILED);
	teardown(f);
}
END_TEST

static void run_loop(struct fixture *f)
{
	ck_assert_int_ge(event_base_loop(f->vm.evbase, EVLOOP_NONBLOCK), 0);
}

/* The control queue is served from the loop between local_start and local_stop, and only then. */
START_TEST(served_on_the_loop_while_started)
{
	struct fixture *f = setup(1, ALL_CTRL);
	uint8_t cmd[] = {VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_PROMISC, 1};
	uint64_t ack = buffer(f, NULL, 1);
	struct vq_buf bufs[] = {{buffer(f, cmd, 3), 3, false}, {ack, 1, true}};
	const struct vu_type_ops *ops = f->dev.spec.ops;
	uint32_t id, len;

	test_vq_add(&f->drv, bufs, 2); /* queued before DRIVER_OK */
	ck_assert_int_eq(ops->local_start(&f->dev, false), 0);
	run_loop(f);
	ck_assert_int_eq(test_vq_wait_used(&f->drv, 0, &id, &len), 0);
	ck_assert_uint_eq(len, 1);
	ck_assert_uint_eq(*host(f, ack, 1), VIRTIO_NET_OK);
	/* Paused: a kick waits for the resume. */
	ops->local_stop(&f->dev, true);
	run_loop(f);
	*host(f, ack, 1) = SENTINEL;
	test_vq_add(&f->drv, bufs, 2);
	test_vq_kick(&f->drv);
	run_loop(f);
	run_loop(f);
	ck_assert_int_eq(test_vq_wait_used(&f->drv, 0, &id, &len), -ETIMEDOUT);
	ck_assert_int_eq(ops->local_start(&f->dev, true), 0);
	run_loop(f);
	ck_assert_int_eq(test_vq_wait_used(&f->drv, 0, &id, &len), 0);
	ck_assert_uint_eq(*host(f, ack, 1), VIRTIO_NET_OK);
	/* Kicks while started are answered from the loop. */
	*host(f, ack, 1) = SENTINEL;
	test_vq_add(&f->drv, bufs, 2);
	test_vq_kick(&f->drv);
	run_loop(f);
	ck_assert_int_eq(test_vq_wait_used(&f->drv, 0, &id, &len), 0);
	ck_assert_uint_eq(*host(f, ack, 1), VIRTIO_NET_OK);
	teardown(f);
}
END_TEST

/* A guest's broken ring stops the service; it never reaches outside guest RAM. */
START_TEST(broken_ring_stops_serving)
{
	struct fixture *f = setup(1, ALL_CTRL);
	struct vq_buf outside[] = {{RAM_SIZE - 8, 64, false}};
	uint32_t id, len;

	ck_assert_int_eq(f->dev.spec.ops->local_start(&f->dev, false), 0);
	test_vq_add(&f->drv, outside, 1);
	test_vq_kick(&f->drv);
	run_loop(f);
	run_loop(f);
	ck_assert_int_eq(test_vq_wait_used(&f->drv, 0, &id, &len), -ETIMEDOUT);
	teardown(f);
}
END_TEST

static Suite *net_suite(void)
{
	Suite *s = suite_create("vhost_user_net");
	TCase *tc = tcase_create("ctrl");

	tcase_add_test(tc, layout_follows_pairs_and_mq);
	tcase_add_test(tc, rx_commands_are_accepted);
	tcase_add_test(tc, mac_commands_are_kept);
	tcase_add_test(tc, malformed_and_unknown_get_err);
	tcase_add_test(tc, pairs_set_enables_exactly_the_pairs);
	tcase_add_test(tc, pairs_set_starts_rings_first_used);
	tcase_add_test(tc, pairs_set_out_of_range_changes_nothing);
	tcase_add_test(tc, refused_enable_fails_the_device);
	tcase_add_test(tc, served_on_the_loop_while_started);
	tcase_add_test(tc, broken_ring_stops_serving);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(net_suite)
