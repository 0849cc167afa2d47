/* Exit-port, pvpanic and ACPI power devices: the ways a guest ends the VM. */
#include "devices/platform.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "vmm/log.h"
#include "vmm/vm.h"

#define PVPANIC_PANICKED 0x01
#define PVPANIC_CRASH_LOADED 0x02
#define ACPI_SLP_EN 0x20
#define ACPI_SLP_TYP_SHIFT 2
#define I8042_COMMAND_PORT 0x64
#define I8042_CMD_PULSE_RESET 0xfe

static void debug_exit_write(void *opaque, uint64_t offset, const void *data, unsigned len)
{
	struct vm *vm = opaque;
	uint8_t status = *(const uint8_t *)data;
	char why[48];

	(void)offset;
	(void)len;
	snprintf(why, sizeof(why), "guest wrote %u to the exit port", status);
	vm_request_exit(vm, VM_EXIT_DEBUG_PORT, status, why);
}

static const struct io_ops debug_exit_ops = {.write = debug_exit_write};

int debug_exit_register(struct vm *vm, struct io_bus *bus, uint64_t addr)
{
	return io_bus_register(bus, addr, 1, &debug_exit_ops, vm);
}

static void pvpanic_read(void *opaque, uint64_t offset, void *data, unsigned len)
{
	(void)opaque;
	(void)offset;
	memset(data, 0, len);
	*(uint8_t *)data = PVPANIC_PANICKED | PVPANIC_CRASH_LOADED;
}

static void pvpanic_write(void *opaque, uint64_t offset, const void *data, unsigned len)
{
	struct vm *vm = opaque;
	uint8_t event = *(const uint8_t *)data;

	(void)offset;
	(void)len;
	if (event & PVPANIC_PANICKED)
		vm_request_exit(vm, VM_EXIT_PANIC, VMM_STATUS_GUEST_PANIC,
				"guest kernel panic (reported through pvpanic)");
	else if (event & PVPANIC_CRASH_LOADED)
		log_warn_ratelimited(&vm->platform_rl, "pvpanic",
				     "guest kernel crashed; its crash kernel takes over");
}

static const struct io_ops pvpanic_ops = {.read = pvpanic_read, .write = pvpanic_write};

int pvpanic_register(struct vm *vm, struct io_bus *bus, uint64_t addr)
{
	return io_bus_register(bus, addr, 1, &pvpanic_ops, vm);
}

static void acpi_power_read(void *opaque, uint64_t offset, void *data, unsigned len)
{
	(void)opaque;
	(void)offset;
	/* Sleep status: the wake status bit stays clear; nothing else reads back. */
	memset(data, 0, len);
}

static void acpi_power_write(void *opaque, uint64_t offset, const void *data, unsigned len)
{
	struct acpi_power *power = opaque;
	uint16_t port = (uint16_t)(power->ports.sleep_control + offset);
	uint8_t value = *(const uint8_t *)data;

	(void)len;
	if (port == power->ports.sleep_control && (value & ACPI_SLP_EN)) {
		if (((value >> ACPI_SLP_TYP_SHIFT) & 7) == power->ports.s5_sleep_type)
			vm_request_exit(power->vm, VM_EXIT_POWEROFF, 0, "guest powered off");
		else
			log_warn_ratelimited(&power->vm->platform_rl, "acpi",
					     "guest asked for sleep state %u, which is not offered",
					     (value >> ACPI_SLP_TYP_SHIFT) & 7);
	} else if (port == power->ports.reset && value == power->ports.reset_value) {
		vm_request_exit(power->vm, VM_EXIT_REBOOT, 0, "guest reset");
	}
}

static const struct io_ops acpi_power_ops = {.read = acpi_power_read, .write = acpi_power_write};

int acpi_power_register(struct vm *vm, struct acpi_power *power,
			const struct acpi_power_ports *ports)
{
	uint16_t lo = ports->sleep_control, hi = ports->sleep_control;

	/* The three registers must sit in one small block the device owns. */
	if (ports->sleep_status < lo)
		lo = ports->sleep_status;
	if (ports->reset < lo)
		lo = ports->reset;
	if (ports->sleep_status > hi)
		hi = ports->sleep_status;
	if (ports->reset > hi)
		hi = ports->reset;
	if (lo != ports->sleep_control || hi - lo > 7)
		return -EINVAL;
	power->vm = vm;
	power->ports = *ports;
	return io_bus_register(&vm->pio, lo, (uint64_t)(hi - lo) + 1, &acpi_power_ops, power);
}

static void i8042_read(void *opaque, uint64_t offset, void *data, unsigned len)
{
	(void)opaque;
	(void)offset;
	/* Status 0: input buffer empty, so a reset command may be written. */
	memset(data, 0, len);
}

static void i8042_write(void *opaque, uint64_t offset, const void *data, unsigned len)
{
	(void)offset;
	(void)len;
	if (*(const uint8_t *)data == I8042_CMD_PULSE_RESET)
		vm_request_exit(opaque, VM_EXIT_REBOOT, 0, "guest reset through the i8042");
}

static const struct io_ops i8042_ops = {.read = i8042_read, .write = i8042_write};

int i8042_reset_register(struct vm *vm)
{
	return io_bus_register(&vm->pio, I8042_COMMAND_PORT, 1, &i8042_ops, vm);
}
