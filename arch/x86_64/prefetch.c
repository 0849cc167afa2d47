/* The bzImage's vmlinux found or decompressed on a thread while the VM is built. */
#include "arch/x86_64/prefetch.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "arch/arch.h"
#include "arch/x86_64/bzimage.h"
#include "vmm/log.h"

/* How often a waiting main thread looks whether the worker began decompressing. */
#define JOIN_POLL_NS 100000000

struct kernel_prefetch {
	pthread_t thread;
	struct bzimage_fetch fetch;
	int fd;	    /* the bzImage, as the thread read it */
	int result; /* vmlinux fd or -errno */
	char err[160];
};

static void *prefetch_main(void *arg)
{
	struct kernel_prefetch *p = arg;
	struct bzimage bz;

	if (!bzimage_detect(p->fd))
		p->result = -ENOTSUP;
	else
		p->result = bzimage_parse(p->fd, &bz, p->err, sizeof(p->err));
	if (p->result == 0)
		p->result = bzimage_vmlinux_fd_fetch(p->fd, &bz, &p->fetch, p->err, sizeof(p->err));
	return NULL;
}

struct kernel_prefetch *arch_kernel_prefetch_start(const char *path)
{
	struct kernel_prefetch *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (p->fd >= 0 && pthread_create(&p->thread, NULL, prefetch_main, p) == 0)
		return p;
	if (p->fd >= 0)
		close(p->fd);
	free(p);
	return NULL;
}

static int same_file(int a, int b)
{
	struct stat sa, sb;

	return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino;
}

/*
 * Waits for the thread. Unless quiet, a wait for a decompression says why
 * it is long, once, as soon as the thread has begun one.
 */
static void prefetch_join(struct kernel_prefetch *p, bool quiet)
{
	bool told = quiet;
	struct timespec until;

	for (;;) {
		if (!told && atomic_load(&p->fetch.decompressing)) {
			log_info(
			    "boot",
			    "decompressing the kernel once on the host (cached for later boots)");
			told = true;
		}
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += JOIN_POLL_NS;
		if (until.tv_nsec >= 1000000000) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000;
		}
		if (pthread_timedjoin_np(p->thread, NULL, &until) == 0)
			return;
	}
}

/* Frees p and returns the vmlinux fd, or -errno; -ESTALE when fd is not the file p read. */
static int prefetch_finish(struct kernel_prefetch *p, int kernel_fd)
{
	int r = p->result;

	if (r >= 0 && !same_file(p->fd, kernel_fd)) {
		close(r);
		r = -ESTALE;
	}
	close(p->fd);
	free(p);
	return r;
}

int kernel_prefetch_take(struct kernel_prefetch *p, int kernel_fd, char *err, unsigned err_size)
{
	prefetch_join(p, false);
	snprintf(err, err_size, "%s", p->err);
	return prefetch_finish(p, kernel_fd);
}

void arch_kernel_prefetch_cancel(struct kernel_prefetch *p)
{
	int r;

	if (!p)
		return;
	/* An abandoned boot does not wait for a decompression nobody will use. */
	atomic_store(&p->fetch.cancel, true);
	prefetch_join(p, true);
	r = prefetch_finish(p, p->fd);
	if (r >= 0)
		close(r);
}
