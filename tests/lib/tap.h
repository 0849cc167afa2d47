/* TAP-style check lines ("ok - KIND: ...") for the test programs the suite scripts count. */
#ifndef TESTS_LIB_TAP_H
#define TESTS_LIB_TAP_H

#include <stdbool.h>

/* What one test program has checked so far; kind prefixes every line. */
struct test_tally {
	const char *kind;
	unsigned passed, failed;
};

/*
 * Prints "ok - KIND: MESSAGE" or "not ok - KIND: MESSAGE" and counts it. The
 * line is flushed at once, so it survives the program being killed later.
 */
void test_check(struct test_tally *t, bool cond, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
