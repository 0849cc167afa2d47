/*
 * Address-range dispatch for port I/O and MMIO exits. Devices register a
 * range with an ops table; a vCPU exit is routed to the device that owns the
 * address. All device callbacks run with the VM's device lock held, so a
 * device model never sees two accesses at once.
 */
#ifndef VMM_IOBUS_H
#define VMM_IOBUS_H

#include <stdbool.h>
#include <stdint.h>

struct io_ops {
	/* offset is relative to the registered base; len is 1, 2, 4 or 8. */
	void (*read)(void *opaque, uint64_t offset, void *data, unsigned len);
	void (*write)(void *opaque, uint64_t offset, const void *data, unsigned len);
};

struct io_range {
	uint64_t base;
	uint64_t len;
	const struct io_ops *ops;
	void *opaque;
};

#define IO_BUS_MAX_RANGES 256

/* Sorted, non-overlapping ranges. */
struct io_bus {
	const char *name; /* "pio" or "mmio", for logs */
	struct io_range ranges[IO_BUS_MAX_RANGES];
	unsigned nranges;
};

void io_bus_init(struct io_bus *bus, const char *name);

/* Returns 0, -EEXIST on overlap, -ENOSPC when full, -EINVAL for len 0 or wrap. */
int io_bus_register(struct io_bus *bus, uint64_t base, uint64_t len, const struct io_ops *ops,
		    void *opaque);

/* Removes the range that starts at base and belongs to opaque; -ENOENT if none. */
int io_bus_unregister(struct io_bus *bus, uint64_t base, void *opaque);

/* The range containing addr, or NULL. */
const struct io_range *io_bus_find(const struct io_bus *bus, uint64_t addr);

/*
 * Dispatches one access. Returns false when no device owns the address; the
 * caller then reads all-ones and drops writes, as a real bus does.
 */
bool io_bus_access(const struct io_bus *bus, uint64_t addr, void *data, unsigned len,
		   bool is_write);

#endif
