/*
 * PCI bus 0 behind one host bridge: type 0 config space with writable-bit
 * masks, capability lists, BARs allocated from the bridge's windows and
 * mapped onto the VM's io buses, config access through 0xCF8/0xCFC and ECAM.
 */
#ifndef PCI_PCI_H
#define PCI_PCI_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm/iobus.h"
#include "vmm/log.h"

struct vm;
struct msix;

#define PCI_MAX_DEVICES 32
#define PCI_NUM_BARS 6
#define PCI_CONFIG_SIZE 256 /* conventional config space; ECAM's rest reads 0 */
#define PCI_ECAM_FUNCTION_SIZE 4096
#define PCI_ECAM_BUS_SIZE (PCI_MAX_DEVICES * 8 * PCI_ECAM_FUNCTION_SIZE) /* 1 MiB */
#define PCI_CONFIG_ADDRESS_PORT 0xcf8 /* 0xcf8-0xcff: address latch + data */

/* The generic host bridge at 00:00.0 (Red Hat's "QEMU PCIe host bridge" id). */
#define PCI_HOST_BRIDGE_VENDOR 0x1b36
#define PCI_HOST_BRIDGE_DEVICE 0x0008
#define PCI_CLASS_HOST_BRIDGE 0x060000

/* Type 0 header, exactly as the spec lays it out (little-endian host). */
struct pci_config_header {
	uint16_t vendor_id;
	uint16_t device_id;
	uint16_t command;
	uint16_t status;
	uint8_t revision_id;
	uint8_t class_prog;
	uint8_t class_sub;
	uint8_t class_base;
	uint8_t cache_line_size;
	uint8_t latency_timer;
	uint8_t header_type;
	uint8_t bist;
	uint32_t bar[PCI_NUM_BARS];
	uint32_t cardbus_cis;
	uint16_t subsystem_vendor_id;
	uint16_t subsystem_id;
	uint32_t rom_address;
	uint8_t capabilities;
	uint8_t reserved[7];
	uint8_t interrupt_line;
	uint8_t interrupt_pin;
	uint8_t min_gnt;
	uint8_t max_lat;
} __attribute__((packed));

_Static_assert(sizeof(struct pci_config_header) == 64, "type 0 header is 64 bytes");

union pci_config_space {
	struct pci_config_header hdr;
	uint8_t bytes[PCI_CONFIG_SIZE];
};

enum pci_bar_type {
	PCI_BAR_UNUSED = 0,
	PCI_BAR_IO,
	PCI_BAR_MEM32,
	PCI_BAR_MEM64, /* takes this BAR register and the next one */
};

/*
 * Told after the bus unmapped a BAR (mapped false) or mapped it at addr
 * (mapped true), so the device can move what it keeps outside the io bus,
 * such as ioeventfds. Runs with the device lock held.
 */
typedef void (*pci_bar_moved_fn)(void *opaque, unsigned bar, bool mapped, uint64_t addr);

struct pci_bar {
	enum pci_bar_type type;
	bool prefetchable;
	uint64_t size; /* power of two */
	const struct io_ops *ops;
	void *opaque;
	pci_bar_moved_fn moved;
	bool mapped;
	uint64_t mapped_addr;
};

/* Optional device hooks for config-space fields backed by live device state. */
struct pci_config_hooks {
	/* Before a guest read of [offset, offset + len): refresh cfg bytes there. */
	void (*before_read)(void *opaque, unsigned offset, unsigned len);
	/* After a guest write of [offset, offset + len) went through the masks. */
	void (*after_write)(void *opaque, unsigned offset, unsigned len);
};

struct pci_function {
	union pci_config_space cfg;
	uint8_t wmask[PCI_CONFIG_SIZE];	  /* bits a guest write may change */
	uint8_t w1cmask[PCI_CONFIG_SIZE]; /* bits a guest clears by writing 1 */
	struct pci_bar bars[PCI_NUM_BARS];
	uint8_t next_cap;  /* where the next capability goes; 0 once full */
	uint8_t last_cap;  /* offset of the last capability, 0 if none */
	struct msix *msix; /* set by msix_init; told about writes to its capability */
	const struct pci_config_hooks *hooks; /* may be NULL */
	void *hooks_opaque;
	struct pci_bus *bus;
	unsigned slot; /* device number on bus 0, valid once registered */
	const char *name;
};

struct pci_bus {
	struct vm *vm;
	struct pci_function *slots[PCI_MAX_DEVICES];
	struct pci_function host_bridge;
	uint32_t config_address; /* the 0xCF8 latch */
	uint64_t ecam_base;
	uint64_t mmio_base, mmio_size, mmio_next;
	uint64_t io_base, io_size, io_next;
	struct log_ratelimit rl;
};

/* Where the host bridge's config space and BAR windows sit (the arch says: arch_pci_windows). */
struct pci_windows {
	uint64_t ecam_base;
	uint64_t mmio_base, mmio_size;
	uint64_t io_base, io_size; /* io_size 0: no port I/O (aarch64) */
};

/*
 * Sets up bus 0: registers ECAM (PCI_ECAM_BUS_SIZE bytes at ecam_base) on
 * vm->mmio and, when io_size is non-zero, the 0xCF8-0xCFF ports on vm->pio,
 * asking KVM to buffer writes to the 0xCF8 address latch; io_size 0
 * (aarch64) means no port I/O at all and no I/O BARs. BARs are allocated
 * from [mmio_base, +mmio_size) and [io_base, +io_size), and a guest may
 * only place BARs inside those windows. Puts the host bridge at 00:00.0.
 * Only the io buses, vm->mem and the coalescing of vm are used. Returns
 * 0/-errno.
 */
int pci_bus_init(struct pci_bus *bus, struct vm *vm, const struct pci_windows *w);

/* Unmaps every BAR and the config-access ranges; functions stay the callers'. */
void pci_bus_destroy(struct pci_bus *bus);

/*
 * Starts describing a function: ids and class (0xBBSSPP: base, sub, prog-if)
 * with read-only fields, writable command bits, no BARs, no capabilities.
 */
void pci_function_init(struct pci_function *fn, const char *name, uint16_t vendor, uint16_t device,
		       uint32_t class_code, uint8_t revision);

/*
 * Declares BAR index bar of size bytes (a power of two, at least 16 for
 * memory, 4 for I/O; MEM64 uses bar and bar + 1). Accesses inside it reach
 * ops with BAR-relative offsets; moved may be NULL. Call before
 * pci_register_function. Returns 0 or -EINVAL.
 */
int pci_function_add_bar(struct pci_function *fn, unsigned bar, enum pci_bar_type type,
			 bool prefetchable, uint64_t size, const struct io_ops *ops, void *opaque,
			 pci_bar_moved_fn moved);

/*
 * Appends a capability of len bytes (>= 2) with id to the list and returns
 * its config-space offset, or 0 when config space is full. The caller fills
 * the body (past id/next) and marks writable bits with pci_set_wmask.
 */
uint8_t pci_add_capability(struct pci_function *fn, uint8_t id, unsigned len);

/* Marks len bytes at offset as guest-writable under mask (little-endian). */
void pci_set_wmask(struct pci_function *fn, unsigned offset, uint32_t mask, unsigned len);

/* Capability offset of the first capability with id, or 0. */
uint8_t pci_find_capability(const struct pci_function *fn, uint8_t id);

/*
 * Plugs fn into the lowest free slot and assigns its BARs from the windows
 * (programmed into config space, decoding still off as after reset).
 * Returns 0, -ENOSPC (no slot or window exhausted).
 */
int pci_register_function(struct pci_bus *bus, struct pci_function *fn);

/* Unmaps fn's BARs (owners are told) and frees its slot. */
void pci_unregister_function(struct pci_bus *bus, struct pci_function *fn);

/* The BAR's programmed guest address (what the guest last wrote). */
uint64_t pci_bar_address(const struct pci_function *fn, unsigned bar);

/*
 * Config-space access to one function as the guest sees it: offset and len
 * (1, 2 or 4) must stay within one dword; otherwise reads give all-ones and
 * writes are dropped. Writes go through the masks and may remap BARs.
 */
uint32_t pci_config_read(struct pci_function *fn, unsigned offset, unsigned len);
void pci_config_write(struct pci_function *fn, unsigned offset, uint32_t value, unsigned len);

struct snap_buf;
struct snap_reader;
/*
 * Snapshot (state.c): config space plus the MSI-X table and pending bits.
 * Load takes a function built the same way (refused naming the field when
 * its ids differ) and replays the guest's writes, rebuilding BAR mappings
 * and MSI routes.
 */
void pci_function_save(const struct pci_function *fn, struct snap_buf *b);
bool pci_function_load(struct pci_function *fn, struct snap_reader *rd);

#endif
