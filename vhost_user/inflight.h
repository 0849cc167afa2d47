/*
 * The in-flight tracking region of protocol feature INFLIGHT_SHMFD (QEMU
 * docs/interop/vhost-user.rst, "Inflight I/O tracking"), split rings only.
 *
 * The back-end allocates the region (GET_INFLIGHT_FD) and writes it; the
 * frontend keeps it for the device's life and hands it to every new
 * connection (SET_INFLIGHT_FD), so a restarted back-end can resubmit what
 * the old one had taken and not completed. The frontend only reads it:
 * to check the back-end's reply and to say, at a reconnect, which requests
 * the new back-end should resubmit and in what order.
 *
 * Layout: one region per queue, mmap_size / num_queues bytes apart (the
 * spec leaves the stride to the back-end; libvhost-user and DPDK both use
 * equal, 64-byte aligned regions), each a queue header then one
 * descriptor state per descriptor-table entry.
 */
#ifndef VHOST_USER_INFLIGHT_H
#define VHOST_USER_INFLIGHT_H

#include <stddef.h>
#include <stdint.h>

#include "vhost_user/wire.h"

struct vhost_user_inflight_desc {
	uint8_t inflight; /* 1: taken off the avail ring, not yet completed */
	uint8_t padding[5];
	uint16_t next;	  /* the next in the last batch of completions (packed rings) */
	uint64_t counter; /* order of taking: the oldest resubmits first */
};

struct vhost_user_inflight_queue {
	uint64_t features;	  /* the back-end's own, not the driver's */
	uint16_t version;	  /* 0 until a back-end initialised the region */
	uint16_t desc_num;	  /* entries in desc[] (the queue size) */
	uint16_t last_batch_head; /* the head completed last */
	uint16_t used_idx;	  /* the used index as the back-end last wrote it */
	struct vhost_user_inflight_desc desc[];
};

/* Regions larger than this are refused: 1024 queues of 32768 entries fit. */
#define VHOST_USER_INFLIGHT_MAX_SIZE (1ull << 30)

/* The smallest region that holds num_queues queues of queue_size entries. */
uint64_t vhost_user_inflight_min_size(uint16_t num_queues, uint16_t queue_size);

/*
 * Checks a GET_INFLIGHT_FD reply against the request (num_queues queues
 * of queue_size) and the size of the fd it came with (fd_size). Returns 0,
 * or -EPROTO with field naming what is wrong.
 */
int vhost_user_inflight_check(const struct vhost_user_inflight *reply, uint16_t num_queues,
			      uint16_t queue_size, uint64_t fd_size, const char **field);

/*
 * Queue q's region inside a mapped region of mmap_size bytes for
 * num_queues queues; NULL when q is out of range.
 */
const struct vhost_user_inflight_queue *vhost_user_inflight_queue_at(const void *region,
								     uint64_t mmap_size,
								     uint16_t num_queues,
								     unsigned q);

/*
 * The heads of the requests a back-end should resubmit on queue qr (whose
 * region is stride bytes) of queue_size entries, given the used index the
 * guest sees: every entry marked in flight, oldest first by counter, less
 * the last batch's head when the ring's used index moved past the one the
 * region recorded (it was completed and the back-end died before clearing
 * it). Writes at most max heads to heads and returns how many there are
 * (which may exceed max); 0 for a region no back-end initialised.
 */
unsigned vhost_user_inflight_pending(const struct vhost_user_inflight_queue *qr, uint64_t stride,
				     uint16_t queue_size, uint16_t ring_used_idx, uint16_t *heads,
				     unsigned max);

#endif
