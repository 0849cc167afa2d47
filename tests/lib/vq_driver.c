/* A minimal split-virtqueue driver: descriptor chains in, used entries out. */
#include "tests/lib/vq_driver.h"
#include "vmm/clock.h"

#include <errno.h>
#include <linux/virtio_ring.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

int test_vq_init(struct test_vq *vq, const struct guest_memory *mem, uint64_t ring_gpa,
		 uint16_t size)
{
	memset(vq, 0, sizeof(*vq));
	vq->mem = mem;
	vq->size = size;
	vq->desc_gpa = ring_gpa;
	vq->avail_gpa = ring_gpa + ((16u * size + 4095) & ~4095u);
	vq->used_gpa = vq->avail_gpa + ((6u + 2u * size + 4095) & ~4095u);
	if (!guest_memory_ptr(mem, vq->desc_gpa, vq->used_gpa + 6 + 8u * size - vq->desc_gpa))
		return -EFAULT;
	memset(guest_memory_ptr(mem, vq->desc_gpa, 0), 0, vq->used_gpa + 8192 - vq->desc_gpa);
	vq->kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	vq->call_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vq->kick_fd < 0 || vq->call_fd < 0) {
		test_vq_destroy(vq);
		return -errno;
	}
	return 0;
}

void test_vq_destroy(struct test_vq *vq)
{
	if (vq->kick_fd >= 0)
		close(vq->kick_fd);
	if (vq->call_fd >= 0)
		close(vq->call_fd);
	vq->kick_fd = vq->call_fd = -1;
}

struct vhost_user_vring test_vq_ring(const struct test_vq *vq, uint16_t base)
{
	struct vhost_user_vring ring = {.size = vq->size,
					.base = base,
					.desc_gpa = vq->desc_gpa,
					.avail_gpa = vq->avail_gpa,
					.used_gpa = vq->used_gpa,
					.kick_fd = vq->kick_fd,
					.call_fd = vq->call_fd};
	return ring;
}

int test_vq_add(struct test_vq *vq, const struct vq_buf *bufs, unsigned n)
{
	struct vring_desc *desc = guest_memory_ptr(vq->mem, vq->desc_gpa, 16u * vq->size);
	struct vring_avail *avail = guest_memory_ptr(vq->mem, vq->avail_gpa, 4 + 2u * vq->size);
	uint16_t head = vq->next_desc;
	unsigned i;

	if (n == 0 || n > vq->size)
		return -ENOSPC;
	for (i = 0; i < n; i++) {
		uint16_t slot = (uint16_t)((head + i) % vq->size);

		desc[slot].addr = bufs[i].gpa;
		desc[slot].len = bufs[i].len;
		desc[slot].flags = (bufs[i].device_writes ? VRING_DESC_F_WRITE : 0) |
				   (i + 1 < n ? VRING_DESC_F_NEXT : 0);
		desc[slot].next = (uint16_t)((slot + 1) % vq->size);
	}
	vq->next_desc = (uint16_t)((head + n) % vq->size);
	avail->ring[vq->avail_idx % vq->size] = head;
	/* The back-end must see the ring entry before the index that publishes it. */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	vq->avail_idx++;
	__atomic_store_n(&avail->idx, vq->avail_idx, __ATOMIC_RELEASE);
	return head;
}

void test_vq_kick(struct test_vq *vq)
{
	uint64_t one = 1;

	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (write(vq->kick_fd, &one, sizeof(one)) != sizeof(one))
		return;
}

static void drain_call(struct test_vq *vq)
{
	uint64_t count;

	if (read(vq->call_fd, &count, sizeof(count)) == sizeof(count))
		vq->calls++;
}

bool test_vq_wait_call(struct test_vq *vq, unsigned calls, int timeout_ms)
{
	int64_t deadline = monotonic_ms() + timeout_ms;

	for (;;) {
		struct pollfd pfd = {.fd = vq->call_fd, .events = POLLIN};
		int64_t left;

		drain_call(vq);
		if (vq->calls > calls)
			return true;
		left = deadline - monotonic_ms();
		if (left <= 0)
			return false;
		poll(&pfd, 1, left > 50 ? 50 : (int)left);
	}
}

int test_vq_wait_used(struct test_vq *vq, int timeout_ms, uint32_t *id, uint32_t *len)
{
	struct vring_used *used = guest_memory_ptr(vq->mem, vq->used_gpa, 4 + 8u * vq->size);
	int64_t deadline = monotonic_ms() + timeout_ms;

	for (;;) {
		struct pollfd pfd = {.fd = vq->call_fd, .events = POLLIN};
		int64_t left;

		drain_call(vq);
		if (__atomic_load_n(&used->idx, __ATOMIC_ACQUIRE) != vq->used_seen) {
			struct vring_used_elem *e = &used->ring[vq->used_seen % vq->size];

			*id = e->id;
			*len = e->len;
			vq->used_seen++;
			return 0;
		}
		left = deadline - monotonic_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		poll(&pfd, 1, left > 50 ? 50 : (int)left);
	}
}
