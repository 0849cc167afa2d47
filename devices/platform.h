/*
 * Small platform devices that end the VM: the debug exit port (a test's
 * verdict becomes the VMM's exit status), pvpanic (a guest kernel panic),
 * and the ACPI power ports (poweroff and reset).
 */
#ifndef DEVICES_PLATFORM_H
#define DEVICES_PLATFORM_H

#include <stdint.h>

struct vm;
struct io_bus;

/*
 * One byte written at addr of bus (x86: port 0xf4 on vm->pio; arm64: an
 * MMIO register on vm->mmio) = the VMM's exit status.
 */
int debug_exit_register(struct vm *vm, struct io_bus *bus, uint64_t addr);

/*
 * pvpanic (the ISA port or pvpanic-mmio, one byte at addr of bus): reads
 * advertise PANICKED|CRASH_LOADED; a PANICKED write stops the VM as a panic.
 */
int pvpanic_register(struct vm *vm, struct io_bus *bus, uint64_t addr);

/*
 * Hardware-reduced ACPI sleep control/status registers and reset register,
 * plus the i8042 "pulse reset line" command Linux falls back to.
 */
struct acpi_power_ports {
	uint16_t sleep_control;
	uint16_t sleep_status;
	uint16_t reset;
	uint8_t reset_value;
	uint8_t s5_sleep_type; /* SLP_TYP the DSDT's \_S5 package announces */
};

struct acpi_power {
	struct vm *vm;
	struct acpi_power_ports ports;
};

/* power is caller-owned storage that must outlive the VM. */
int acpi_power_register(struct vm *vm, struct acpi_power *power,
			const struct acpi_power_ports *ports);
int i8042_reset_register(struct vm *vm);

#endif
