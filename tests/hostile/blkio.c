/*
 * The hostile back-end's honest half: guest memory from SET_MEM_TABLE, split
 * rings from SET_VRING_*, and virtio-blk requests served from a RAM disk, so
 * that a guest's driver really uses the device until the misdeed.
 */
#include "tests/hostile/blkio.h"

#include <linux/virtio_blk.h>
#include <linux/virtio_ring.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define SEGS_MAX 64
#define BLK_ID "hostile-backend"

struct seg {
	uint8_t *host;
	uint32_t len;
	bool writable;
};

struct request {
	struct seg segs[SEGS_MAX];
	unsigned nsegs;
	uint64_t out_len, in_len; /* readable and writable bytes */
};

void blkio_init(struct blkio *io)
{
	memset(io, 0, sizeof(*io));
	for (unsigned i = 0; i < BLKIO_RINGS; i++)
		io->rings[i].kick = io->rings[i].call = -1;
}

static void unmap_all(struct blkio *io)
{
	for (unsigned i = 0; i < io->nregions; i++)
		munmap(io->regions[i].map, io->regions[i].map_len);
	io->nregions = 0;
}

static void set_mem_table(struct blkio *io, const struct vhost_user_memory *mem, int *fds,
			  unsigned nfds)
{
	unmap_all(io);
	for (unsigned i = 0; i < mem->nregions && i < nfds && i < VHOST_USER_MEM_REGIONS_MAX; i++) {
		const struct vhost_user_mem_region *r = &mem->regions[i];
		struct blkio_region *mine = &io->regions[io->nregions];
		void *map = mmap(NULL, r->memory_size + r->mmap_offset, PROT_READ | PROT_WRITE,
				 MAP_SHARED, fds[i], 0);

		close(fds[i]);
		fds[i] = -1;
		if (map == MAP_FAILED) {
			perror("hostile-backend: mmap");
			continue;
		}
		*mine = (struct blkio_region){r->guest_phys_addr,
					      r->memory_size,
					      r->userspace_addr,
					      (uint8_t *)map + r->mmap_offset,
					      map,
					      r->memory_size + r->mmap_offset};
		io->nregions++;
	}
}

/* Host pointer for [addr, addr + len) in guest-physical (or, by_ua, front-end) addresses. */
static uint8_t *translate(const struct blkio *io, uint64_t addr, uint64_t len, bool by_ua)
{
	for (unsigned i = 0; i < io->nregions; i++) {
		const struct blkio_region *r = &io->regions[i];
		uint64_t start = by_ua ? r->uaddr : r->gpa;

		if (addr >= start && len <= r->size && addr - start <= r->size - len)
			return r->host + (addr - start);
	}
	return NULL;
}

static void replace_fd(int *slot, int *fds, unsigned nfds, uint64_t u64)
{
	if (*slot >= 0)
		close(*slot);
	*slot = -1;
	if (!(u64 & VHOST_USER_VRING_NOFD_MASK) && nfds == 1) {
		*slot = fds[0];
		fds[0] = -1;
	}
}

uint16_t blkio_absorb(struct blkio *io, const struct vhost_user_msg *m, int *fds, unsigned nfds)
{
	const struct vhost_user_vring_state *s = &m->payload.state;
	struct blkio_ring *ring = &io->rings[s->index % BLKIO_RINGS];
	unsigned vring = (unsigned)(m->payload.u64 & VHOST_USER_VRING_INDEX_MASK) % BLKIO_RINGS;

	switch (m->hdr.request) {
	case VHOST_USER_SET_MEM_TABLE:
		set_mem_table(io, &m->payload.memory, fds, nfds);
		break;
	case VHOST_USER_SET_VRING_NUM:
		ring->num = (uint16_t)s->num;
		break;
	case VHOST_USER_SET_VRING_BASE:
		ring->last_avail = (uint16_t)s->num;
		break;
	case VHOST_USER_SET_VRING_ADDR:
		ring = &io->rings[m->payload.addr.index % BLKIO_RINGS];
		ring->desc_ua = m->payload.addr.desc_user_addr;
		ring->avail_ua = m->payload.addr.avail_user_addr;
		ring->used_ua = m->payload.addr.used_user_addr;
		ring->has_addr = true;
		break;
	case VHOST_USER_SET_VRING_KICK:
		replace_fd(&io->rings[vring].kick, fds, nfds, m->payload.u64);
		break;
	case VHOST_USER_SET_VRING_CALL:
		replace_fd(&io->rings[vring].call, fds, nfds, m->payload.u64);
		break;
	case VHOST_USER_SET_VRING_ENABLE:
		ring->enabled = s->num == 1;
		break;
	case VHOST_USER_GET_VRING_BASE:
		/* The ring stops: no more kicks served until it is started again. */
		replace_fd(&ring->kick, fds, 0, VHOST_USER_VRING_NOFD_MASK);
		ring->enabled = false;
		return ring->last_avail;
	}
	return 0;
}

unsigned blkio_poll_set(const struct blkio *io, struct pollfd *pfds, unsigned *which, unsigned max)
{
	unsigned n = 0;

	for (unsigned i = 0; i < BLKIO_RINGS && n < max; i++) {
		if (io->rings[i].kick < 0)
			continue;
		pfds[n] = (struct pollfd){.fd = io->rings[i].kick, .events = POLLIN};
		which[n++] = i;
	}
	return n;
}

/* Collects the descriptor chain from head; false when it is malformed. */
static bool gather(const struct blkio *io, const struct blkio_ring *ring, uint16_t head,
		   struct request *req)
{
	const struct vring_desc *table =
	    (const void *)translate(io, ring->desc_ua, (uint64_t)ring->num * 16, true);
	uint16_t i = head;

	req->nsegs = req->out_len = req->in_len = 0;
	while (table && i < ring->num && req->nsegs < SEGS_MAX) {
		struct seg *s = &req->segs[req->nsegs++];

		s->len = table[i].len;
		s->writable = table[i].flags & VRING_DESC_F_WRITE;
		s->host = translate(io, table[i].addr, s->len, false);
		if (!s->host)
			return false;
		*(s->writable ? &req->in_len : &req->out_len) += s->len;
		if (!(table[i].flags & VRING_DESC_F_NEXT))
			return true;
		i = table[i].next;
	}
	return false;
}

/* Copies len bytes at offset off of the readable (or writable) stream from/to buf. */
static void stream_copy(struct request *req, bool writable, uint64_t off, void *buf, uint64_t len)
{
	uint8_t *p = buf;

	for (unsigned i = 0; i < req->nsegs && len; i++) {
		struct seg *s = &req->segs[i];
		uint64_t n;

		if (s->writable != writable)
			continue;
		if (off >= s->len) {
			off -= s->len;
			continue;
		}
		n = s->len - off < len ? s->len - off : len;
		if (writable)
			memcpy(s->host + off, p, n);
		else
			memcpy(p, s->host + off, n);
		p += n;
		len -= n;
		off = 0;
	}
}

/* Performs one request; returns its status, sets *written to the data bytes written. */
static uint8_t perform(struct blkio *io, struct request *req, uint32_t *written)
{
	struct virtio_blk_outhdr hdr;
	uint64_t data_in = req->in_len - 1, data_out = req->out_len - sizeof(hdr), offset;

	*written = 0;
	if (req->out_len < sizeof(hdr) || req->in_len < 1)
		return VIRTIO_BLK_S_IOERR;
	stream_copy(req, false, 0, &hdr, sizeof(hdr));
	offset = hdr.sector * 512;
	switch (hdr.type) {
	case VIRTIO_BLK_T_IN:
		if (hdr.sector > BLKIO_SECTORS || data_in > sizeof(io->disk) - offset)
			return VIRTIO_BLK_S_IOERR;
		stream_copy(req, true, 0, io->disk + offset, data_in);
		*written = (uint32_t)data_in;
		return VIRTIO_BLK_S_OK;
	case VIRTIO_BLK_T_OUT:
		if (hdr.sector > BLKIO_SECTORS || data_out > sizeof(io->disk) - offset)
			return VIRTIO_BLK_S_IOERR;
		stream_copy(req, false, sizeof(hdr), io->disk + offset, data_out);
		return VIRTIO_BLK_S_OK;
	case VIRTIO_BLK_T_FLUSH:
		return VIRTIO_BLK_S_OK;
	case VIRTIO_BLK_T_GET_ID: {
		char id[VIRTIO_BLK_ID_BYTES] = BLK_ID;

		*written = data_in < sizeof(id) ? (uint32_t)data_in : sizeof(id);
		stream_copy(req, true, 0, id, *written);
		return VIRTIO_BLK_S_OK;
	}
	}
	return VIRTIO_BLK_S_UNSUPP;
}

static bool serve_one(struct blkio *io, struct blkio_ring *ring, struct vring_avail *avail,
		      struct vring_used *used)
{
	static struct request req; /* large; one back-end, one thread */
	uint16_t head = avail->ring[ring->last_avail % ring->num];
	uint32_t written = 0;
	uint8_t status;

	if (!gather(io, ring, head, &req)) {
		fprintf(stderr, "hostile-backend: bad descriptor chain at %u\n", head);
		return false;
	}
	status = perform(io, &req, &written);
	stream_copy(&req, true, req.in_len - 1, &status, 1);
	used->ring[used->idx % ring->num] = (struct vring_used_elem){head, written + 1};
	__atomic_thread_fence(__ATOMIC_RELEASE);
	used->idx++;
	ring->last_avail++;
	io->completed++;
	return true;
}

void blkio_serve(struct blkio *io, unsigned i)
{
	struct blkio_ring *ring = &io->rings[i];
	struct vring_avail *avail;
	struct vring_used *used;
	uint64_t count, one = 1;
	bool any = false;
	struct pollfd pfd = {.fd = ring->kick, .events = POLLIN};

	if (ring->kick < 0)
		return;
	/* A kick that came before SET_VRING_ENABLE is served once enabled: read only when set. */
	if (poll(&pfd, 1, 0) == 1 && read(ring->kick, &count, sizeof(count)) < 0)
		return;
	if (!ring->enabled || !ring->has_addr || ring->num == 0)
		return;
	avail = (void *)translate(io, ring->avail_ua, 4 + 2ull * ring->num, true);
	used = (void *)translate(io, ring->used_ua, 4 + 8ull * ring->num, true);
	if (!avail || !used)
		return;
	while (ring->last_avail != __atomic_load_n(&avail->idx, __ATOMIC_ACQUIRE)) {
		if (!serve_one(io, ring, avail, used))
			break;
		any = true;
	}
	if (any && ring->call >= 0 && write(ring->call, &one, sizeof(one)) < 0)
		perror("hostile-backend: call");
}

void blkio_destroy(struct blkio *io)
{
	unmap_all(io);
	for (unsigned i = 0; i < BLKIO_RINGS; i++) {
		if (io->rings[i].kick >= 0)
			close(io->rings[i].kick);
		if (io->rings[i].call >= 0)
			close(io->rings[i].call);
	}
}
