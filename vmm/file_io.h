/* Reading files straight into guest memory, so loaded images never count as VMM memory. */
#ifndef VMM_FILE_IO_H
#define VMM_FILE_IO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct guest_memory;

/* pread()s exactly len bytes at offset into dst; -EIO on a short file, -errno otherwise. */
int read_exact_at(int fd, void *dst, size_t len, off_t offset);

/* Reads len bytes of fd at offset into guest memory at gpa; -EFAULT if outside RAM. */
int read_into_guest(int fd, off_t offset, size_t len, const struct guest_memory *mem, uint64_t gpa);

/* Size of an open file, or -errno. */
int64_t file_size(int fd);

#endif
