/* Split-virtqueue chain walking with bounds checks, and used-ring updates. */
#include "virtio/virtqueue.h"

#include <endian.h>
#include <errno.h>
#include <string.h>

#include "vmm/log.h"
#include "vmm/memory.h"

#define AVAIL_F_NO_INTERRUPT 1

int virtq_init(struct virtq *vq, const struct guest_memory *mem, uint16_t size, uint64_t desc,
	       uint64_t avail, uint64_t used, bool event_idx)
{
	memset(vq, 0, sizeof(*vq));
	if (size == 0 || size & (size - 1) || size > VIRTQ_MAX_SIZE)
		return -EINVAL;
	if (desc % 16 || avail % 2 || used % 4)
		return -EINVAL;
	vq->mem = mem;
	vq->size = size;
	vq->event_idx = event_idx;
	vq->desc = guest_memory_ptr(mem, desc, (uint64_t)size * sizeof(struct virtq_desc));
	vq->avail = guest_memory_ptr(mem, avail, 6 + 2ull * size);
	vq->used = guest_memory_ptr(mem, used, 6 + 8ull * size);
	if (!vq->desc || !vq->avail || !vq->used)
		return -EINVAL;
	return 0;
}

void virtq_set_ratelimit(struct virtq *vq, struct log_ratelimit *rl)
{
	vq->rl = rl;
}

static int fail(struct virtq *vq, const char *why)
{
	/* Once per queue (the queue then ignores the guest), and rate-limited across inits. */
	if (!vq->broken && (!vq->rl || log_ratelimit_allow(vq->rl, LOG_RATELIMIT_BURST)))
		log_warn("virtq", "malformed ring: %s; queue stopped", why);
	vq->broken = true;
	return -EIO;
}

/* One descriptor, copied once so the guest cannot change it under us. */
static struct virtq_desc read_desc(const struct virtq_desc *table, unsigned index)
{
	struct virtq_desc d;

	memcpy(&d, (const void *)&table[index], sizeof(d));
	d.addr = le64toh(d.addr);
	d.len = le32toh(d.len);
	d.flags = le16toh(d.flags);
	d.next = le16toh(d.next);
	return d;
}

static int add_buf(struct virtq *vq, struct virtq_chain *c, const struct virtq_desc *d)
{
	bool writable = d->flags & VIRTQ_DESC_F_WRITE;
	void *host;

	if (d->len == 0)
		return 0;
	if (!writable && c->writable_len)
		return fail(vq, "readable buffer after a writable one");
	if (c->nbufs == VIRTQ_MAX_BUFS)
		return fail(vq, "too many buffers in one chain");
	host = guest_memory_ptr(vq->mem, d->addr, d->len);
	if (!host)
		return fail(vq, "buffer outside guest RAM");
	c->bufs[c->nbufs++] = (struct virtq_buf){host, d->len, writable};
	if (writable)
		c->writable_len += d->len;
	else
		c->readable_len += d->len;
	return 0;
}

static int walk_indirect(struct virtq *vq, struct virtq_chain *c, const struct virtq_desc *d)
{
	const struct virtq_desc *table;
	unsigned n, index = 0, steps;
	int err;

	if (d->flags & VIRTQ_DESC_F_NEXT)
		return fail(vq, "indirect descriptor with NEXT");
	if (d->len == 0 || d->len % sizeof(struct virtq_desc) ||
	    d->len / sizeof(struct virtq_desc) > VIRTQ_MAX_INDIRECT)
		return fail(vq, "bad indirect table length");
	n = d->len / sizeof(struct virtq_desc);
	table = guest_memory_ptr(vq->mem, d->addr, d->len);
	if (!table)
		return fail(vq, "indirect table outside guest RAM");
	for (steps = 0;; steps++) {
		struct virtq_desc e;

		if (steps == n)
			return fail(vq, "loop in indirect table");
		e = read_desc(table, index);
		if (e.flags & VIRTQ_DESC_F_INDIRECT)
			return fail(vq, "indirect descriptor inside an indirect table");
		err = add_buf(vq, c, &e);
		if (err)
			return err;
		if (!(e.flags & VIRTQ_DESC_F_NEXT))
			return 0;
		if (e.next >= n)
			return fail(vq, "indirect next out of range");
		index = e.next;
	}
}

static int walk_chain(struct virtq *vq, struct virtq_chain *c, uint16_t head)
{
	unsigned index = head, steps;
	int err;

	for (steps = 0;; steps++) {
		struct virtq_desc d;

		if (steps == vq->size)
			return fail(vq, "descriptor chain loops");
		d = read_desc(vq->desc, index);
		if (d.flags & VIRTQ_DESC_F_INDIRECT)
			err = walk_indirect(vq, c, &d);
		else
			err = add_buf(vq, c, &d);
		if (err)
			return err;
		if (!(d.flags & VIRTQ_DESC_F_NEXT) || (d.flags & VIRTQ_DESC_F_INDIRECT))
			return 0;
		if (d.next >= vq->size)
			return fail(vq, "next index out of range");
		index = d.next;
	}
}

/* With EVENT_IDX, the avail index at which the driver kicks next: the one after ours. */
static void set_avail_event(struct virtq *vq)
{
	if (vq->event_idx) {
		uint16_t *avail_event = (uint16_t *)((char *)vq->used + 4 + 8 * vq->size);

		__atomic_store_n(avail_event, htole16(vq->last_avail_idx), __ATOMIC_RELAXED);
	}
}

int virtq_pop(struct virtq *vq, struct virtq_chain *chain)
{
	uint16_t avail_idx, head;

	if (vq->broken)
		return -EIO;
	/* Acquire: ring entries and descriptors are read after idx. */
	avail_idx = le16toh(__atomic_load_n(&vq->avail->idx, __ATOMIC_ACQUIRE));
	if (avail_idx == vq->last_avail_idx)
		return 0;
	if ((uint16_t)(avail_idx - vq->last_avail_idx) > vq->size)
		return fail(vq, "avail index ran ahead of the ring size");
	head = le16toh(
	    __atomic_load_n(&vq->avail->ring[vq->last_avail_idx % vq->size], __ATOMIC_RELAXED));
	if (head >= vq->size)
		return fail(vq, "head index out of range");
	chain->head = head;
	chain->nbufs = 0;
	chain->readable_len = chain->writable_len = 0;
	if (walk_chain(vq, chain, head))
		return -EIO;
	vq->last_avail_idx++;
	/* avail_event: kick us again as soon as anything new arrives. */
	set_avail_event(vq);
	return 1;
}

void virtq_want_kicks(struct virtq *vq)
{
	__atomic_store_n(&vq->used->flags, 0, __ATOMIC_RELAXED);
	set_avail_event(vq);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

int virtq_push(struct virtq *vq, uint16_t head, uint32_t written)
{
	struct virtq_used_elem *elem;

	if (vq->broken)
		return -EIO;
	elem = &vq->used->ring[vq->used_idx % vq->size];
	elem->id = htole32(head);
	elem->len = htole32(written);
	vq->used_idx++;
	/* Release: the element is visible before the index that publishes it. */
	__atomic_store_n(&vq->used->idx, htole16(vq->used_idx), __ATOMIC_RELEASE);
	return 0;
}

bool virtq_should_notify(struct virtq *vq)
{
	uint16_t old = vq->signalled_used, now = vq->used_idx, event;
	bool valid = vq->signalled_valid;

	if (vq->broken || (valid && now == old))
		return false;
	/* The used index store must be visible before we read the driver's wishes. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	vq->signalled_used = now;
	vq->signalled_valid = true;
	if (!vq->event_idx)
		return !(le16toh(__atomic_load_n(&vq->avail->flags, __ATOMIC_RELAXED)) &
			 AVAIL_F_NO_INTERRUPT);
	if (!valid)
		return true;
	event = le16toh(__atomic_load_n(&vq->avail->ring[vq->size], __ATOMIC_RELAXED));
	/* The driver wants an interrupt once used idx passes used_event. */
	return (uint16_t)(now - event - 1) < (uint16_t)(now - old);
}

/* The chain's buffers, never more than the array holds whatever nbufs says. */
static unsigned chain_bufs(const struct virtq_chain *c)
{
	return c->nbufs < VIRTQ_MAX_BUFS ? c->nbufs : VIRTQ_MAX_BUFS;
}

int virtq_chain_read(const struct virtq_chain *c, void *dst, size_t len)
{
	uint8_t *out = dst;
	size_t done = 0;

	for (unsigned i = 0; i < chain_bufs(c) && !c->bufs[i].writable && done < len; i++) {
		size_t take = c->bufs[i].len < len - done ? c->bufs[i].len : len - done;

		memcpy(out + done, c->bufs[i].host, take);
		done += take;
	}
	return done == len ? 0 : -EINVAL;
}

static uint64_t writable_bytes(const struct virtq_chain *c)
{
	uint64_t sum = 0;

	for (unsigned i = 0; i < chain_bufs(c); i++)
		sum += c->bufs[i].writable ? c->bufs[i].len : 0;
	return sum;
}

int virtq_chain_write(const struct virtq_chain *c, const void *src, size_t len)
{
	const uint8_t *in = src;
	size_t done = 0;

	if (writable_bytes(c) < len)
		return -ENOSPC;
	for (unsigned i = 0; i < chain_bufs(c) && done < len; i++) {
		size_t take;

		if (!c->bufs[i].writable)
			continue;
		take = c->bufs[i].len < len - done ? c->bufs[i].len : len - done;
		memcpy(c->bufs[i].host, in + done, take);
		done += take;
	}
	return 0;
}

/*
 * The first index both rings still hold: avail keeps its last size
 * entries, used as many. Early in a ring's life that reaches before index
 * 0, into entries never written, which read 0 on both sides and so match.
 */
static uint16_t order_window_start(uint16_t size, uint16_t used_idx, uint16_t avail_idx)
{
	uint16_t pending = (uint16_t)(avail_idx - used_idx);
	uint16_t back = pending >= size ? 0 : (uint16_t)(size - pending);

	return (uint16_t)(used_idx - back);
}

int virtq_completed_in_order(const struct guest_memory *mem, uint16_t size, uint64_t avail,
			     uint64_t used, uint16_t *at, uint16_t *used_head, uint16_t *avail_head)
{
	const struct virtq_avail *a = guest_memory_ptr(mem, avail, 6 + 2ull * size);
	const struct virtq_used *u = guest_memory_ptr(mem, used, 6 + 8ull * size);
	uint16_t used_idx, avail_idx, i;

	if (!a || !u || !size || size > VIRTQ_MAX_SIZE || (size & (size - 1)))
		return -EINVAL;
	used_idx = le16toh(__atomic_load_n(&u->idx, __ATOMIC_ACQUIRE));
	avail_idx = le16toh(__atomic_load_n(&a->idx, __ATOMIC_ACQUIRE));
	for (i = order_window_start(size, used_idx, avail_idx); i != used_idx; i++) {
		uint32_t id = le32toh(__atomic_load_n(&u->ring[i % size].id, __ATOMIC_RELAXED));
		uint16_t head = le16toh(__atomic_load_n(&a->ring[i % size], __ATOMIC_RELAXED));

		if (id != head) {
			*at = i;
			*used_head = (uint16_t)id;
			*avail_head = head;
			return 0;
		}
	}
	return 1;
}
