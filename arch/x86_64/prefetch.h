/* The kernel prepared on a thread while the VM is built (arch_kernel_prefetch_start). */
#ifndef ARCH_X86_64_PREFETCH_H
#define ARCH_X86_64_PREFETCH_H

struct kernel_prefetch;

/*
 * Waits for the thread and frees p. Returns the vmlinux fd it made from
 * the bzImage open as kernel_fd, -ENOTSUP when the image has no XZ
 * payload, -ESTALE when kernel_fd is not the file the thread read (it was
 * replaced meanwhile: the caller must do the work again), or another
 * -errno with the cause in err.
 */
int kernel_prefetch_take(struct kernel_prefetch *p, int kernel_fd, char *err, unsigned err_size);

#endif
