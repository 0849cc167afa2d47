/*
 * The host-side cache of decompressed kernels: a compressed payload inside
 * a kernel file is unpacked once and kept by content hash, since boot tests
 * boot the same kernel many times and the guest would otherwise spend
 * seconds decompressing itself under nested virtualization.
 */
#ifndef VMM_KERNEL_CACHE_H
#define VMM_KERNEL_CACHE_H

#include <stddef.h>
#include <stdint.h>

/*
 * Decompresses in_len bytes of in_fd at in_offset into out_fd; returns 0,
 * -EBADMSG for a corrupt stream, -EFBIG past KERNEL_CACHE_MAX_SIZE, -errno.
 */
typedef int (*kernel_decompress_fn)(int in_fd, uint64_t in_offset, uint64_t in_len, int out_fd);

#define KERNEL_CACHE_MAX_SIZE (1ull << 30)
/* Small chunks: a large buffer would stay in the peak RSS of every boot. */
#define KERNEL_CACHE_IO_CHUNK (64u << 10)

/*
 * Returns a read-only fd of the decompressed payload: the cached copy named
 * PREFIX-HASH in $VMM_CACHE_DIR (else $XDG_CACHE_HOME/vmm, else
 * ~/.cache/vmm) when present, else decompressed now with fn (into the cache
 * when the directory is writable, atomically; else into a memfd).
 * Returns -errno on failure.
 */
int kernel_cache_fd(int fd, uint64_t offset, uint64_t len, const char *prefix,
		    kernel_decompress_fn fn);

/* write(2) until done; 0 or -errno. */
int kernel_cache_write_all(int fd, const uint8_t *buf, size_t len);

/* Copies the whole of fd in to a new file at out_path; 0 or -errno. */
int kernel_cache_copy_to_path(int in, const char *out_path);

#endif
