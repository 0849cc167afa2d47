/* The driver side of a split virtqueue in memfd guest memory, for tools and tests that act as the
 * guest (no KVM). */
#ifndef VIRTIO_VQ_DRIVER_H
#define VIRTIO_VQ_DRIVER_H

#include <stdbool.h>
#include <stdint.h>

#include "vhost_user/frontend.h"
#include "vmm/memory.h"

struct vq_buf {
	uint64_t gpa;
	uint32_t len;
	bool device_writes;
};

struct test_vq {
	const struct guest_memory *mem;
	uint16_t size;
	uint64_t desc_gpa, avail_gpa, used_gpa;
	uint16_t avail_idx; /* next index the driver publishes */
	uint16_t used_seen; /* used entries consumed so far */
	uint16_t next_desc; /* descriptors are handed out round-robin */
	int kick_fd, call_fd;
	unsigned calls; /* call eventfd signals observed */
};

/* Lays the rings out at ring_gpa (three 4 KiB-aligned parts) and opens the eventfds. */
int test_vq_init(struct test_vq *vq, const struct guest_memory *mem, uint64_t ring_gpa,
		 uint16_t size);
void test_vq_destroy(struct test_vq *vq);

/* The frontend's view of this ring, starting at base. */
struct vhost_user_vring test_vq_ring(const struct test_vq *vq, uint16_t base);

/* Publishes one descriptor chain; returns its head or -ENOSPC. */
int test_vq_add(struct test_vq *vq, const struct vq_buf *bufs, unsigned n);
/* Publishes without kicking (for posting several buffers). */
void test_vq_kick(struct test_vq *vq);

/*
 * Waits up to timeout_ms for the next used entry; returns 0 and its id and
 * len, or -ETIMEDOUT.
 */
int test_vq_wait_used(struct test_vq *vq, int timeout_ms, uint32_t *id, uint32_t *len);

/*
 * Waits up to timeout_ms for the call eventfd to count past calls: a
 * back-end publishes the used entry before it signals, so the signal may
 * come just after test_vq_wait_used returned. True when it came.
 */
bool test_vq_wait_call(struct test_vq *vq, unsigned calls, int timeout_ms);

#endif
