/* Sorted range table for port I/O and MMIO dispatch. */
#include "vmm/iobus.h"

#include <errno.h>
#include <string.h>

void io_bus_init(struct io_bus *bus, const char *name)
{
	memset(bus, 0, sizeof(*bus));
	bus->name = name;
}

static bool ranges_overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

int io_bus_register(struct io_bus *bus, uint64_t base, uint64_t len, const struct io_ops *ops,
		    void *opaque)
{
	unsigned i, pos = bus->nranges;

	if (len == 0 || base + len < base)
		return -EINVAL;
	if (bus->nranges == IO_BUS_MAX_RANGES)
		return -ENOSPC;
	for (i = 0; i < bus->nranges; i++) {
		const struct io_range *r = &bus->ranges[i];
		if (ranges_overlap(base, len, r->base, r->len))
			return -EEXIST;
		if (pos == bus->nranges && base < r->base)
			pos = i;
	}
	memmove(&bus->ranges[pos + 1], &bus->ranges[pos],
		(bus->nranges - pos) * sizeof(bus->ranges[0]));
	bus->ranges[pos] = (struct io_range){base, len, ops, opaque};
	bus->nranges++;
	return 0;
}

int io_bus_unregister(struct io_bus *bus, uint64_t base, void *opaque)
{
	unsigned i;

	for (i = 0; i < bus->nranges; i++) {
		if (bus->ranges[i].base == base && bus->ranges[i].opaque == opaque) {
			memmove(&bus->ranges[i], &bus->ranges[i + 1],
				(bus->nranges - i - 1) * sizeof(bus->ranges[0]));
			bus->nranges--;
			return 0;
		}
	}
	return -ENOENT;
}

const struct io_range *io_bus_find(const struct io_bus *bus, uint64_t addr)
{
	unsigned lo = 0, hi = bus->nranges;

	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;
		const struct io_range *r = &bus->ranges[mid];
		if (addr < r->base)
			hi = mid;
		else if (addr - r->base >= r->len)
			lo = mid + 1;
		else
			return r;
	}
	return NULL;
}

bool io_bus_access(const struct io_bus *bus, uint64_t addr, void *data, unsigned len, bool is_write)
{
	const struct io_range *r = io_bus_find(bus, addr);

	/* An access straddling the end of a range is not the device's: drop it. */
	if (!r || len > r->len - (addr - r->base)) {
		if (!is_write)
			memset(data, 0xff, len);
		return false;
	}
	if (is_write) {
		if (r->ops->write)
			r->ops->write(r->opaque, addr - r->base, data, len);
	} else {
		if (r->ops->read)
			r->ops->read(r->opaque, addr - r->base, data, len);
		else
			memset(data, 0xff, len);
	}
	return true;
}
