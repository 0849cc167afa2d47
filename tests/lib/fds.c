/* Counting the process's open file descriptors; catching stderr to count log lines. */
#include "tests/lib/fds.h"

#include <dirent.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

int test_open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d)))
		n += de->d_name[0] != '.';
	closedir(d);
	return n - 1; /* the directory's own fd */
}

int test_stderr_begin(void)
{
	int saved, mem = memfd_create("stderr", MFD_CLOEXEC);

	if (mem < 0)
		return -1;
	fflush(stderr);
	saved = dup(2);
	if (saved < 0 || dup2(mem, 2) < 0) {
		close(mem);
		return -1;
	}
	close(mem);
	return saved;
}

int test_stderr_end(int saved)
{
	char buf[4096];
	off_t off = 0;
	ssize_t n;
	int lines = 0;

	fflush(stderr);
	while ((n = pread(2, buf, sizeof(buf), off)) > 0) {
		for (ssize_t i = 0; i < n; i++)
			lines += buf[i] == '\n';
		off += n;
	}
	if (dup2(saved, 2) < 0)
		return -1;
	close(saved);
	return n < 0 ? -1 : lines;
}
