/* Leveled, printf-checked logging with a per-component prefix. */
#ifndef VMM_LOG_H
#define VMM_LOG_H

#include <stdbool.h>
#include <stdint.h>

enum log_level { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG };

/*
 * The threshold is process-wide configuration, set once from the command
 * line before any thread starts; it is never written afterwards.
 */
void log_set_level(enum log_level level);
enum log_level log_get_level(void);

/* "component" names the device or subsystem, e.g. "uart", "vhost-user blk0". */
void log_msg(enum log_level level, const char *component, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define log_error(comp, ...) log_msg(LOG_ERROR, comp, __VA_ARGS__)
#define log_warn(comp, ...) log_msg(LOG_WARN, comp, __VA_ARGS__)
#define log_info(comp, ...) log_msg(LOG_INFO, comp, __VA_ARGS__)
#define log_debug(comp, ...) log_msg(LOG_DEBUG, comp, __VA_ARGS__)

/*
 * Rate limiting for messages a guest or a backend can trigger at will:
 * at most "burst" messages per second per limiter; the rest are counted
 * and reported once when the next window opens.
 */
struct log_ratelimit {
	uint64_t window_start_ns;
	unsigned emitted;
	unsigned suppressed;
};

bool log_ratelimit_allow(struct log_ratelimit *rl, unsigned burst);

#define LOG_RATELIMIT_BURST 10 /* lines per second per limiter */

#define log_warn_ratelimited(rl, comp, ...)                                                        \
	do {                                                                                       \
		if (log_ratelimit_allow((rl), LOG_RATELIMIT_BURST))                                \
			log_msg(LOG_WARN, comp, __VA_ARGS__);                                      \
	} while (0)

#endif
