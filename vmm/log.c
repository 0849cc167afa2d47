/* Logging to stderr with a monotonic timestamp and a component prefix. */
#include "vmm/log.h"
#include "vmm/clock.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

static enum log_level log_threshold = LOG_INFO;

void log_set_level(enum log_level level)
{
	log_threshold = level;
}

enum log_level log_get_level(void)
{
	return log_threshold;
}

void log_msg(enum log_level level, const char *component, const char *fmt, ...)
{
	static const char *const level_names[] = {"error", "warning", "info", "debug"};
	char line[1024];
	va_list ap;
	int n;

	if (level > log_threshold)
		return;
	n = snprintf(line, sizeof(line), "vmm: %s: %s: ", component, level_names[level]);
	va_start(ap, fmt);
	if (n > 0 && (size_t)n < sizeof(line))
		vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	/* One fputs per line keeps lines from different threads whole. */
	fprintf(stderr, "%s\n", line);
}

bool log_ratelimit_allow(struct log_ratelimit *rl, unsigned burst)
{
	uint64_t now = monotonic_ns();

	if (now - rl->window_start_ns >= 1000000000ull) {
		if (rl->suppressed)
			log_msg(LOG_WARN, "log", "%u similar messages suppressed", rl->suppressed);
		rl->window_start_ns = now;
		rl->emitted = 0;
		rl->suppressed = 0;
	}
	if (rl->emitted < burst) {
		rl->emitted++;
		return true;
	}
	rl->suppressed++;
	return false;
}
