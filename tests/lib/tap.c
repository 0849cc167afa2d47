/* TAP-style check lines ("ok - KIND: ...") for the test programs the suite scripts count. */
#include "tests/lib/tap.h"

#include <stdarg.h>
#include <stdio.h>

void test_check(struct test_tally *t, bool cond, const char *fmt, ...)
{
	va_list ap;

	printf("%s - %s: ", cond ? "ok" : "not ok", t->kind);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	if (cond)
		t->passed++;
	else
		t->failed++;
}
