/* The host bridge: bus 0, config access via 0xCF8/0xCFC and ECAM, BAR windows. */
#include "pci/pci.h"

#include <errno.h>
#include <linux/pci_regs.h>
#include <string.h>

#include "vmm/vm.h"

#define CONFIG_ADDRESS_ENABLE 0x80000000u

static uint32_t all_ones(unsigned len)
{
	return len < 4 ? (1u << (8 * len)) - 1 : 0xffffffffu;
}

/* Function 0 of slot on bus 0, or NULL: nothing answers there. */
static struct pci_function *lookup(struct pci_bus *bus, unsigned busnr, unsigned slot,
				   unsigned func)
{
	if (busnr != 0 || slot >= PCI_MAX_DEVICES || func != 0)
		return NULL;
	return bus->slots[slot];
}

static void config_access(struct pci_bus *bus, struct pci_function *fn, unsigned offset, void *data,
			  unsigned len, bool is_write)
{
	uint32_t value = 0;

	if (is_write) {
		memcpy(&value, data, len);
		if (fn)
			pci_config_write(fn, offset, value, len);
		return;
	}
	value = fn ? pci_config_read(fn, offset, len) : all_ones(len);
	memcpy(data, &value, len);
	(void)bus;
}

/* Ports 0xCF8-0xCFF: a dword address latch, then a 4-byte data window. */
static void cf8_access(struct pci_bus *bus, uint64_t port_off, void *data, unsigned len,
		       bool is_write)
{
	uint32_t addr = bus->config_address;
	struct pci_function *fn;
	unsigned offset;

	if (port_off < 4) {
		/* Only whole-dword accesses hit the latch, as on real chipsets. */
		if (port_off != 0 || len != 4) {
			if (!is_write)
				memset(data, 0xff, len);
			return;
		}
		if (is_write)
			memcpy(&bus->config_address, data, 4);
		else
			memcpy(data, &bus->config_address, 4);
		return;
	}
	fn = NULL;
	if (addr & CONFIG_ADDRESS_ENABLE)
		fn = lookup(bus, (addr >> 16) & 0xff, (addr >> 11) & 0x1f, (addr >> 8) & 7);
	offset = (addr & 0xfc) + (unsigned)(port_off - 4);
	if (len > 4 || port_off - 4 + len > 4) {
		if (!is_write)
			memset(data, 0xff, len);
		return;
	}
	config_access(bus, fn, offset, data, len, is_write);
}

static void cf8_read(void *opaque, uint64_t offset, void *data, unsigned len)
{
	cf8_access(opaque, offset, data, len, false);
}

static void cf8_write(void *opaque, uint64_t offset, const void *data, unsigned len)
{
	cf8_access(opaque, offset, (void *)data, len, true);
}

static const struct io_ops cf8_ops = {.read = cf8_read, .write = cf8_write};

static void ecam_access(struct pci_bus *bus, uint64_t off, void *data, unsigned len, bool is_write)
{
	struct pci_function *fn;

	if (len > 4 || off % len != 0) {
		log_warn_ratelimited(&bus->rl, "pci", "ECAM access of %u bytes at 0x%llx dropped",
				     len, (unsigned long long)off);
		if (!is_write)
			memset(data, 0xff, len);
		return;
	}
	fn = lookup(bus, (unsigned)(off >> 20), (off >> 15) & 0x1f, (off >> 12) & 7);
	config_access(bus, fn, off & 0xfff, data, len, is_write);
}

static void ecam_read(void *opaque, uint64_t offset, void *data, unsigned len)
{
	ecam_access(opaque, offset, data, len, false);
}

static void ecam_write(void *opaque, uint64_t offset, const void *data, unsigned len)
{
	ecam_access(opaque, offset, (void *)data, len, true);
}

static const struct io_ops ecam_ops = {.read = ecam_read, .write = ecam_write};

/*
 * Writing the 0xCF8 address latch has no visible effect until the data port
 * is accessed, so KVM may buffer those writes: half the exits of every
 * legacy config access, and Linux's early bus scans make ~8000.
 */
static void coalesce_address_latch(struct vm *vm)
{
	if (vm_coalesce_writes(vm, PCI_CONFIG_ADDRESS_PORT, 4, true))
		log_debug("pci", "KVM cannot buffer 0xCF8 writes; each one exits");
}

int pci_bus_init(struct pci_bus *bus, struct vm *vm, const struct pci_windows *w)
{
	int err;

	memset(bus, 0, sizeof(*bus));
	bus->vm = vm;
	bus->ecam_base = w->ecam_base;
	bus->mmio_base = bus->mmio_next = w->mmio_base;
	bus->mmio_size = w->mmio_size;
	bus->io_base = bus->io_next = w->io_base;
	bus->io_size = w->io_size;
	if (w->mmio_base + w->mmio_size < w->mmio_base || w->io_base + w->io_size < w->io_base ||
	    w->io_base + w->io_size > 0x10000)
		return -EINVAL;
	err = io_bus_register(&vm->mmio, w->ecam_base, PCI_ECAM_BUS_SIZE, &ecam_ops, bus);
	if (err)
		return err;
	if (w->io_size) {
		err = io_bus_register(&vm->pio, PCI_CONFIG_ADDRESS_PORT, 8, &cf8_ops, bus);
		if (err)
			goto fail_ecam;
		coalesce_address_latch(vm);
	}
	pci_function_init(&bus->host_bridge, "host-bridge", PCI_HOST_BRIDGE_VENDOR,
			  PCI_HOST_BRIDGE_DEVICE, PCI_CLASS_HOST_BRIDGE, 0);
	bus->host_bridge.bus = bus;
	bus->slots[0] = &bus->host_bridge;
	return 0;
fail_ecam:
	io_bus_unregister(&vm->mmio, w->ecam_base, bus);
	return err;
}

void pci_unregister_function(struct pci_bus *bus, struct pci_function *fn)
{
	uint16_t decode = PCI_COMMAND_IO | PCI_COMMAND_MEMORY;

	if (fn->bus != bus || bus->slots[fn->slot] != fn)
		return;
	/* Turning decode off unmaps every BAR and tells the owners. */
	pci_config_write(fn, PCI_COMMAND, fn->cfg.hdr.command & ~decode, 2);
	bus->slots[fn->slot] = NULL;
	fn->bus = NULL;
}

void pci_bus_destroy(struct pci_bus *bus)
{
	unsigned slot;

	for (slot = 0; slot < PCI_MAX_DEVICES; slot++)
		if (bus->slots[slot])
			pci_unregister_function(bus, bus->slots[slot]);
	io_bus_unregister(&bus->vm->mmio, bus->ecam_base, bus);
	if (bus->io_size)
		io_bus_unregister(&bus->vm->pio, PCI_CONFIG_ADDRESS_PORT, bus);
}

/* Bump allocation, naturally aligned, from one window. */
static int window_alloc(uint64_t *next, uint64_t base, uint64_t size, uint64_t len, uint64_t *out)
{
	uint64_t addr = (*next + len - 1) & ~(len - 1);

	if (addr < *next || addr - base > size || len > size - (addr - base))
		return -ENOSPC;
	*out = addr;
	*next = addr + len;
	return 0;
}

static int assign_bars(struct pci_bus *bus, struct pci_function *fn)
{
	unsigned bar;

	for (bar = 0; bar < PCI_NUM_BARS; bar++) {
		const struct pci_bar *b = &fn->bars[bar];
		uint64_t addr;
		int err;

		if (b->type == PCI_BAR_UNUSED)
			continue;
		if (b->type == PCI_BAR_IO)
			err =
			    window_alloc(&bus->io_next, bus->io_base, bus->io_size, b->size, &addr);
		else
			err = window_alloc(&bus->mmio_next, bus->mmio_base, bus->mmio_size, b->size,
					   &addr);
		if (err)
			return err;
		fn->cfg.hdr.bar[bar] |= (uint32_t)addr;
		if (b->type == PCI_BAR_MEM64)
			fn->cfg.hdr.bar[bar + 1] = (uint32_t)(addr >> 32);
	}
	return 0;
}

int pci_register_function(struct pci_bus *bus, struct pci_function *fn)
{
	uint64_t saved_mmio = bus->mmio_next, saved_io = bus->io_next;
	unsigned slot;
	int err;

	for (slot = 1; slot < PCI_MAX_DEVICES && bus->slots[slot]; slot++)
		;
	if (slot == PCI_MAX_DEVICES)
		return -ENOSPC;
	err = assign_bars(bus, fn);
	if (err) {
		bus->mmio_next = saved_mmio;
		bus->io_next = saved_io;
		log_error("pci", "%s: BAR windows exhausted", fn->name);
		return err;
	}
	fn->bus = bus;
	fn->slot = slot;
	bus->slots[slot] = fn;
	log_debug("pci", "%s at 00:%02x.0", fn->name, slot);
	return 0;
}
