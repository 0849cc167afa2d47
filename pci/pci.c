/* PCI function config space: masked guest writes, capabilities, BAR mapping. */
#include "pci/pci.h"

#include <errno.h>
#include <linux/pci_regs.h>
#include <string.h>

#include "pci/msix.h"
#include "vmm/util.h"
#include "vmm/vm.h"

#define COMMAND_WRITABLE                                                                           \
	(PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_PARITY |           \
	 PCI_COMMAND_SERR | PCI_COMMAND_INTX_DISABLE)
#define STATUS_WRITE_ONE_TO_CLEAR                                                                  \
	(PCI_STATUS_PARITY | PCI_STATUS_SIG_TARGET_ABORT | PCI_STATUS_REC_TARGET_ABORT |           \
	 PCI_STATUS_REC_MASTER_ABORT | PCI_STATUS_SIG_SYSTEM_ERROR | PCI_STATUS_DETECTED_PARITY)
#define FIRST_CAPABILITY_OFFSET 0x40

void pci_set_wmask(struct pci_function *fn, unsigned offset, uint32_t mask, unsigned len)
{
	if (offset < PCI_CONFIG_SIZE && len <= PCI_CONFIG_SIZE - offset)
		put_le_n(&fn->wmask[offset], mask, len);
}

void pci_function_init(struct pci_function *fn, const char *name, uint16_t vendor, uint16_t device,
		       uint32_t class_code, uint8_t revision)
{
	struct pci_config_header *h = &fn->cfg.hdr;

	memset(fn, 0, sizeof(*fn));
	fn->name = name;
	fn->next_cap = FIRST_CAPABILITY_OFFSET;
	h->vendor_id = vendor;
	h->device_id = device;
	h->revision_id = revision;
	h->class_prog = (uint8_t)class_code;
	h->class_sub = (uint8_t)(class_code >> 8);
	h->class_base = (uint8_t)(class_code >> 16);
	h->header_type = PCI_HEADER_TYPE_NORMAL;
	pci_set_wmask(fn, PCI_COMMAND, COMMAND_WRITABLE, 2);
	put_le_n(&fn->w1cmask[PCI_STATUS], STATUS_WRITE_ONE_TO_CLEAR, 2);
	pci_set_wmask(fn, PCI_CACHE_LINE_SIZE, 0xff, 1);
	pci_set_wmask(fn, PCI_INTERRUPT_LINE, 0xff, 1);
}

/* The bits of a BAR register the guest may write: the address bits only. */
static void bar_set_masks(struct pci_function *fn, unsigned bar)
{
	const struct pci_bar *b = &fn->bars[bar];
	unsigned off = PCI_BASE_ADDRESS_0 + 4 * bar;
	uint64_t addr_mask = ~(b->size - 1);

	if (b->type == PCI_BAR_IO) {
		pci_set_wmask(fn, off, (uint32_t)addr_mask & PCI_BASE_ADDRESS_IO_MASK, 4);
		return;
	}
	pci_set_wmask(fn, off, (uint32_t)addr_mask & PCI_BASE_ADDRESS_MEM_MASK, 4);
	if (b->type == PCI_BAR_MEM64)
		pci_set_wmask(fn, off + 4, (uint32_t)(addr_mask >> 32), 4);
}

/* A MEM64 BAR's upper half has no pci_bar of its own, only a mask. */
static bool bar_register_used(const struct pci_function *fn, unsigned bar)
{
	return get_le32(&fn->wmask[PCI_BASE_ADDRESS_0 + 4 * bar]) != 0;
}

int pci_function_add_bar(struct pci_function *fn, unsigned bar, enum pci_bar_type type,
			 bool prefetchable, uint64_t size, const struct io_ops *ops, void *opaque,
			 pci_bar_moved_fn moved)
{
	unsigned last = type == PCI_BAR_MEM64 ? bar + 1 : bar;
	uint32_t flags;

	if (last >= PCI_NUM_BARS || bar_register_used(fn, bar) || bar_register_used(fn, last) ||
	    fn->bus || !ops)
		return -EINVAL;
	if (size & (size - 1) || size < (type == PCI_BAR_IO ? 4u : 16u))
		return -EINVAL;
	if (type == PCI_BAR_IO)
		flags = PCI_BASE_ADDRESS_SPACE_IO;
	else if (type == PCI_BAR_MEM32)
		flags = PCI_BASE_ADDRESS_MEM_TYPE_32;
	else if (type == PCI_BAR_MEM64)
		flags = PCI_BASE_ADDRESS_MEM_TYPE_64;
	else
		return -EINVAL;
	if (prefetchable && type != PCI_BAR_IO)
		flags |= PCI_BASE_ADDRESS_MEM_PREFETCH;
	fn->bars[bar] = (struct pci_bar){.type = type,
					 .prefetchable = prefetchable,
					 .size = size,
					 .ops = ops,
					 .opaque = opaque,
					 .moved = moved};
	fn->cfg.hdr.bar[bar] = flags;
	bar_set_masks(fn, bar);
	return 0;
}

uint8_t pci_add_capability(struct pci_function *fn, uint8_t id, unsigned len)
{
	unsigned offset = fn->next_cap;

	if (offset == 0 || len < 2 || len > PCI_CONFIG_SIZE - offset)
		return 0;
	fn->cfg.bytes[offset] = id;
	fn->cfg.bytes[offset + 1] = 0;
	if (fn->last_cap)
		fn->cfg.bytes[fn->last_cap + 1] = (uint8_t)offset;
	else
		fn->cfg.hdr.capabilities = (uint8_t)offset;
	fn->cfg.hdr.status |= PCI_STATUS_CAP_LIST;
	fn->last_cap = (uint8_t)offset;
	offset = (offset + len + 3) & ~3u;
	fn->next_cap = offset < PCI_CONFIG_SIZE ? (uint8_t)offset : 0;
	return fn->last_cap;
}

uint8_t pci_find_capability(const struct pci_function *fn, uint8_t id)
{
	unsigned offset = fn->cfg.hdr.capabilities, hops;

	/* The list is ours, but bound the walk anyway: 48 dwords can hold caps. */
	for (hops = 0; offset >= FIRST_CAPABILITY_OFFSET && hops < 48; hops++) {
		if (fn->cfg.bytes[offset] == id)
			return (uint8_t)offset;
		offset = fn->cfg.bytes[offset + 1];
	}
	return 0;
}

uint64_t pci_bar_address(const struct pci_function *fn, unsigned bar)
{
	const struct pci_bar *b;
	uint64_t addr;

	if (bar >= PCI_NUM_BARS || fn->bars[bar].type == PCI_BAR_UNUSED)
		return 0;
	b = &fn->bars[bar];
	if (b->type == PCI_BAR_IO)
		return fn->cfg.hdr.bar[bar] & PCI_BASE_ADDRESS_IO_MASK;
	addr = fn->cfg.hdr.bar[bar] & PCI_BASE_ADDRESS_MEM_MASK;
	if (b->type == PCI_BAR_MEM64)
		addr |= (uint64_t)fn->cfg.hdr.bar[bar + 1] << 32;
	return addr;
}

static struct io_bus *bar_bus(const struct pci_function *fn, const struct pci_bar *b)
{
	return b->type == PCI_BAR_IO ? &fn->bus->vm->pio : &fn->bus->vm->mmio;
}

static bool range_inside(uint64_t addr, uint64_t size, uint64_t base, uint64_t len)
{
	return addr >= base && addr - base < len && size <= len - (addr - base);
}

static bool overlaps_ram(const struct pci_bus *bus, uint64_t addr, uint64_t size)
{
	const struct guest_memory *mem = &bus->vm->mem;
	unsigned i;

	for (i = 0; i < mem->nregions; i++) {
		const struct mem_region *r = &mem->regions[i];
		if (addr < r->gpa + r->size && r->gpa < addr + size)
			return true;
	}
	return false;
}

/* Whether the bus may decode b at addr: inside its window, not over RAM. */
static bool bar_placement_ok(const struct pci_function *fn, const struct pci_bar *b, uint64_t addr)
{
	const struct pci_bus *bus = fn->bus;

	if (b->type == PCI_BAR_IO)
		return range_inside(addr, b->size, bus->io_base, bus->io_size);
	return range_inside(addr, b->size, bus->mmio_base, bus->mmio_size) &&
	       !overlaps_ram(bus, addr, b->size);
}

static void bar_unmap(struct pci_function *fn, unsigned bar)
{
	struct pci_bar *b = &fn->bars[bar];

	io_bus_unregister(bar_bus(fn, b), b->mapped_addr, b->opaque);
	b->mapped = false;
	if (b->moved)
		b->moved(b->opaque, bar, false, b->mapped_addr);
}

static void bar_map(struct pci_function *fn, unsigned bar, uint64_t addr)
{
	struct pci_bar *b = &fn->bars[bar];
	int err;

	if (!bar_placement_ok(fn, b, addr)) {
		log_warn_ratelimited(&fn->bus->rl, "pci",
				     "%s: BAR%u at 0x%llx (size 0x%llx) is outside the window or "
				     "over RAM; not mapped",
				     fn->name, bar, (unsigned long long)addr,
				     (unsigned long long)b->size);
		return;
	}
	err = io_bus_register(bar_bus(fn, b), addr, b->size, b->ops, b->opaque);
	if (err) {
		log_warn_ratelimited(&fn->bus->rl, "pci",
				     "%s: BAR%u at 0x%llx overlaps another range (%d); not mapped",
				     fn->name, bar, (unsigned long long)addr, err);
		return;
	}
	b->mapped = true;
	b->mapped_addr = addr;
	if (b->moved)
		b->moved(b->opaque, bar, true, addr);
}

/* Brings the io buses in line with the command register and the BARs. */
static void update_bar_mappings(struct pci_function *fn)
{
	uint16_t command = fn->cfg.hdr.command;
	unsigned bar;

	for (bar = 0; bar < PCI_NUM_BARS; bar++) {
		struct pci_bar *b = &fn->bars[bar];
		bool decode;
		uint64_t addr;

		if (b->type == PCI_BAR_UNUSED || !fn->bus)
			continue;
		decode = command & (b->type == PCI_BAR_IO ? PCI_COMMAND_IO : PCI_COMMAND_MEMORY);
		addr = pci_bar_address(fn, bar);
		if (b->mapped && (!decode || addr != b->mapped_addr))
			bar_unmap(fn, bar);
		if (decode && !b->mapped && addr != 0)
			bar_map(fn, bar, addr);
	}
}

static bool dword_access_ok(unsigned offset, unsigned len)
{
	return (len == 1 || len == 2 || len == 4) && (offset & 3) + len <= 4;
}

uint32_t pci_config_read(struct pci_function *fn, unsigned offset, unsigned len)
{
	if (!dword_access_ok(offset, len) || offset >= PCI_ECAM_FUNCTION_SIZE)
		return len < 4 ? (1u << (8 * len)) - 1 : 0xffffffffu;
	if (offset >= PCI_CONFIG_SIZE)
		return 0; /* extended config space: no extended capabilities */
	if (fn->hooks && fn->hooks->before_read)
		fn->hooks->before_read(fn->hooks_opaque, offset, len);
	return (uint32_t)get_le_n(&fn->cfg.bytes[offset], len);
}

static bool touches(unsigned offset, unsigned len, unsigned start, unsigned end)
{
	return offset < end && start < offset + len;
}

void pci_config_write(struct pci_function *fn, unsigned offset, uint32_t value, unsigned len)
{
	unsigned i;

	if (!dword_access_ok(offset, len) || offset >= PCI_CONFIG_SIZE)
		return;
	for (i = 0; i < len; i++) {
		uint8_t v = (uint8_t)(value >> (8 * i));
		uint8_t *cur = &fn->cfg.bytes[offset + i];
		uint8_t wm = fn->wmask[offset + i], w1c = fn->w1cmask[offset + i];

		*cur = (uint8_t)(((*cur & ~wm) | (v & wm)) & ~(v & w1c));
	}
	if (touches(offset, len, PCI_COMMAND, PCI_COMMAND + 2) ||
	    touches(offset, len, PCI_BASE_ADDRESS_0, PCI_BASE_ADDRESS_5 + 4))
		update_bar_mappings(fn);
	if (fn->msix)
		msix_config_written(fn->msix, offset, len);
	if (fn->hooks && fn->hooks->after_write)
		fn->hooks->after_write(fn->hooks_opaque, offset, len);
}
