/*
 * Guest RAM: memfd-backed regions mapped shared into the VMM, and the one
 * checked accessor through which every guest-physical address is turned
 * into a host pointer.
 */
#ifndef VMM_MEMORY_H
#define VMM_MEMORY_H

#include <stddef.h>
#include <stdint.h>

#define GUEST_MEMORY_MAX_REGIONS 8

struct mem_region {
	uint64_t gpa;  /* guest-physical start */
	uint64_t size; /* bytes, page multiple */
	int fd;	       /* memfd, sealed against shrinking; handed to backends */
	void *host;    /* MAP_SHARED mapping of the whole fd */
};

struct guest_memory {
	struct mem_region regions[GUEST_MEMORY_MAX_REGIONS];
	unsigned nregions;
	uint64_t total_size;
};

/* A guest-physical range the architecture wants backed by RAM. */
struct ram_range {
	uint64_t gpa;
	uint64_t size;
};

/*
 * Creates one memfd region per range, mapped 2 MiB-aligned with
 * MADV_HUGEPAGE (huge pages where the host's shmem THP setting allows).
 * Returns 0 or -errno; on failure nothing stays allocated.
 */
int guest_memory_init(struct guest_memory *mem, const struct ram_range *ranges, unsigned nranges);
void guest_memory_destroy(struct guest_memory *mem);

/*
 * Host pointer for [gpa, gpa + len) or NULL when any byte of that range is
 * outside guest RAM, the range wraps around, or it spans two regions.
 * len may be 0 (then gpa itself must be inside a region).
 */
void *guest_memory_ptr(const struct guest_memory *mem, uint64_t gpa, uint64_t len);

/* Copies with the same checks; return 0 or -EFAULT. */
int guest_memory_read(const struct guest_memory *mem, uint64_t gpa, void *dst, size_t len);
int guest_memory_write(const struct guest_memory *mem, uint64_t gpa, const void *src, size_t len);

/*
 * Makes [gpa, gpa + len) read as zeros, clearing only the parts the memfd
 * holds pages for (SEEK_DATA): pages never touched already read as zeros
 * and stay unallocated, and huge pages are not split. Same range checks as
 * guest_memory_ptr; 0 or -EFAULT.
 */
int guest_memory_zero(const struct guest_memory *mem, uint64_t gpa, uint64_t len);

/* The region that holds gpa, or NULL. */
const struct mem_region *guest_memory_region_of(const struct guest_memory *mem, uint64_t gpa);

#endif
