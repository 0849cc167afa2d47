/* The hostile back-end's case table: shared by the fake back-end and the test driver. */
#include "tests/hostile/cases.h"

#include <stdio.h>
#include <string.h>

#include "vhost_user/wire.h"
#include "vmm/util.h"

#define GF VHOST_USER_GET_FEATURES
#define GVB VHOST_USER_GET_VRING_BASE
#define BRQ VHOST_USER_SET_BACKEND_REQ_FD
#define ENA VHOST_USER_SET_VRING_ENABLE

const struct hostile_case hostile_cases[] = {
    {"bad-version", ACT_BAD_VERSION, GF, GVB, EXPECT_FAIL,
     "hostile0: %s: flags: expected 0x5, got 0x6", DRIVE_PLAIN},
    {"no-reply-flag", ACT_NO_REPLY_FLAG, GF, GVB, EXPECT_FAIL,
     "hostile0: %s: flags: expected 0x5, got 0x1", DRIVE_PLAIN},
    {"extra-flags", ACT_EXTRA_FLAGS, GF, GVB, EXPECT_FAIL,
     "hostile0: %s: flags: expected 0x5, got 0x10d", DRIVE_PLAIN},
    {"wrong-request", ACT_WRONG_REQUEST, GF, GVB, EXPECT_FAIL, "hostile0: %s: request: expected",
     DRIVE_PLAIN},
    {"size-small", ACT_SIZE_SMALL, GF, GVB, EXPECT_FAIL, "hostile0: %s: size: expected",
     DRIVE_PLAIN},
    {"size-large", ACT_SIZE_LARGE, GF, GVB, EXPECT_FAIL, "hostile0: %s: size: expected",
     DRIVE_PLAIN},
    {"size-over-limit", ACT_SIZE_OVER_LIMIT, GF, GVB, EXPECT_FAIL,
     "hostile0: %s: size: expected 0..4096, got 4097", DRIVE_PLAIN},
    {"size-huge", ACT_SIZE_HUGE, GF, GVB, EXPECT_FAIL,
     "hostile0: %s: size: expected 0..4096, got 4294967295", DRIVE_PLAIN},
    {"split-reply", ACT_SPLIT, GF, GVB, EXPECT_OK, NULL, DRIVE_PLAIN},
    {"split-reply-slow", ACT_SPLIT_SLOW, GF, GVB, EXPECT_FAIL, "hostile0: %s: timeout",
     DRIVE_PLAIN},
    {"fd-attached", ACT_FD_ATTACHED, GF, GVB, EXPECT_FAIL, "hostile0: %s: fds: expected 0, got 1",
     DRIVE_PLAIN},
    {"many-fds", ACT_MANY_FDS, GF, GVB, EXPECT_FAIL, "hostile0: %s: fds: more than allowed",
     DRIVE_PLAIN},
    {"no-reply", ACT_SILENT, GF, GVB, EXPECT_FAIL, "hostile0: %s: reply timeout", DRIVE_PLAIN},
    {"close-at-request", ACT_CLOSE, GF, GVB, EXPECT_FAIL, "hostile0: %s: hang-up", DRIVE_PLAIN},
    {"close-mid-header", ACT_CLOSE_MID_HEADER, GF, GVB, EXPECT_FAIL, "hostile0: %s: hang-up",
     DRIVE_PLAIN},
    {"close-mid-payload", ACT_CLOSE_MID_PAYLOAD, GF, GVB, EXPECT_FAIL, "hostile0: %s: hang-up",
     DRIVE_PLAIN},
    {"double-reply", ACT_DOUBLE_REPLY, GF, GVB, EXPECT_FAIL, "request: expected", DRIVE_PLAIN},
    {"stray-reply-first", ACT_STRAY_FIRST, GF, GVB, EXPECT_FAIL, "hostile0: %s: request: expected",
     DRIVE_PLAIN},
    {"nack", ACT_NACK, VHOST_USER_SET_FEATURES, VHOST_USER_SET_VRING_KICK, EXPECT_FAIL,
     "hostile0: %s: back-end replied failure (1)", DRIVE_PLAIN},
    {"no-version-1", ACT_NO_VERSION_1, GF, 0, EXPECT_FAIL,
     "hostile0: %s: VERSION_1 bit: expected 1, got 0", DRIVE_PLAIN},
    {"all-features", ACT_ALL_FEATURES, GF, 0, EXPECT_OK, NULL, DRIVE_PLAIN},
    {"all-protocol-features", ACT_ALL_PROTOCOL, VHOST_USER_GET_PROTOCOL_FEATURES, 0, EXPECT_OK,
     NULL, DRIVE_PLAIN},
    {"queue-num-0", ACT_QUEUE_NUM_0, VHOST_USER_GET_QUEUE_NUM, 0, EXPECT_FAIL,
     "hostile0: %s: queue count: expected 1..1024, got 0", DRIVE_PLAIN},
    {"queue-num-65536", ACT_QUEUE_NUM_65536, VHOST_USER_GET_QUEUE_NUM, 0, EXPECT_FAIL,
     "hostile0: %s: queue count: expected 1..1024, got 65536", DRIVE_PLAIN},
    {"queue-num-huge", ACT_QUEUE_NUM_HUGE, VHOST_USER_GET_QUEUE_NUM, 0, EXPECT_FAIL,
     "hostile0: %s: queue count: expected 1..1024, got 18446744073709551615", DRIVE_PLAIN},
    {"config-empty", ACT_CONFIG_EMPTY, VHOST_USER_GET_CONFIG, 0, EXPECT_FAIL,
     "hostile0: %s: size: expected 72, got 0", DRIVE_PLAIN},
    {"config-header-only", ACT_CONFIG_HDR_ONLY, VHOST_USER_GET_CONFIG, 0, EXPECT_FAIL,
     "hostile0: %s: size: expected 72, got 12", DRIVE_PLAIN},
    {"config-size-field", ACT_CONFIG_SIZE_FIELD, VHOST_USER_GET_CONFIG, 0, EXPECT_FAIL,
     "hostile0: %s: config.size: expected 60, got 8", DRIVE_PLAIN},
    {"config-oversize", ACT_CONFIG_OVERSIZE, VHOST_USER_GET_CONFIG, 0, EXPECT_FAIL,
     "hostile0: %s: size: expected 72, got 268", DRIVE_PLAIN},
    {"vring-base-index", ACT_VRING_BASE_INDEX, 0, GVB, EXPECT_FAIL,
     "hostile0: %s: index: expected 0, got 7", DRIVE_PLAIN},
    {"vring-base-ahead", ACT_VRING_BASE_AHEAD, 0, GVB, EXPECT_FAIL, "hostile0: %s: base",
     DRIVE_PLAIN},
    {"vring-base-32bit", ACT_VRING_BASE_32BIT, 0, GVB, EXPECT_FAIL, "hostile0: %s: base",
     DRIVE_PLAIN},
    {"status-range", ACT_STATUS_RANGE, 0, VHOST_USER_GET_STATUS, EXPECT_FAIL,
     "hostile0: %s: status: expected 0..255, got 511", DRIVE_PLAIN},
    {"channel-garbage", ACT_CH_GARBAGE, BRQ, ENA, EXPECT_CHANNEL,
     "back-end channel closed: hostile0: UNKNOWN: size: expected 0..4096", DRIVE_PLAIN},
    {"channel-bad-flags", ACT_CH_BAD_FLAGS, BRQ, ENA, EXPECT_CHANNEL,
     "BACKEND_CONFIG_CHANGE_MSG: flags: expected 0x1 (or 0x9), got 0x5", DRIVE_PLAIN},
    {"channel-unknown-request", ACT_CH_UNKNOWN, BRQ, ENA, EXPECT_CHANNEL,
     "back-end request 99 (UNKNOWN) not supported", DRIVE_PLAIN},
    {"channel-fds", ACT_CH_FDS, BRQ, ENA, EXPECT_CHANNEL,
     "BACKEND_VRING_CALL: size/fds: expected 8/0, got 8/3", DRIVE_PLAIN},
    {"channel-too-many-fds", ACT_CH_TOO_MANY_FDS, BRQ, ENA, EXPECT_CHANNEL,
     "BACKEND_CONFIG_CHANGE_MSG: fds: more than allowed", DRIVE_PLAIN},
    {"channel-oversize", ACT_CH_OVERSIZE, BRQ, ENA, EXPECT_CHANNEL,
     "BACKEND_CONFIG_CHANGE_MSG: size: expected 0..4096, got 65536", DRIVE_PLAIN},
    {"channel-close-mid-message", ACT_CH_CLOSE_MID, BRQ, ENA, EXPECT_CHANNEL,
     "back-end channel closed: hostile0: back-end channel: ", DRIVE_PLAIN},
    {"channel-bad-index", ACT_CH_BAD_INDEX, BRQ, ENA, EXPECT_CHANNEL,
     "BACKEND_VRING_CALL: index: expected 0..0, got 200", DRIVE_PLAIN},
    {"channel-shmem-map-no-fd", ACT_CH_SHMEM_NO_FD, BRQ, ENA, EXPECT_CHANNEL,
     "BACKEND_SHMEM_MAP: size/fds: expected 40/1, got 40/0", DRIVE_PLAIN},
    {"channel-config-change-flood", ACT_CH_FLOOD, BRQ, ENA, EXPECT_OK, NULL, DRIVE_PLAIN},
    {"channel-flood-replies-unread", ACT_CH_FLOOD_ACK, BRQ, ENA, EXPECT_CHANNEL,
     "back-end channel closed: reply failed", DRIVE_PLAIN},
    {"channel-waits-for-ack", ACT_CH_WAIT_FOR_ACK, BRQ, ENA, EXPECT_OK, NULL, DRIVE_PLAIN},
    {"stops-reading", ACT_STOP_READING, VHOST_USER_SET_CONFIG, 0, EXPECT_FAIL,
     "hostile0: SET_CONFIG: send timeout (the back-end stopped reading)", DRIVE_CONFIG_FLOOD},
    {"ack-dribble", ACT_ACK_DRIBBLE, 0, VHOST_USER_SET_VRING_NUM, EXPECT_FAIL, "timeout",
     DRIVE_BATCHED},
    {"shmem-size-huge", ACT_SHMEM_HUGE, VHOST_USER_GET_SHMEM_CONFIG, 0, EXPECT_FAIL,
     "hostile0: GET_SHMEM_CONFIG: region size (the MMIO window): expected 0..536870912, got "
     "9223372036854779904",
     DRIVE_PLAIN},
    {"gpu-socket-in-order", ACT_ORDER_CHECK, VHOST_USER_GPU_SET_SOCKET, 0, EXPECT_OK, NULL,
     DRIVE_GPU_BATCH},
};

const unsigned hostile_ncases = ARRAY_SIZE(hostile_cases);

const struct hostile_case *hostile_case_find(const char *name)
{
	unsigned i;

	for (i = 0; i < hostile_ncases; i++) {
		if (strcmp(hostile_cases[i].name, name) == 0)
			return &hostile_cases[i];
	}
	return NULL;
}

static const char *request_or_dash(uint32_t request)
{
	return request ? vhost_user_request_name(request) : "-";
}

/* The case table for scripts: name, startup and run-time trigger, expectation, pattern. */
void hostile_print_table(void)
{
	static const char *const expect[] = {"fail", "ok", "channel"};

	for (unsigned i = 0; i < hostile_ncases; i++) {
		const struct hostile_case *c = &hostile_cases[i];

		printf("%s\t%s\t%s\t%s\t%s\n", c->name, request_or_dash(c->startup_at),
		       request_or_dash(c->runtime_at), expect[c->expect],
		       c->pattern ? c->pattern : "-");
	}
}
