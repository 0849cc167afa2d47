/* Start-up timeline: marks keep their first time, the init line is found in console output. */
#include <string.h>

#include "tests/unit/check_main.h"
#include "vmm/clock.h"
#include "vmm/timeline.h"

static void feed(struct boot_timeline *t, const char *text)
{
	while (*text)
		boot_timeline_console_byte(t, (uint8_t)*text++);
}

START_TEST(test_marks_keep_first_time)
{
	struct boot_timeline t;
	char line[512];
	uint64_t first;

	boot_timeline_init(&t, monotonic_ns());
	boot_timeline_mark(&t, BOOT_MARK_KERNEL);
	first = atomic_load(&t.at[BOOT_MARK_KERNEL]);
	ck_assert_uint_ne(first, 0);
	boot_timeline_mark(&t, BOOT_MARK_KERNEL);
	ck_assert_uint_eq(atomic_load(&t.at[BOOT_MARK_KERNEL]), first);
	boot_timeline_format(&t, line, sizeof(line));
	ck_assert_ptr_nonnull(strstr(line, "start=0.000 vm_created=- kernel_loaded="));
	ck_assert_ptr_nonnull(strstr(line, "init_reached=-"));
	ck_assert_ptr_null(strstr(line, "guest_uptime_at_init"));
}
END_TEST

START_TEST(test_init_line_found)
{
	struct boot_timeline t;
	char line[512];

	boot_timeline_init(&t, monotonic_ns());
	feed(&t, "\r\nVMM-GUEST: init reach");
	ck_assert_uint_ne(atomic_load(&t.at[BOOT_MARK_FIRST_OUTPUT]), 0);
	ck_assert_uint_eq(atomic_load(&t.at[BOOT_MARK_INIT]), 0);
	/* A broken-off marker, then the real one right after a V. */
	feed(&t, "\nVVMM-GUEST: init reached uptime=3.41\r\n");
	ck_assert_uint_ne(atomic_load(&t.at[BOOT_MARK_INIT]), 0);
	ck_assert_str_eq(t.uptime, "3.41");
	feed(&t, "VMM-GUEST: init reached uptime=9.99\n");
	ck_assert_str_eq(t.uptime, "3.41");
	boot_timeline_format(&t, line, sizeof(line));
	ck_assert_ptr_nonnull(strstr(line, " guest_uptime_at_init=3.41 before_guest_clock=-3."));
}
END_TEST

static Suite *timeline_suite(void)
{
	Suite *s = suite_create("timeline");
	TCase *tc = tcase_create("timeline");

	tcase_add_test(tc, test_marks_keep_first_time);
	tcase_add_test(tc, test_init_line_found);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(timeline_suite)
