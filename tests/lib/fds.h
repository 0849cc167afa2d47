/* Counting the process's open file descriptors, for tests that check nothing leaks. */
#ifndef TESTS_LIB_FDS_H
#define TESTS_LIB_FDS_H

/* Open fds of this process (the count's own directory fd not included), or -1. */
int test_open_fds(void);

#endif
