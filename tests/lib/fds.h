/*
 * Counting the process's open file descriptors, for tests that check nothing
 * leaks; and catching stderr, for tests that count log lines.
 */
#ifndef TESTS_LIB_FDS_H
#define TESTS_LIB_FDS_H

/* Open fds of this process (the count's own directory fd not included), or -1. */
int test_open_fds(void);

/* Sends stderr to a fresh memory file until test_stderr_end; returns the saved fd, or -1. */
int test_stderr_begin(void);

/* Puts stderr back (saved from test_stderr_begin) and returns the lines written since, or -1. */
int test_stderr_end(int saved);

#endif
