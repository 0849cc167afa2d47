/*
 * VIRTIO shared-memory regions of a vhost-user device (protocol feature
 * SHMEM): the regions GET_SHMEM_CONFIG reported, where each sits in guest
 * physical memory (its PCI BAR), and the back-end's SHMEM_MAP/SHMEM_UNMAP
 * requests, validated here and carried out by the caller's callbacks.
 *
 * Spec revision followed: QEMU docs/interop/vhost-user.rst as amended by
 * Albert Esteve's "vhost-user: add shmem mmap request" series (v9/v10,
 * 2025): feature bit 20, GET_SHMEM_CONFIG = 44, BACKEND_SHMEM_MAP = 9,
 * BACKEND_SHMEM_UNMAP = 10, MMAP payload {u8 shmid; u8 pad[7]; u64
 * fd_offset, shm_offset, len, flags}, flags 0 = read-only, 1 =
 * read-write; a map must land in a free range, an unmap must name exactly
 * one whole existing mapping, and every mapping goes away on reset.
 */
#ifndef VHOST_USER_SHMEM_H
#define VHOST_USER_SHMEM_H

#include <stdbool.h>
#include <stdint.h>

#include "vhost_user/wire.h"
#include "vmm/log.h"

#define VHOST_USER_SHMEM_MAX_IDS 8   /* regions we front; ids above are refused */
#define VHOST_USER_SHMEM_MAX_MAPS 64 /* per region: each costs a KVM memory slot */
#define VHOST_USER_SHMEM_PAGE 4096ull
#define VHOST_USER_SHMEM_FLAG_RW 1ull	   /* the spec revision's flags value for read-write */
#define VHOST_USER_SHMEM_NO_GPA UINT64_MAX /* region not placed (BAR off) */

/*
 * What the owner does for a mapping. map must make [gpa, gpa + size) show
 * fd's [fd_offset, fd_offset + size) with prot (PROT_READ, optionally
 * PROT_WRITE) to the guest, e.g. mmap + vm_map_memory; it must not keep
 * fd (this module owns it and closes it on unmap). unmap undoes one map
 * exactly. Both return 0 or -errno.
 */
struct vhost_user_shmem_ops {
	int (*map)(void *opaque, uint64_t gpa, uint64_t size, int fd, uint64_t fd_offset, int prot);
	int (*unmap)(void *opaque, uint64_t gpa, uint64_t size);
};

struct vhost_user_shmem_mapping {
	uint64_t offset; /* within the region */
	uint64_t len;
	uint64_t fd_offset;
	int fd;
	int prot;
	bool live; /* handed to ops->map (the region is placed) */
};

struct vhost_user_shmem_region {
	uint64_t size; /* 0: this id is unused */
	uint64_t gpa;  /* VHOST_USER_SHMEM_NO_GPA until placed */
	unsigned nmaps;
	struct vhost_user_shmem_mapping maps[VHOST_USER_SHMEM_MAX_MAPS];
};

struct vhost_user_shmem {
	char log_component[48];
	unsigned nregions;
	struct vhost_user_shmem_region regions[VHOST_USER_SHMEM_MAX_IDS];
	const struct vhost_user_shmem_ops *ops;
	void *opaque;
	struct log_ratelimit rl;
};

/*
 * Sets up n regions with sizes[i] bytes (index = shmid; 0 = unused), none
 * placed yet. Returns -EINVAL when n is too large or a size is not a page
 * multiple.
 */
int vhost_user_shmem_init(struct vhost_user_shmem *s, const char *name, const uint64_t *sizes,
			  unsigned n, const struct vhost_user_shmem_ops *ops, void *opaque);

/*
 * Places region shmid at gpa (its BAR's address), or takes it out of the
 * guest's view with VHOST_USER_SHMEM_NO_GPA; existing mappings are unmapped
 * from the old place and mapped at the new one. Returns 0 or -errno (the
 * first callback failure; the region is then left unplaced).
 */
int vhost_user_shmem_place(struct vhost_user_shmem *s, unsigned shmid, uint64_t gpa);

/*
 * SHMEM_MAP from the back-end; takes ownership of fd (closed on refusal).
 * -EINVAL unknown shmid, zero or unaligned length/offsets, or bad flags;
 * -EOVERFLOW when an offset + len wraps; -ERANGE outside the region or
 * past the end of the file; -EPERM a memfd without F_SEAL_SHRINK; -EBUSY
 * overlapping a mapping; -ENOSPC too many.
 * Fits vhost_user_backend_ops.shmem_map (pass s as the opaque).
 */
int vhost_user_shmem_map(void *s, const struct vhost_user_shmem_map *msg, int fd);

/*
 * SHMEM_UNMAP: the range must be exactly one existing mapping (-ENOENT
 * otherwise; the same -EINVAL/-EOVERFLOW/-ERANGE checks as map first).
 * Fits vhost_user_backend_ops.shmem_unmap.
 */
int vhost_user_shmem_unmap(void *s, const struct vhost_user_shmem_map *msg);

/*
 * Unmaps (and logs) every mapping whose file no longer covers it, as when
 * a back-end truncated a file that is not a sealed memfd after the map.
 * Returns true when there was one: guest access to it made KVM_RUN fail.
 */
bool vhost_user_shmem_drop_shrunk(struct vhost_user_shmem *s);

/* Unmaps everything (device reset, disconnect); regions keep their place. */
void vhost_user_shmem_reset(struct vhost_user_shmem *s);

#endif
