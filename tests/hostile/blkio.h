/* The hostile back-end's honest half: a 1 MiB RAM disk served over split rings. */
#ifndef TESTS_HOSTILE_BLKIO_H
#define TESTS_HOSTILE_BLKIO_H

#include <poll.h>
#include <stdbool.h>
#include <stdint.h>

#include "vhost_user/wire.h"

#define BLKIO_RINGS 8
#define BLKIO_SECTORS 2048u /* 1 MiB of 512-byte sectors */

struct blkio_region {
	uint64_t gpa, size, uaddr;
	uint8_t *host; /* mapping of the region's fd, from its mmap_offset */
	uint8_t *map;  /* what munmap gets */
	uint64_t map_len;
};

struct blkio_ring {
	uint16_t num, last_avail;
	uint64_t desc_ua, avail_ua, used_ua;
	int kick, call;
	bool enabled, has_addr;
};

struct blkio {
	struct blkio_region regions[VHOST_USER_MEM_REGIONS_MAX];
	unsigned nregions;
	struct blkio_ring rings[BLKIO_RINGS];
	uint64_t completed; /* requests completed since start */
	uint8_t disk[BLKIO_SECTORS * 512];
};

/* Starts with no memory, no rings and a zeroed disk. */
void blkio_init(struct blkio *io);

/*
 * Takes what m tells about memory and rings (SET_MEM_TABLE, SET_VRING_*,
 * GET_VRING_BASE stops the ring); consumes the fds it keeps by setting them
 * to -1 in fds. Returns the ring's base for GET_VRING_BASE, else 0.
 */
uint16_t blkio_absorb(struct blkio *io, const struct vhost_user_msg *m, int *fds, unsigned nfds);

/* Fills pfds with the kick fds of live rings; returns how many, ring numbers in which[]. */
unsigned blkio_poll_set(const struct blkio *io, struct pollfd *pfds, unsigned *which, unsigned max);

/* Takes ring i's pending kick, if any, and serves every request made available on it. */
void blkio_serve(struct blkio *io, unsigned i);

/* Unmaps memory and closes every fd. */
void blkio_destroy(struct blkio *io);

#endif
