/* Unit tests for the INFLIGHT_SHMFD region: its layout, the reply checks, the resubmission order.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "tests/unit/check_main.h"
#include "vhost_user/inflight.h"

#define QSIZE 8
/* One queue's region as a back-end lays it out: 64-byte aligned (libvhost-user, DPDK). */
#define STRIDE 192

static uint8_t region[2 * STRIDE];

/* Writes the spec's byte layout directly, not through our structs. */
static void put_queue(unsigned q, uint16_t version, uint16_t desc_num, uint16_t last_batch_head,
		      uint16_t used_idx)
{
	uint8_t *base = region + q * STRIDE;

	memcpy(base + 8, &version, 2);
	memcpy(base + 10, &desc_num, 2);
	memcpy(base + 12, &last_batch_head, 2);
	memcpy(base + 14, &used_idx, 2);
}

static void put_desc(unsigned q, unsigned head, uint8_t inflight, uint64_t counter)
{
	uint8_t *entry = region + q * STRIDE + 16 + head * 16;

	entry[0] = inflight;
	memcpy(entry + 8, &counter, 8);
}

static const struct vhost_user_inflight_queue *queue(unsigned q)
{
	return vhost_user_inflight_queue_at(region, sizeof(region), 2, q);
}

static void setup(void)
{
	memset(region, 0, sizeof(region));
}

START_TEST(layout_matches_the_spec)
{
	put_queue(1, 1, QSIZE, 5, 42);
	put_desc(1, 3, 1, 0x1122334455667788ull);
	ck_assert_ptr_eq(queue(1), (const void *)(region + STRIDE));
	ck_assert_uint_eq(queue(1)->version, 1);
	ck_assert_uint_eq(queue(1)->desc_num, QSIZE);
	ck_assert_uint_eq(queue(1)->last_batch_head, 5);
	ck_assert_uint_eq(queue(1)->used_idx, 42);
	ck_assert_uint_eq(queue(1)->desc[3].inflight, 1);
	ck_assert_uint_eq(queue(1)->desc[3].counter, 0x1122334455667788ull);
	ck_assert_ptr_null(vhost_user_inflight_queue_at(region, sizeof(region), 2, 2));
	ck_assert_uint_eq(vhost_user_inflight_min_size(2, 128), 2 * (16 + 128 * 16));
}
END_TEST

START_TEST(reply_checked_against_queues_and_fd)
{
	struct vhost_user_inflight r = {.mmap_size = 2 * 2112};
	const char *field;

	ck_assert_int_eq(vhost_user_inflight_check(&r, 2, 128, 2 * 2112, &field), 0);
	ck_assert_ptr_null(field);
	r.mmap_size = 2 * (16 + 128 * 16) - 1;
	ck_assert_int_eq(vhost_user_inflight_check(&r, 2, 128, 1 << 20, &field), -EPROTO);
	ck_assert_str_eq(field, "mmap_size (too small for the queues)");
	r.mmap_size = 4096;
	r.mmap_offset = 4096;
	ck_assert_int_eq(vhost_user_inflight_check(&r, 1, 128, 8191, &field), -EPROTO);
	ck_assert_str_eq(field, "mmap_offset + mmap_size (past the end of the fd)");
	r.mmap_offset = UINT64_MAX - 100; /* no wrap-around past the check */
	ck_assert_int_eq(vhost_user_inflight_check(&r, 1, 128, 8192, &field), -EPROTO);
	r.mmap_offset = 0;
	r.mmap_size = VHOST_USER_INFLIGHT_MAX_SIZE + 1;
	ck_assert_int_eq(vhost_user_inflight_check(&r, 1, 128, UINT64_MAX, &field), -EPROTO);
	ck_assert_str_eq(field, "mmap_size (over 1 GiB)");
}
END_TEST

/* Taken as 6, 1, 4, 2; 1 completed: 6, 4, 2 resubmit in the order they were taken. */
START_TEST(resubmits_oldest_first)
{
	uint16_t heads[QSIZE];

	put_queue(0, 1, QSIZE, 1, 1);
	put_desc(0, 6, 1, 10);
	put_desc(0, 1, 0, 11);
	put_desc(0, 4, 1, 12);
	put_desc(0, 2, 1, 13);
	ck_assert_uint_eq(vhost_user_inflight_pending(queue(0), STRIDE, QSIZE, 1, heads, QSIZE), 3);
	ck_assert_uint_eq(heads[0], 6);
	ck_assert_uint_eq(heads[1], 4);
	ck_assert_uint_eq(heads[2], 2);
	/* Fewer slots than requests: the count stays whole, the oldest come first. */
	ck_assert_uint_eq(vhost_user_inflight_pending(queue(0), STRIDE, QSIZE, 1, heads, 1), 3);
	ck_assert_uint_eq(heads[0], 6);
}
END_TEST

/*
 * The back-end died after publishing a completion (used index 5 in the
 * ring) and before clearing its entry (the region still says 4): the last
 * batch's head was completed and is not resubmitted. Had the used index
 * not moved, it would be.
 */
START_TEST(last_batch_head_completed_when_used_index_moved)
{
	uint16_t heads[QSIZE];

	put_queue(0, 1, QSIZE, 3, 4);
	put_desc(0, 3, 1, 20);
	put_desc(0, 5, 1, 21);
	ck_assert_uint_eq(vhost_user_inflight_pending(queue(0), STRIDE, QSIZE, 5, heads, QSIZE), 1);
	ck_assert_uint_eq(heads[0], 5);
	ck_assert_uint_eq(vhost_user_inflight_pending(queue(0), STRIDE, QSIZE, 4, heads, QSIZE), 2);
	ck_assert_uint_eq(heads[0], 3);
	ck_assert_uint_eq(heads[1], 5);
}
END_TEST

/* A region no back-end initialised, or one whose header lies about its size. */
START_TEST(untrusted_header_bounded)
{
	uint16_t heads[QSIZE];

	put_desc(0, 0, 1, 1);
	ck_assert_uint_eq(vhost_user_inflight_pending(queue(0), STRIDE, QSIZE, 0, heads, QSIZE), 0);
	/* desc_num past the queue and the stride: only the queue's entries count. */
	put_queue(0, 1, 60000, 0, 0);
	put_desc(1, 0, 1, 2); /* queue 1's first entry, where queue 0's 11th would be */
	ck_assert_uint_eq(vhost_user_inflight_pending(queue(0), STRIDE, QSIZE, 0, heads, QSIZE), 1);
	/* A stride smaller than the queue: only what fits. */
	put_desc(0, 7, 1, 3);
	ck_assert_uint_eq(
	    vhost_user_inflight_pending(queue(0), 16 + 4 * 16, QSIZE, 0, heads, QSIZE), 1);
	ck_assert_uint_eq(vhost_user_inflight_pending(queue(0), STRIDE, QSIZE, 0, heads, QSIZE), 2);
	ck_assert_uint_eq(vhost_user_inflight_pending(NULL, STRIDE, QSIZE, 0, heads, QSIZE), 0);
}
END_TEST

static Suite *inflight_suite(void)
{
	Suite *s = suite_create("vhost_user_inflight");
	TCase *tc = tcase_create("inflight");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, layout_matches_the_spec);
	tcase_add_test(tc, reply_checked_against_queues_and_fd);
	tcase_add_test(tc, resubmits_oldest_first);
	tcase_add_test(tc, last_batch_head_completed_when_used_index_moved);
	tcase_add_test(tc, untrusted_header_bounded);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(inflight_suite)
