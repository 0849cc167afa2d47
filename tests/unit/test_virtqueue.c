/* Unit tests for the split virtqueue: chain walking against malicious descriptors. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tests/lib/fds.h"
#include "tests/unit/check_main.h"
#include "virtio/virtqueue.h"
#include "vmm/log.h"
#include "vmm/memory.h"

#define RAM_SIZE (1u << 20)
#define QSIZE 8
#define DESC 0x1000
#define AVAIL 0x2000
#define USED 0x3000
#define INDIRECT 0x4000
#define DATA 0x10000

struct fixture {
	struct guest_memory mem;
	struct virtq vq;
	struct virtq_chain chain;
	uint8_t *ram;
};

static struct fixture *setup_vq(bool event_idx)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct ram_range ram = {0, RAM_SIZE};

	ck_assert_int_eq(guest_memory_init(&f->mem, &ram, 1), 0);
	f->ram = guest_memory_ptr(&f->mem, 0, RAM_SIZE);
	ck_assert_int_eq(virtq_init(&f->vq, &f->mem, QSIZE, DESC, AVAIL, USED, event_idx), 0);
	return f;
}

static struct fixture *setup(void)
{
	return setup_vq(false);
}

static void teardown(struct fixture *f)
{
	guest_memory_destroy(&f->mem);
	free(f);
}

static void set_desc(struct fixture *f, uint64_t table, unsigned i, uint64_t addr, uint32_t len,
		     uint16_t flags, uint16_t next)
{
	struct virtq_desc d = {addr, len, flags, next};

	memcpy(f->ram + table + i * sizeof(d), &d, sizeof(d));
}

/* Makes head the next available entry. */
static void offer(struct fixture *f, uint16_t head)
{
	struct virtq_avail *avail = (void *)(f->ram + AVAIL);

	avail->ring[avail->idx % QSIZE] = head;
	avail->idx++;
}

static struct virtq_used *used(struct fixture *f)
{
	return (void *)(f->ram + USED);
}

START_TEST(init_validates_rings)
{
	struct fixture *f = setup();
	struct virtq vq;

	ck_assert_int_eq(virtq_init(&vq, &f->mem, 0, DESC, AVAIL, USED, false), -EINVAL);
	ck_assert_int_eq(virtq_init(&vq, &f->mem, 6, DESC, AVAIL, USED, false), -EINVAL);
	ck_assert_int_eq(virtq_init(&vq, &f->mem, 8, DESC + 8, AVAIL, USED, false), -EINVAL);
	ck_assert_int_eq(virtq_init(&vq, &f->mem, 8, DESC, AVAIL + 1, USED, false), -EINVAL);
	ck_assert_int_eq(virtq_init(&vq, &f->mem, 8, DESC, AVAIL, USED + 2, false), -EINVAL);
	ck_assert_int_eq(virtq_init(&vq, &f->mem, 8, RAM_SIZE - 64, AVAIL, USED, false), -EINVAL);
	ck_assert_int_eq(virtq_init(&vq, &f->mem, 8, DESC, AVAIL, RAM_SIZE - 16, false), -EINVAL);
	ck_assert_int_eq(virtq_init(&vq, &f->mem, 8, DESC, AVAIL, 0xfffffffffffffff0ull, false),
			 -EINVAL);
	teardown(f);
}
END_TEST

START_TEST(walks_a_good_chain_and_pushes)
{
	struct fixture *f = setup();

	ck_assert_int_eq(virtq_pop(&f->vq, &f->chain), 0);
	set_desc(f, DESC, 3, DATA, 100, VIRTQ_DESC_F_NEXT, 5);
	set_desc(f, DESC, 5, DATA + 0x1000, 4096, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
	set_desc(f, DESC, 1, DATA + 0x3000, 8, VIRTQ_DESC_F_WRITE, 0);
	offer(f, 3);
	ck_assert_int_eq(virtq_pop(&f->vq, &f->chain), 1);
	ck_assert_uint_eq(f->chain.head, 3);
	ck_assert_uint_eq(f->chain.nbufs, 3);
	ck_assert_ptr_eq(f->chain.bufs[0].host, f->ram + DATA);
	ck_assert(!f->chain.bufs[0].writable);
	ck_assert_ptr_eq(f->chain.bufs[1].host, f->ram + DATA + 0x1000);
	ck_assert(f->chain.bufs[2].writable);
	ck_assert_uint_eq(f->chain.readable_len, 100);
	ck_assert_uint_eq(f->chain.writable_len, 4104);
	ck_assert_int_eq(virtq_pop(&f->vq, &f->chain), 0);
	ck_assert_int_eq(virtq_push(&f->vq, 3, 77), 0);
	ck_assert_uint_eq(used(f)->idx, 1);
	ck_assert_uint_eq(used(f)->ring[0].id, 3);
	ck_assert_uint_eq(used(f)->ring[0].len, 77);
	/* The ring wraps: many rounds through a size-8 ring. */
	for (unsigned i = 0; i < 40; i++) {
		offer(f, 1);
		ck_assert_int_eq(virtq_pop(&f->vq, &f->chain), 1);
		ck_assert_int_eq(virtq_push(&f->vq, 1, i), 0);
	}
	ck_assert_uint_eq(used(f)->idx, 41);
	ck_assert_uint_eq(used(f)->ring[40 % QSIZE].len, 39);
	teardown(f);
}
END_TEST

/* Offers a one-descriptor chain at index 0 and expects the queue to break. */
static void expect_broken_single(uint64_t addr, uint32_t len)
{
	struct fixture *f = setup();

	set_desc(f, DESC, 0, addr, len, VIRTQ_DESC_F_WRITE, 0);
	offer(f, 0);
	ck_assert_int_eq(virtq_pop(&f->vq, &f->chain), -EIO);
	ck_assert(f->vq.broken);
	ck_assert_int_eq(virtq_pop(&f->vq, &f->chain), -EIO);
	ck_assert_int_eq(virtq_push(&f->vq, 0, 0), -EIO);
	ck_assert_uint_eq(used(f)->idx, 0);
	teardown(f);
}

START_TEST(out_of_range_addresses)
{
	expect_broken_single(RAM_SIZE, 1);
	expect_broken_single(RAM_SIZE - 1, 2);
	expect_broken_single(0xfffffffffffff000ull, 0x2000); /* wraps around */
	expect_broken_single(0x8000000000000000ull, 16);
}
END_TEST

START_TEST(huge_lengths)
{
	expect_broken_single(0, 0xffffffffu);
	expect_broken_single(DATA, RAM_SIZE);
}
END_TEST

START_TEST(zero_lengths_are_skipped)
{
	struct fixture *f = setup();

	set_desc(f, DESC, 0, DATA, 0, VIRTQ_DESC_F_NEXT, 1);
	set_desc(f, DESC, 1, 0xdeadbeef00000000ull, 0, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 2);
	set_desc(f, DESC, 2, DATA, 16, VIRTQ_DESC_F_WRITE, 0);
	offer(f, 0);
	ck_assert_int_eq(virtq_pop(&f->vq, &f->chain), 1);
	ck_assert_uint_eq(f->chain.nbufs, 1);
	ck_assert_uint_eq(f->chain.writable_len, 16);
	teardown(f);
}
END_TEST

START_TEST(loops_and_bad_indices)
{
	struct fixture *f = setup();

	/* 0 -> 1 -> 0 ... */
	set_desc(f, DESC, 0, DATA, 16, VIRTQ_DESC_F_NEXT, 1);
	set_desc(f, DESC, 1, DATA, 16, VIRTQ_DESC_F_NEXT, 0);
	offer(f, 0);
	ck_assert_int_eq(virtq_pop(&f->vq, &f->chain), -EIO);
	teardown(f);

	f = setup(); /* self-loop made of zero-length descriptors */
	set_desc(f, DESC, 4, DATA, 0, VIRTQ_DESC_F_NEXT, 4);
	offer(f, 4);
	ck_assert_int_eq(virtq_pop(&f->vq, &f->chain), -EIO);
	teardown(f);

	f = setup(); /* next past the table */
	set_desc(f, DESC, 0, DATA, 16, VIRTQ_DESC_F_NEXT, QSIZE);
	offer(f, 0);
	ck_assert_int_eq(virtq_pop(&f->vq, &f->chain), -EIO);
	teardown(f);

	f = setup(); /* head past the table */
	offer(f, 0xffff);
	ck_assert_int_eq(virtq_pop(&f->vq, &f->chain), -EIO);
	teardown(f);

	f = setup(); /* avail idx claims more entries than the ring has */
	((struct virtq_avail *)(f->ram + AVAIL))->idx = QSIZE + 1;
	ck_assert_int_eq(virtq_pop(&f->vq, &f->chain), -EIO);
	teardown(f);

	f = setup(); /* readable after writable */
	set_desc(f, DESC, 0, DATA, 16, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 1);
	set_desc(f, DESC, 1, DATA, 16, 0, 0);
	offer(f, 0);
	ck_assert_int_eq(virtq_pop(&f->vq, &f->chain), -EIO);
	teardown(f);
}
END_TEST

START_TEST(indirect_tables)
{
	struct fixture *f = setup();

	set_desc(f, INDIRECT, 0, DATA, 10, VIRTQ_DESC_F_NEXT, 2);
	set_desc(f, INDIRECT, 2, DATA + 0x100, 20, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
	set_desc(f, INDIRECT, 1, DATA + 0x200, 30, VIRTQ_DESC_F_WRITE, 0);
	set_desc(f, DESC, 0, DATA + 0x300, 5, VIRTQ_DESC_F_NEXT, 6);
	set_desc(f, DESC, 6, INDIRECT, 3 * 16, VIRTQ_DESC_F_INDIRECT, 0);
	offer(f, 0);
	ck_assert_int_eq(virtq_pop(&f->vq, &f->chain), 1);
	ck_assert_uint_eq(f->chain.nbufs, 4);
	ck_assert_uint_eq(f->chain.readable_len, 15);
	ck_assert_uint_eq(f->chain.writable_len, 50);
	ck_assert_ptr_eq(f->chain.bufs[3].host, f->ram + DATA + 0x200);
	teardown(f);
}
END_TEST

/* An indirect descriptor at DESC[0] pointing at table/len, expected to break the queue. */
static void expect_bad_indirect(uint64_t table, uint32_t len, uint16_t flags,
				void (*fill)(struct fixture *))
{
	struct fixture *f = setup();

	if (fill)
		fill(f);
	set_desc(f, DESC, 0, table, len, VIRTQ_DESC_F_INDIRECT | flags, 1);
	set_desc(f, DESC, 1, DATA, 16, VIRTQ_DESC_F_WRITE, 0);
	offer(f, 0);
	ck_assert_int_eq(virtq_pop(&f->vq, &f->chain), -EIO);
	ck_assert(f->vq.broken);
	teardown(f);
}

static void fill_nested(struct fixture *f)
{
	set_desc(f, INDIRECT, 0, DATA, 16, VIRTQ_DESC_F_NEXT, 1);
	set_desc(f, INDIRECT, 1, INDIRECT, 32, VIRTQ_DESC_F_INDIRECT, 0);
}

static void fill_loop(struct fixture *f)
{
	set_desc(f, INDIRECT, 0, DATA, 16, VIRTQ_DESC_F_NEXT, 1);
	set_desc(f, INDIRECT, 1, DATA, 16, VIRTQ_DESC_F_NEXT, 0);
}

static void fill_next_out_of_table(struct fixture *f)
{
	set_desc(f, INDIRECT, 0, DATA, 16, VIRTQ_DESC_F_NEXT, 2);
}

static void fill_bad_buffer(struct fixture *f)
{
	set_desc(f, INDIRECT, 0, RAM_SIZE - 8, 16, 0, 0);
}

static void fill_too_many(struct fixture *f)
{
	unsigned i;

	for (i = 0; i < 300; i++)
		set_desc(f, INDIRECT, i, DATA, 1, i < 299 ? VIRTQ_DESC_F_NEXT : 0,
			 (uint16_t)(i + 1));
}

START_TEST(malicious_indirect_tables)
{
	expect_bad_indirect(INDIRECT, 32, 0, fill_nested);
	expect_bad_indirect(INDIRECT, 32, 0, fill_loop);
	expect_bad_indirect(INDIRECT, 16, 0, fill_next_out_of_table);
	expect_bad_indirect(INDIRECT, 16, 0, fill_bad_buffer);
	expect_bad_indirect(INDIRECT, 300 * 16, 0, fill_too_many);
	expect_bad_indirect(INDIRECT, 0, 0, NULL);
	expect_bad_indirect(INDIRECT, 24, 0, NULL);			 /* not whole descriptors */
	expect_bad_indirect(INDIRECT, 0xfffffff0u, 0, NULL);		 /* huge */
	expect_bad_indirect(RAM_SIZE - 16, 32, 0, NULL);		 /* table leaves RAM */
	expect_bad_indirect(INDIRECT, 32, VIRTQ_DESC_F_NEXT, fill_loop); /* INDIRECT|NEXT */
}
END_TEST

START_TEST(notification_suppression)
{
	struct fixture *f = setup();
	struct virtq_avail *avail = (void *)(f->ram + AVAIL);

	set_desc(f, DESC, 0, DATA, 16, VIRTQ_DESC_F_WRITE, 0);
	offer(f, 0);
	ck_assert_int_eq(virtq_pop(&f->vq, &f->chain), 1);
	virtq_push(&f->vq, 0, 16);
	ck_assert(virtq_should_notify(&f->vq));
	ck_assert(!virtq_should_notify(&f->vq)); /* nothing new since */
	avail->flags = 1;			 /* VIRTQ_AVAIL_F_NO_INTERRUPT */
	offer(f, 0);
	ck_assert_int_eq(virtq_pop(&f->vq, &f->chain), 1);
	virtq_push(&f->vq, 0, 16);
	ck_assert(!virtq_should_notify(&f->vq));
	teardown(f);

	f = setup_vq(true);
	avail = (void *)(f->ram + AVAIL);
	set_desc(f, DESC, 0, DATA, 16, VIRTQ_DESC_F_WRITE, 0);
	avail->ring[QSIZE] = 2; /* used_event: interrupt once used idx passes 2 */
	for (unsigned i = 1; i <= 4; i++) {
		offer(f, 0);
		ck_assert_int_eq(virtq_pop(&f->vq, &f->chain), 1);
		/* avail_event follows our position so the driver kicks for the next one. */
		uint16_t avail_event;
		memcpy(&avail_event, f->ram + USED + 4 + 8 * QSIZE, 2);
		ck_assert_uint_eq(avail_event, i);
		virtq_push(&f->vq, 0, 16);
		if (i == 1)
			ck_assert(virtq_should_notify(&f->vq)); /* first one always */
		else
			ck_assert_int_eq(virtq_should_notify(&f->vq), i == 3);
	}
	teardown(f);
}
END_TEST

/* Random rings: whatever the guest writes, every buffer handed out is inside RAM. */
START_TEST(random_rings_stay_inside_ram)
{
	struct fixture *f = setup();
	unsigned round, i, ok = 0;

	srandom(7);
	for (round = 0; round < 20000; round++) {
		for (i = 0; i < QSIZE; i++)
			set_desc(f, DESC, i,
				 random() % 4 ? (uint64_t)random() % RAM_SIZE
					      : (uint64_t)random() << 20,
				 random() % 3 ? (uint32_t)random() % 8192 : (uint32_t)random(),
				 (uint16_t)(random() % 8), (uint16_t)(random() % (QSIZE + 2)));
		for (i = 0; i < 64; i++)
			set_desc(f, INDIRECT, i, (uint64_t)random() % RAM_SIZE,
				 (uint32_t)random() % 4096, (uint16_t)(random() % 8),
				 (uint16_t)(random() % 66));
		ck_assert_int_eq(virtq_init(&f->vq, &f->mem, QSIZE, DESC, AVAIL, USED, false), 0);
		offer(f, (uint16_t)(random() % (QSIZE + 1)));
		if (virtq_pop(&f->vq, &f->chain) != 1)
			continue;
		ok++;
		for (i = 0; i < f->chain.nbufs; i++) {
			uint8_t *p = f->chain.bufs[i].host;
			ck_assert(p >= f->ram && p + f->chain.bufs[i].len <= f->ram + RAM_SIZE);
		}
		((struct virtq_avail *)(f->ram + AVAIL))->idx = 0;
	}
	ck_assert_uint_gt(ok, 0);
	teardown(f);
}
END_TEST

/* A guest that breaks its ring, resets and re-inits it, 1,000 times: a bounded number of lines. */
START_TEST(malformed_ring_lines_are_rate_limited)
{
	struct fixture *f = setup();
	struct log_ratelimit rl = {0};
	struct virtq_chain *chain = &f->chain;
	int saved = test_stderr_begin(), lines;

	ck_assert_int_ge(saved, 0);
	for (int i = 0; i < 1000; i++) {
		ck_assert_int_eq(virtq_init(&f->vq, &f->mem, QSIZE, DESC, AVAIL, USED, false), 0);
		virtq_set_ratelimit(&f->vq, &rl);
		set_desc(f, DESC, 0, RAM_SIZE - 8, 64, 0, 0); /* runs off the end of RAM */
		offer(f, 0);
		ck_assert_int_eq(virtq_pop(&f->vq, chain), -EIO);
	}
	lines = test_stderr_end(saved);
	ck_assert_msg(lines >= 1 && lines <= LOG_RATELIMIT_BURST + 1, "%d lines", lines);
	teardown(f);
}
END_TEST

/* Writes used entry i (index mod QSIZE) and publishes used->idx = i + 1. */
static void complete_at(struct fixture *f, uint16_t i, uint16_t head)
{
	struct virtq_used *u = used(f);

	u->ring[i % QSIZE].id = head;
	u->idx = (uint16_t)(i + 1);
}

/* A back-end's completion order, judged from the rings alone (reconnect without INFLIGHT_SHMFD). */
START_TEST(completion_order_judged_from_the_rings)
{
	struct fixture *f = setup();
	uint16_t at, used_head, avail_head;

	/* Offered 3, 5, 1, 6; completed 3, 5 in order: a restart at 2 is exact. */
	offer(f, 3);
	offer(f, 5);
	offer(f, 1);
	offer(f, 6);
	complete_at(f, 0, 3);
	complete_at(f, 1, 5);
	ck_assert_int_eq(
	    virtq_completed_in_order(&f->mem, QSIZE, AVAIL, USED, &at, &used_head, &avail_head), 1);
	/* Then 6 before 1: index 2 holds 6 where avail holds 1. */
	complete_at(f, 2, 6);
	ck_assert_int_eq(
	    virtq_completed_in_order(&f->mem, QSIZE, AVAIL, USED, &at, &used_head, &avail_head), 0);
	ck_assert_uint_eq(at, 2);
	ck_assert_uint_eq(used_head, 6);
	ck_assert_uint_eq(avail_head, 1);
	/* A ring outside guest memory is refused. */
	ck_assert_int_eq(
	    virtq_completed_in_order(&f->mem, QSIZE, RAM_SIZE, USED, &at, &used_head, &avail_head),
	    -EINVAL);
	teardown(f);
}
END_TEST

/* Past the window both rings hold, an old disorder no longer counts. */
START_TEST(completion_order_window_follows_the_rings)
{
	struct fixture *f = setup();
	uint16_t at, used_head, avail_head, i;

	/* Out of order at the start, then QSIZE + 2 completions in order. */
	offer(f, 0);
	offer(f, 1);
	complete_at(f, 0, 1);
	complete_at(f, 1, 0);
	ck_assert_int_eq(
	    virtq_completed_in_order(&f->mem, QSIZE, AVAIL, USED, &at, &used_head, &avail_head), 0);
	for (i = 2; i < QSIZE + 4; i++) {
		offer(f, (uint16_t)(i % QSIZE));
		complete_at(f, i, (uint16_t)(i % QSIZE));
	}
	ck_assert_int_eq(
	    virtq_completed_in_order(&f->mem, QSIZE, AVAIL, USED, &at, &used_head, &avail_head), 1);
	teardown(f);
}
END_TEST

static Suite *virtqueue_suite(void)
{
	Suite *s = suite_create("virtqueue");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, init_validates_rings);
	tcase_add_test(tc, walks_a_good_chain_and_pushes);
	tcase_add_test(tc, out_of_range_addresses);
	tcase_add_test(tc, huge_lengths);
	tcase_add_test(tc, zero_lengths_are_skipped);
	tcase_add_test(tc, loops_and_bad_indices);
	tcase_add_test(tc, indirect_tables);
	tcase_add_test(tc, malicious_indirect_tables);
	tcase_add_test(tc, notification_suppression);
	tcase_add_test(tc, random_rings_stay_inside_ram);
	tcase_add_test(tc, malformed_ring_lines_are_rate_limited);
	tcase_add_test(tc, completion_order_judged_from_the_rings);
	tcase_add_test(tc, completion_order_window_follows_the_rings);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(virtqueue_suite)
