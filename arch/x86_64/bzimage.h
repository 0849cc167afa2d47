/*
 * The Linux x86 boot protocol's bzImage: setup-header checks, and the
 * compressed vmlinux payload decompressed once on the host and cached by
 * content hash, so the guest does not spend seconds decompressing itself.
 */
#ifndef ARCH_X86_64_BZIMAGE_H
#define ARCH_X86_64_BZIMAGE_H

#include <asm/bootparam.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct bzimage {
	struct setup_header hdr; /* as found at 0x1f1 */
	unsigned hdr_len;	 /* bytes of setup header the kernel defines */
	uint64_t setup_size;	 /* real-mode part: (setup_sects + 1) * 512 */
	uint64_t kernel_size;	 /* protected-mode part that follows it */
	uint64_t file_size;
};

/* True when fd starts with a bzImage boot sector and "HdrS" header. */
bool bzimage_detect(int fd);

/*
 * Reads and validates the setup header: 64-bit entry (boot protocol 2.12+
 * with XLF_KERNEL_64) and a loadable-high kernel. err says what is wrong.
 */
int bzimage_parse(int fd, struct bzimage *bz, char *err, unsigned err_size);

/*
 * Returns a read-only fd of the ELF vmlinux inside the bzImage's XZ
 * payload, from the cache directory when present ($VMM_CACHE_DIR, else
 * $XDG_CACHE_HOME/vmm, else ~/.cache/vmm), else decompressed now (and
 * cached when the directory is writable). -ENOTSUP for payloads that are
 * not XZ; the caller then boots the bzImage's own decompressor.
 */
int bzimage_vmlinux_fd(int fd, const struct bzimage *bz, char *err, unsigned err_size);

/* How a thread running bzimage_vmlinux_fd_fetch and the one waiting for it talk. */
struct bzimage_fetch {
	atomic_bool cancel;	   /* set by the waiter: stop decompressing (-ECANCELED) */
	atomic_bool decompressing; /* set by the worker: no cache entry, decompressing now */
};

/*
 * bzimage_vmlinux_fd for a worker thread: logs nothing (it sets
 * fetch->decompressing instead, for the waiter to say why it waits) and
 * gives up between two chunks once fetch->cancel is set, leaving no
 * partial cache entry. fetch may be NULL.
 */
int bzimage_vmlinux_fd_fetch(int fd, const struct bzimage *bz, struct bzimage_fetch *fetch,
			     char *err, unsigned err_size);

#endif
