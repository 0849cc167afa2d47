/* The hostile back-end's misbehaviours, and what the frontend must make of each. */
#ifndef TESTS_HOSTILE_CASES_H
#define TESTS_HOSTILE_CASES_H

#include <stdint.h>

enum hostile_action {
	/* The reply to the trigger request, malformed. */
	ACT_BAD_VERSION,     /* flags carry version 2 */
	ACT_NO_REPLY_FLAG,   /* flags lack REPLY */
	ACT_EXTRA_FLAGS,     /* REPLY | NEED_REPLY | an undefined bit */
	ACT_WRONG_REQUEST,   /* answers as another request code */
	ACT_SIZE_SMALL,	     /* payload 4 bytes short */
	ACT_SIZE_LARGE,	     /* payload 8 bytes long */
	ACT_SIZE_OVER_LIMIT, /* hdr.size just above the largest payload */
	ACT_SIZE_HUGE,	     /* hdr.size 0xffffffff, then a few bytes */
	ACT_SPLIT,	     /* correct, dribbled byte by byte within the timeout */
	ACT_SPLIT_SLOW,	     /* correct, dribbled so slowly it overruns the timeout */
	ACT_FD_ATTACHED,     /* correct, plus one fd */
	ACT_MANY_FDS,	     /* correct, plus 24 fds */
	ACT_SILENT,	     /* no reply at all */
	ACT_CLOSE,	     /* hang up instead of replying */
	ACT_CLOSE_MID_HEADER,
	ACT_CLOSE_MID_PAYLOAD,
	ACT_DOUBLE_REPLY, /* the reply twice: the next exchange is poisoned */
	ACT_STRAY_FIRST,  /* a reply to some other request, then the right one */
	ACT_NACK,	  /* REPLY_ACK with a failure code */
	/* The reply well-formed, its value absurd. */
	ACT_NO_VERSION_1,
	ACT_ALL_FEATURES,
	ACT_ALL_PROTOCOL,
	ACT_QUEUE_NUM_0,
	ACT_QUEUE_NUM_65536,
	ACT_QUEUE_NUM_HUGE,
	ACT_CONFIG_EMPTY,      /* hdr.size 0, as libvhost-user answers a bad request */
	ACT_CONFIG_HDR_ONLY,   /* 12-byte header, config.size 0 */
	ACT_CONFIG_SIZE_FIELD, /* right hdr.size, config.size says 8 */
	ACT_CONFIG_OVERSIZE,   /* 12 + 256 bytes */
	ACT_VRING_BASE_INDEX,  /* GET_VRING_BASE for another ring */
	ACT_VRING_BASE_AHEAD,  /* base ahead of what the driver made available */
	ACT_VRING_BASE_32BIT,  /* base 0x10000 */
	ACT_STATUS_RANGE,      /* GET_STATUS 0x1ff */
	/* Requests on the back-end channel, sent before the trigger's normal reply. */
	ACT_CH_GARBAGE,
	ACT_CH_BAD_FLAGS,
	ACT_CH_UNKNOWN,
	ACT_CH_FDS,	     /* VRING_CALL carrying three fds */
	ACT_CH_TOO_MANY_FDS, /* CONFIG_CHANGE carrying 24 fds */
	ACT_CH_OVERSIZE,
	ACT_CH_CLOSE_MID,
	ACT_CH_BAD_INDEX, /* VRING_CALL for ring 200 */
	ACT_CH_SHMEM_NO_FD,
	ACT_CH_FLOOD,	     /* 20000 CONFIG_CHANGE_MSG */
	ACT_CH_FLOOD_ACK,    /* the same with NEED_REPLY, replies never read */
	ACT_CH_WAIT_FOR_ACK, /* blocks on its own request before replying */
	/* Whole-connection behaviours, served before the kinds above. */
	ACT_STOP_READING, /* no REPLY_ACK; from the trigger on, never reads again */
	ACT_ACK_DRIBBLE,  /* from the trigger on, every reply byte by byte, each just inside 300 ms
			   */
	ACT_SHMEM_HUGE,	  /* SHMEM offered; GET_SHMEM_CONFIG reports 0x8000000000001000 bytes */
	ACT_ORDER_CHECK,  /* hangs up if GPU_SET_SOCKET arrives before SET_MEM_TABLE */
};

/* How the driver plays the front-end's part for a case. */
enum hostile_drive {
	DRIVE_PLAIN,	    /* one request at a time */
	DRIVE_BATCHED,	    /* run time: the rings and status as one pipelined batch */
	DRIVE_CONFIG_FLOOD, /* start-up: SET_CONFIG after SET_CONFIG, as a guest writing cache_type
			     */
	DRIVE_GPU_BATCH,    /* start-up: features, memory table, GPU_SET_SOCKET as one batch */
};

enum hostile_expect {
	EXPECT_FAIL,	/* the step fails; one error names device, message, field */
	EXPECT_OK,	/* the frontend copes; no error at all */
	EXPECT_CHANNEL, /* the main path works; warnings name the channel problem */
};

struct hostile_case {
	const char *name;
	enum hostile_action action;
	uint32_t startup_at; /* request that triggers it during handshake/config; 0: none */
	uint32_t runtime_at; /* ... after the rings started; 0: none */
	enum hostile_expect expect;
	/* Substring of the error after "DEVICE: "; %s is the trigger's request name. */
	const char *pattern;
	enum hostile_drive drive;
};

extern const struct hostile_case hostile_cases[];
extern const unsigned hostile_ncases;

/* The case called name, or NULL. */
const struct hostile_case *hostile_case_find(const char *name);

/* Prints the table for scripts, a line per case: name, startup and run-time
 * trigger ("-": none), expectation (fail|ok|channel), pattern, tab-separated. */
void hostile_print_table(void);

#endif
