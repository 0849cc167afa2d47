/* The platform devices a guest can poke at will: their log lines stay bounded. */
#include <stdint.h>
#include <stdlib.h>

#include "devices/platform.h"
#include "tests/lib/fake_vm.h"
#include "tests/lib/fds.h"
#include "tests/unit/check_main.h"
#include "vmm/iobus.h"
#include "vmm/log.h"
#include "vmm/vm.h"

#define TEST_PVPANIC_PORT 0x505
#define SLEEP_CONTROL 0x600
#define PVPANIC_CRASH_LOADED 2
#define SLP_EN 0x20

static void guest_out(struct vm *vm, uint16_t port, uint8_t value)
{
	ck_assert(io_bus_access(&vm->pio, port, &value, 1, true));
}

/* 1,000 "crash kernel loaded" events and 1,000 requests for an absent sleep state. */
START_TEST(guest_loops_give_bounded_lines)
{
	const struct ram_range ram = {0, 1 << 20};
	const struct acpi_power_ports ports = {.sleep_control = SLEEP_CONTROL,
					       .sleep_status = SLEEP_CONTROL + 1,
					       .reset = SLEEP_CONTROL + 2,
					       .reset_value = 1,
					       .s5_sleep_type = 5};
	struct vm *vm = calloc(1, sizeof(*vm));
	struct acpi_power power;
	int saved, lines;

	ck_assert_ptr_nonnull(vm);
	ck_assert_int_eq(test_vm_init(vm, &ram, 1), 0);
	ck_assert_int_eq(pvpanic_register(vm, &vm->pio, TEST_PVPANIC_PORT), 0);
	ck_assert_int_eq(acpi_power_register(vm, &power, &ports), 0);
	saved = test_stderr_begin();
	ck_assert_int_ge(saved, 0);
	for (int i = 0; i < 1000; i++) {
		guest_out(vm, TEST_PVPANIC_PORT, PVPANIC_CRASH_LOADED);
		guest_out(vm, SLEEP_CONTROL, SLP_EN | 3 << 2); /* S3: not offered */
	}
	lines = test_stderr_end(saved);
	ck_assert_msg(lines >= 2 && lines <= 2 * LOG_RATELIMIT_BURST + 2, "%d lines", lines);
	ck_assert(!vm_exit_requested(vm));
	test_vm_destroy(vm);
	free(vm);
}
END_TEST

static Suite *platform_suite(void)
{
	Suite *s = suite_create("platform");
	TCase *tc = tcase_create("log");

	tcase_add_test(tc, guest_loops_give_bounded_lines);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(platform_suite)
