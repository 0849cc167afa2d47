/* Guest RAM in memfd regions, and bounds-checked guest address translation. */
#include "vmm/memory.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define HUGE_PAGE (2ull << 20)

/*
 * Maps the whole memfd at a 2 MiB-aligned address and asks for transparent
 * huge pages there. Where shmem THP is allowed (shmem_enabled "advise" or
 * more), a first touch then faults in 2 MiB at once and KVM maps the guest
 * with 2 MiB nested page-table entries: 512 times fewer of the nested
 * page faults that dominate a boot under emulation. Elsewhere the advice
 * is ignored and the pages stay 4 KiB, as before.
 */
static void *map_region(int fd, uint64_t size)
{
	uint64_t span = size + HUGE_PAGE;
	char *base =
	    mmap(NULL, span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	char *host;
	uint64_t lead;

	if (base == MAP_FAILED)
		return MAP_FAILED;
	lead = (HUGE_PAGE - (uint64_t)(uintptr_t)base % HUGE_PAGE) % HUGE_PAGE;
	host = mmap(base + lead, size, PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_NORESERVE | MAP_FIXED, fd, 0);
	if (host == MAP_FAILED) {
		munmap(base, span);
		return MAP_FAILED;
	}
	if (lead)
		munmap(base, lead);
	munmap(host + size, span - lead - size);
	if (size >= HUGE_PAGE)
		madvise(host, size, MADV_HUGEPAGE);
	return host;
}

static int region_create(struct mem_region *r, const struct ram_range *range, unsigned index)
{
	char name[32];
	int fd;
	void *host;

	snprintf(name, sizeof(name), "guest-ram-%u", index);
	fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)range->size) < 0)
		goto fail;
	/*
	 * Backends map this fd too. Sealing it against shrinking means no peer
	 * can truncate it under us and turn guest RAM accesses into SIGBUS.
	 */
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0)
		goto fail;
	host = map_region(fd, range->size);
	if (host == MAP_FAILED)
		goto fail;
	r->gpa = range->gpa;
	r->size = range->size;
	r->fd = fd;
	r->host = host;
	return 0;
fail : {
	int err = -errno;
	close(fd);
	return err;
}
}

int guest_memory_init(struct guest_memory *mem, const struct ram_range *ranges, unsigned nranges)
{
	unsigned i;
	int err;

	memset(mem, 0, sizeof(*mem));
	if (nranges == 0 || nranges > GUEST_MEMORY_MAX_REGIONS)
		return -EINVAL;
	for (i = 0; i < nranges; i++) {
		if (ranges[i].size == 0 || ranges[i].gpa + ranges[i].size < ranges[i].gpa)
			err = -EINVAL;
		else
			err = region_create(&mem->regions[i], &ranges[i], i);
		if (err) {
			guest_memory_destroy(mem);
			return err;
		}
		mem->nregions++;
		mem->total_size += ranges[i].size;
	}
	return 0;
}

void guest_memory_destroy(struct guest_memory *mem)
{
	unsigned i;

	for (i = 0; i < mem->nregions; i++) {
		munmap(mem->regions[i].host, mem->regions[i].size);
		close(mem->regions[i].fd);
	}
	mem->nregions = 0;
	mem->total_size = 0;
}

const struct mem_region *guest_memory_region_of(const struct guest_memory *mem, uint64_t gpa)
{
	unsigned i;

	for (i = 0; i < mem->nregions; i++) {
		const struct mem_region *r = &mem->regions[i];
		if (gpa >= r->gpa && gpa - r->gpa < r->size)
			return r;
	}
	return NULL;
}

void *guest_memory_ptr(const struct guest_memory *mem, uint64_t gpa, uint64_t len)
{
	const struct mem_region *r = guest_memory_region_of(mem, gpa);
	uint64_t offset;

	if (!r)
		return NULL;
	offset = gpa - r->gpa;
	/* offset < size here, so size - offset cannot underflow. */
	if (len > r->size - offset)
		return NULL;
	return (char *)r->host + offset;
}

int guest_memory_read(const struct guest_memory *mem, uint64_t gpa, void *dst, size_t len)
{
	const void *src = guest_memory_ptr(mem, gpa, len);

	if (!src)
		return -EFAULT;
	memcpy(dst, src, len);
	return 0;
}

int guest_memory_write(const struct guest_memory *mem, uint64_t gpa, const void *src, size_t len)
{
	void *dst = guest_memory_ptr(mem, gpa, len);

	if (!dst)
		return -EFAULT;
	memcpy(dst, src, len);
	return 0;
}

int guest_memory_zero(const struct guest_memory *mem, uint64_t gpa, uint64_t len)
{
	char *p = guest_memory_ptr(mem, gpa, len);
	const struct mem_region *r = guest_memory_region_of(mem, gpa);
	off_t at, end, data, hole;

	if (!p)
		return -EFAULT;
	at = (off_t)(gpa - r->gpa);
	end = at + (off_t)len;
	/*
	 * Only what the memfd holds can be non-zero: its holes already read
	 * as zeros. Swapped-out pages count as data for SEEK_DATA.
	 */
	while (at < end) {
		data = lseek(r->fd, at, SEEK_DATA);
		if (data < 0 && errno == ENXIO)
			break;
		if (data < 0 || data >= end) {
			data = data < 0 ? at : end;
			hole = end;
		} else {
			hole = lseek(r->fd, data, SEEK_HOLE);
			if (hole < 0 || hole > end)
				hole = end;
		}
		memset(p + (data - (off_t)(gpa - r->gpa)), 0, (size_t)(hole - data));
		at = hole;
	}
	return 0;
}
