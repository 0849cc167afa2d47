/*
 * Split virtqueues for devices the VMM serves itself: pops descriptor chains
 * with every guest address and length checked, and publishes used buffers
 * with the barriers the driver relies on. A malformed ring marks the queue
 * broken; it never touches memory outside guest RAM.
 */
#ifndef VIRTIO_VIRTQUEUE_H
#define VIRTIO_VIRTQUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct guest_memory;
struct log_ratelimit;

#define VIRTQ_MAX_SIZE 32768
#define VIRTQ_MAX_BUFS 256	/* buffers in one chain, indirect ones included */
#define VIRTQ_MAX_INDIRECT 4096 /* entries in one indirect table */

#define VIRTQ_DESC_F_NEXT 1
#define VIRTQ_DESC_F_WRITE 2
#define VIRTQ_DESC_F_INDIRECT 4

struct virtq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct virtq_avail {
	uint16_t flags;
	uint16_t idx;
	uint16_t ring[]; /* size entries, then used_event */
};

struct virtq_used_elem {
	uint32_t id;
	uint32_t len;
};

struct virtq_used {
	uint16_t flags;
	uint16_t idx;
	struct virtq_used_elem ring[]; /* size entries, then avail_event */
};

struct virtq {
	const struct guest_memory *mem;
	uint16_t size;
	bool event_idx;
	bool broken;
	struct virtq_desc *desc;
	struct virtq_avail *avail;
	struct virtq_used *used;
	uint16_t last_avail_idx; /* next avail entry to pop */
	uint16_t used_idx;	 /* our copy of used->idx */
	uint16_t signalled_used; /* used_idx at the last interrupt */
	bool signalled_valid;
	struct log_ratelimit *rl; /* limits the malformed-ring line; see virtq_set_ratelimit */
};

/* One guest buffer of a chain, already translated to host memory. */
struct virtq_buf {
	void *host;
	uint32_t len;
	bool writable;
};

struct virtq_chain {
	uint16_t head;
	unsigned nbufs;
	uint64_t readable_len; /* sum over the device-readable buffers */
	uint64_t writable_len;
	struct virtq_buf bufs[VIRTQ_MAX_BUFS];
};

/*
 * Of a ring someone else serves (a vhost-user back-end): whether its
 * recent completions came in the order the driver made the buffers
 * available, used[i].id == avail[i] for every index i the two rings still
 * both hold (at most size back from used->idx, and not past what avail
 * has overwritten). Only then is everything before used->idx complete and
 * everything after it not, so a new back-end may restart the ring there.
 * Returns 1 (in order), 0 (not: *at is the first index where they differ,
 * *used_head and *avail_head what each holds there) or -EINVAL (a ring
 * outside guest memory).
 */
int virtq_completed_in_order(const struct guest_memory *mem, uint16_t size, uint64_t avail,
			     uint64_t used, uint16_t *at, uint16_t *used_head,
			     uint16_t *avail_head);

/*
 * Validates and maps a ring: size a power of two <= VIRTQ_MAX_SIZE, the
 * three areas aligned (16, 2, 4) and entirely inside guest RAM.
 * event_idx: VIRTIO_F_RING_EVENT_IDX was negotiated. Returns 0 or -EINVAL.
 */
int virtq_init(struct virtq *vq, const struct guest_memory *mem, uint16_t size, uint64_t desc,
	       uint64_t avail, uint64_t used, bool event_idx);

/*
 * Makes the "malformed ring" line go through rl, which outlives the queue
 * (the device's own limiter): a guest that breaks, resets and re-inits a
 * ring in a loop gets a bounded number of lines. Call after each
 * virtq_init, which clears it; without it the line is logged once per init.
 */
void virtq_set_ratelimit(struct virtq *vq, struct log_ratelimit *rl);

/*
 * Takes the next available chain. Returns 1 with chain filled, 0 when the
 * ring is empty, -EIO when the guest's ring is malformed (the queue is then
 * broken and every later call returns -EIO). Zero-length buffers are
 * skipped; device-readable buffers after writable ones, out-of-RAM buffers,
 * loops, nested indirect tables and over-long chains are errors.
 */
int virtq_pop(struct virtq *vq, struct virtq_chain *chain);

/*
 * Asks the driver to kick for everything after what was taken: clears the
 * used ring's NO_NOTIFY flag and, with EVENT_IDX, sets avail_event. For a
 * device taking over a ring someone else served (and may have silenced).
 */
void virtq_want_kicks(struct virtq *vq);

/* Returns chain head to the driver with written bytes; -EIO if broken. */
int virtq_push(struct virtq *vq, uint16_t head, uint32_t written);

/*
 * Whether the driver wants an interrupt for what was pushed since the last
 * call that returned true (VIRTQ_AVAIL_F_NO_INTERRUPT or used_event).
 */
bool virtq_should_notify(struct virtq *vq);

/*
 * Copies len bytes from the start of the chain's device-readable part, across
 * buffers. Returns 0, or -EINVAL when that part is shorter (dst then partly written).
 */
int virtq_chain_read(const struct virtq_chain *chain, void *dst, size_t len);
/*
 * Copies len bytes to the start of the chain's device-writable part, across
 * buffers. Returns 0, or -ENOSPC (nothing written) when that part is shorter.
 */
int virtq_chain_write(const struct virtq_chain *chain, const void *src, size_t len);

#endif
