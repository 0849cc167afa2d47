/*
 * The console's output path: the guest writes the UART's THR as a vCPU
 * would, into a pipe nobody reads. Writing must never block; what does not
 * fit is dropped, counted and reported; what fits arrives whole and in order.
 */
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "tests/unit/check_main.h"
#include "vmm/console.h"
#include "vmm/vm.h"

#define PIPE_BYTES 4096 /* the pipe's capacity, set small so the test is quick */

struct fixture {
	struct vm vm;
	struct console c;
	int pipe[2]; /* the console's stdout; [0] is the reader that stalls */
	int null_fd; /* stdin: no input */
};

static struct fixture *fixture_create(void)
{
	struct fixture *f = calloc(1, sizeof(*f));

	ck_assert_ptr_nonnull(f);
	f->vm.evbase = event_base_new();
	ck_assert_ptr_nonnull(f->vm.evbase);
	f->vm.wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ck_assert_int_ge(f->vm.wake_fd, 0);
	ck_assert_int_eq(pipe2(f->pipe, O_CLOEXEC), 0);
	ck_assert_int_eq(fcntl(f->pipe[1], F_SETPIPE_SZ, PIPE_BYTES), PIPE_BYTES);
	f->null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(f->null_fd, 0);
	console_init(&f->c, &f->vm, f->null_fd, f->pipe[1]);
	ck_assert_int_eq(console_start(&f->c, f->vm.evbase), 0);
	return f;
}

static void fixture_destroy(struct fixture *f)
{
	console_destroy(&f->c);
	close(f->pipe[0]);
	close(f->pipe[1]);
	close(f->null_fd);
	close(f->vm.wake_fd);
	event_base_free(f->vm.evbase);
	free(f);
}

static uint8_t pattern(size_t i)
{
	return (uint8_t)(i * 7 % 251);
}

/* The guest writes n bytes, from index first, to the transmit register. */
static void guest_writes(struct fixture *f, size_t first, size_t n)
{
	for (size_t i = first; i < first + n; i++) {
		uint8_t byte = pattern(i);

		uart16550_io_ops.write(&f->c.uart, 0, &byte, 1);
	}
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t pipe_queued(struct fixture *f)
{
	int n = 0;

	ck_assert_int_eq(ioctl(f->pipe[0], FIONREAD, &n), 0);
	return (size_t)n;
}

/* Reads the pipe empty, flushing as the loop would, checking the bytes from index *next on. */
static void reader_catches_up(struct fixture *f, size_t *next)
{
	uint8_t buf[4096];
	ssize_t n;

	ck_assert_int_eq(fcntl(f->pipe[0], F_SETFL, O_NONBLOCK), 0);
	do {
		console_flush(&f->c);
		while ((n = read(f->pipe[0], buf, sizeof(buf))) > 0)
			for (ssize_t i = 0; i < n; i++, (*next)++)
				ck_assert_msg(buf[i] == pattern(*next), "byte %zu wrong", *next);
	} while (pipe_queued(f) || f->c.out.len);
}

START_TEST(a_stalled_reader_never_blocks_the_guest)
{
	struct fixture *f = fixture_create();
	const size_t total = PIPE_BYTES + CONSOLE_OUT_SIZE + 10000;
	size_t next = 0;
	uint64_t wakes = 0, dropped;
	double start = now_s();

	for (size_t done = 0; done < total; done += 1000) {
		guest_writes(f, done, total - done < 1000 ? total - done : 1000);
		console_flush(&f->c); /* the loop runs now and then */
	}
	ck_assert_msg(now_s() - start < 5, "writing took %.1f s", now_s() - start);
	ck_assert_int_eq(read(f->vm.wake_fd, &wakes, sizeof(wakes)), (ssize_t)sizeof(wakes));
	ck_assert_uint_gt(wakes, 0);
	/* Everything is in the pipe, in the buffer, or counted. */
	ck_assert_uint_eq(f->c.out.len, CONSOLE_OUT_SIZE);
	ck_assert_uint_eq(console_dropped(&f->c), total - CONSOLE_OUT_SIZE - pipe_queued(f));
	ck_assert_uint_ge(console_dropped(&f->c), 10000);

	/* The reader comes back: it gets what was kept, in order; new output flows again. */
	reader_catches_up(f, &next);
	dropped = console_dropped(&f->c);
	ck_assert_uint_eq(next, total - dropped);
	next = total; /* the dropped bytes were the newest, so the stream resumes here */
	guest_writes(f, total, 3000);
	reader_catches_up(f, &next);
	ck_assert_uint_eq(next, total + 3000);
	ck_assert_uint_eq(console_dropped(&f->c), dropped);
	fixture_destroy(f);
}
END_TEST

/* Runs console_stop with stderr in a file; returns what it logged. */
static char *stop_capturing_stderr(struct fixture *f)
{
	char *text = calloc(1, 4096);
	int saved = dup(2), tmp = memfd_create("stderr", MFD_CLOEXEC);

	ck_assert_ptr_nonnull(text);
	ck_assert_int_ge(tmp, 0);
	fflush(stderr);
	dup2(tmp, 2);
	console_stop(&f->c);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	ck_assert_int_ge(pread(tmp, text, 4095, 0), 0);
	close(tmp);
	return text;
}

START_TEST(drops_are_reported_at_stop)
{
	struct fixture *f = fixture_create();
	const size_t total = PIPE_BYTES + CONSOLE_OUT_SIZE + 123;
	char want[96], *logged;
	double start;

	guest_writes(f, 0, total);
	start = now_s();
	logged = stop_capturing_stderr(f);
	ck_assert_msg(now_s() - start < 1, "stop took %.1f s", now_s() - start);
	/* At stop the buffer could not be written either: all but the pipe's share is lost. */
	snprintf(want, sizeof(want), "%zu bytes of guest output dropped", total - PIPE_BYTES);
	ck_assert_msg(strstr(logged, want), "logged '%s', want '%s'", logged, want);
	free(logged);
	fixture_destroy(f);
}
END_TEST

START_TEST(a_closed_reader_drops_without_blocking)
{
	struct fixture *f = fixture_create();

	close(f->pipe[0]);
	f->pipe[0] = open("/dev/null", O_RDONLY | O_CLOEXEC);
	guest_writes(f, 0, 100);
	console_flush(&f->c); /* EPIPE (SIGPIPE is ignored, as in the VMM) */
	guest_writes(f, 100, 100);
	ck_assert_uint_eq(console_dropped(&f->c), 200);
	fixture_destroy(f);
}
END_TEST

static Suite *console_suite(void)
{
	Suite *s = suite_create("console");
	TCase *tc = tcase_create("output");

	signal(SIGPIPE, SIG_IGN);
	tcase_add_test(tc, a_stalled_reader_never_blocks_the_guest);
	tcase_add_test(tc, drops_are_reported_at_stop);
	tcase_add_test(tc, a_closed_reader_drops_without_blocking);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(console_suite)
