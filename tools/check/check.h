/* The vhost-user conformance checker's shared state: the connection, guest memory, result rows. */
#ifndef TOOLS_CHECK_CHECK_H
#define TOOLS_CHECK_CHECK_H

#include <stdbool.h>
#include <stdio.h>

#include "vhost_user/display/display.h"
#include "tests/lib/vq_driver.h"
#include "vhost_user/frontend.h"
#include "vhost_user/trace.h"

#define CHECK_ROWS_MAX 80
#define CHECK_QUEUES_MAX 4
#define CHECK_QUEUE_SIZE 128
#define CHECK_RING_GPA(i) (0x10000ull * ((i) + 1))
#define CHECK_DATA_GPA 0x1000000ull
#define CHECK_IO_TIMEOUT_MS 5000

enum check_result { CHECK_PASS, CHECK_FAIL, CHECK_WARN, CHECK_INFO, CHECK_SKIP };

struct check_row {
	char name[40];
	enum check_result result;
	char detail[240];
	const char *rule; /* section of QEMU's docs/interop/vhost-user.rst, or the virtio spec */
};

struct checker {
	const char *socket;
	const struct vhost_user_type *type;
	struct vhost_user_type type_fallback;
	int timeout_ms;
	bool verbose;
	struct guest_memory mem;
	struct vhost_user_frontend fe;
	struct test_vq vqs[CHECK_QUEUES_MAX];
	unsigned nvqs;
	struct vhost_user_trace *trace;
	int capture_fd;	    /* the frontend's log goes here during a step */
	int real_stderr;    /* where it is echoed when verbose */
	char last_log[256]; /* the last error (else warning) the frontend logged in a step */
	struct check_row rows[CHECK_ROWS_MAX];
	unsigned nrows;
	struct gpu_display display; /* --type gpu: the display end of GPU_SET_SOCKET */
	bool display_on;
};

/* Adds a row; detail is printf-formatted. */
void check_row(struct checker *c, const char *name, enum check_result result, const char *rule,
	       const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Routes the frontend's log into a buffer until check_capture_end fills last_log. */
void check_capture_begin(struct checker *c);
void check_capture_end(struct checker *c);

/* A failed step's row: the frontend's own error line when it logged one. */
void check_fail_step(struct checker *c, const char *name, const char *rule, int err);

/* Feature, protocol-feature, queue-count and config checks after the handshake. */
void check_features(struct checker *c);
void check_config(struct checker *c);

/*
 * For a GPU: hands the back-end a display socket (VHOST_USER_GPU_SET_SOCKET)
 * served by vhost_user/gpu_display.c, so that it can answer GET_DISPLAY_INFO;
 * adds a row. Does nothing for other types. check_display_close undoes it.
 */
void check_display_attach(struct checker *c);
void check_display_close(struct checker *c);

/* The device type's smoke request over the started rings; when names the round. */
void check_smoke(struct checker *c, const char *when);

#endif
