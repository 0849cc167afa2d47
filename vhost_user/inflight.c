/* The INFLIGHT_SHMFD region's layout: checks and the resubmission order (inflight.h). */
#include "vhost_user/inflight.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

_Static_assert(sizeof(struct vhost_user_inflight_desc) == 16, "DescStateSplit is 16 bytes");
_Static_assert(offsetof(struct vhost_user_inflight_desc, counter) == 8, "counter at byte 8");
_Static_assert(offsetof(struct vhost_user_inflight_queue, desc) == 16, "desc[] at byte 16");

static uint64_t queue_min_size(uint16_t queue_size)
{
	return sizeof(struct vhost_user_inflight_queue) +
	       (uint64_t)queue_size * sizeof(struct vhost_user_inflight_desc);
}

uint64_t vhost_user_inflight_min_size(uint16_t num_queues, uint16_t queue_size)
{
	return (uint64_t)num_queues * queue_min_size(queue_size);
}

int vhost_user_inflight_check(const struct vhost_user_inflight *reply, uint16_t num_queues,
			      uint16_t queue_size, uint64_t fd_size, const char **field)
{
	*field = NULL;
	if (reply->mmap_size < vhost_user_inflight_min_size(num_queues, queue_size))
		*field = "mmap_size (too small for the queues)";
	else if (reply->mmap_size > VHOST_USER_INFLIGHT_MAX_SIZE)
		*field = "mmap_size (over 1 GiB)";
	else if (reply->mmap_offset > fd_size || reply->mmap_size > fd_size - reply->mmap_offset)
		*field = "mmap_offset + mmap_size (past the end of the fd)";
	return *field ? -EPROTO : 0;
}

const struct vhost_user_inflight_queue *vhost_user_inflight_queue_at(const void *region,
								     uint64_t mmap_size,
								     uint16_t num_queues,
								     unsigned q)
{
	if (!region || !num_queues || q >= num_queues)
		return NULL;
	return (const void *)((const uint8_t *)region + q * (mmap_size / num_queues));
}

struct pending_entry {
	uint64_t counter;
	uint16_t head;
};

static int by_counter(const void *a, const void *b)
{
	const struct pending_entry *x = a, *y = b;

	if (x->counter != y->counter)
		return x->counter < y->counter ? -1 : 1;
	return x->head < y->head ? -1 : x->head > y->head;
}

/* Entries the region can hold: no more than its header says, the queue has, or its stride fits. */
static unsigned usable_entries(const struct vhost_user_inflight_queue *qr, uint64_t stride,
			       uint16_t queue_size)
{
	uint64_t fit = stride < sizeof(*qr) ? 0 : (stride - sizeof(*qr)) / sizeof(qr->desc[0]);
	unsigned n = qr->desc_num < queue_size ? qr->desc_num : queue_size;

	return n < fit ? n : (unsigned)fit;
}

unsigned vhost_user_inflight_pending(const struct vhost_user_inflight_queue *qr, uint64_t stride,
				     uint16_t queue_size, uint16_t ring_used_idx, uint16_t *heads,
				     unsigned max)
{
	struct pending_entry *list;
	unsigned n, count = 0;
	bool skip_last;

	if (!qr || !qr->version)
		return 0;
	n = usable_entries(qr, stride, queue_size);
	list = calloc(n ? n : 1, sizeof(*list));
	if (!list)
		return 0;
	skip_last = qr->used_idx != ring_used_idx;
	for (unsigned i = 0; i < n; i++) {
		if (qr->desc[i].inflight != 1 || (skip_last && i == qr->last_batch_head))
			continue;
		list[count].counter = qr->desc[i].counter;
		list[count].head = (uint16_t)i;
		count++;
	}
	qsort(list, count, sizeof(*list), by_counter);
	for (unsigned i = 0; i < count && i < max; i++)
		heads[i] = list[i].head;
	free(list);
	return count;
}
