/* pread helpers that copy file contents directly into guest RAM. */
#include "vmm/file_io.h"

#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmm/memory.h"

int read_exact_at(int fd, void *dst, size_t len, off_t offset)
{
	char *p = dst;

	while (len) {
		ssize_t n = pread(fd, p, len, offset);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO;
		p += n;
		len -= (size_t)n;
		offset += n;
	}
	return 0;
}

int read_into_guest(int fd, off_t offset, size_t len, const struct guest_memory *mem, uint64_t gpa)
{
	void *dst = guest_memory_ptr(mem, gpa, len);

	if (!dst)
		return -EFAULT;
	return read_exact_at(fd, dst, len, offset);
}

int64_t file_size(int fd)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	return st.st_size;
}
