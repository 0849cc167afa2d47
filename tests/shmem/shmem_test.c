/*
 * The frontend's SHMEM support against tools/vu-shmem-backend, no KVM: a
 * 4 MiB anonymous area stands in for the region's BAR, and the map/unmap
 * callbacks mmap the back-end's memfd into it the way the VMM maps it into
 * a KVM memory slot. Usage: shmem_test SOCKET good|bad
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "tests/lib/tap.h"
#include "vhost_user/frontend.h"
#include "vhost_user/shmem.h"

#define TYPE_ID 63
#define BAR_GPA 0x800000000ull
#define MAP_OFFSET 0x100000ull
#define MAP_LEN 0x10000ull
#define CHECK_OFFSET 0x8000ull
#define GUEST_MAGIC 0x600df00du

struct shmem_test {
	struct test_tally tap;
	struct vhost_user_frontend fe;
	struct vhost_user_shmem shmem;
	uint8_t *bar; /* the region as the guest would see it */
	uint64_t bar_size;
	unsigned maps, unmaps;
};

static int bar_map(void *opaque, uint64_t gpa, uint64_t size, int fd, uint64_t fd_offset, int prot)
{
	struct shmem_test *t = opaque;

	if (gpa < BAR_GPA || gpa - BAR_GPA + size > t->bar_size)
		return -ERANGE;
	if (mmap(t->bar + (gpa - BAR_GPA), size, prot, MAP_SHARED | MAP_FIXED, fd,
		 (off_t)fd_offset) == MAP_FAILED)
		return -errno;
	t->maps++;
	return 0;
}

static int bar_unmap(void *opaque, uint64_t gpa, uint64_t size)
{
	struct shmem_test *t = opaque;

	/* Back to anonymous zero pages, like a BAR hole. */
	if (mmap(t->bar + (gpa - BAR_GPA), size, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED)
		return -errno;
	t->unmaps++;
	return 0;
}

static const struct vhost_user_shmem_ops bar_ops = {.map = bar_map, .unmap = bar_unmap};
static const struct vhost_user_backend_ops backend_ops = {.shmem_map = vhost_user_shmem_map,
							  .shmem_unmap = vhost_user_shmem_unmap};

/* Serves the back-end channel until cond holds or timeout_ms passes. */
static void serve_until(struct shmem_test *t, bool (*cond)(struct shmem_test *), int timeout_ms)
{
	int waited;

	for (waited = 0; waited < timeout_ms && !cond(t); waited += 10) {
		struct pollfd pfd = {.fd = vhost_user_frontend_backend_fd(&t->fe),
				     .events = POLLIN};

		if (poll(&pfd, 1, 10) > 0)
			vhost_user_frontend_handle_backend_request(&t->fe);
	}
}

static bool mapped(struct shmem_test *t)
{
	return t->shmem.regions[0].nmaps > 0;
}
static bool unmapped(struct shmem_test *t)
{
	return t->unmaps > 0;
}

static int setup(struct shmem_test *t, const char *sock)
{
	uint64_t sizes[VHOST_USER_SHMEM_MAX_IDS];
	unsigned n = 0;
	int err;

	vhost_user_frontend_init(&t->fe, "shm0", TYPE_ID);
	/* Before the handshake: the back-end may send SHMEM_MAP as soon as it told us the sizes. */
	vhost_user_frontend_set_backend_ops(&t->fe, &backend_ops, &t->shmem);
	err = vhost_user_frontend_connect(&t->fe, sock, 10000);
	if (!err)
		err = vhost_user_frontend_handshake(&t->fe);
	test_check(&t->tap,
		   err == 0 &&
		       vhost_user_frontend_has_protocol(&t->fe, VHOST_USER_PROTOCOL_F_SHMEM),
		   "handshake, SHMEM negotiated (protocol 0x%llx)",
		   (unsigned long long)t->fe.protocol_features);
	if (!err)
		err = vhost_user_frontend_get_shmem_config(&t->fe, sizes, VHOST_USER_SHMEM_MAX_IDS,
							   1ull << 40, &n);
	test_check(&t->tap, err == 0 && n == 1 && sizes[0] == 4u << 20,
		   "GET_SHMEM_CONFIG: %u region(s), 0x%llx", n,
		   n ? (unsigned long long)sizes[0] : 0ull);
	if (err || n != 1)
		return -EPROTO;
	t->bar_size = sizes[0];
	t->bar =
	    mmap(NULL, t->bar_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	err = vhost_user_shmem_init(&t->shmem, "shm0", sizes, n, &bar_ops, t);
	if (!err)
		err = vhost_user_shmem_place(&t->shmem, 0, BAR_GPA);
	test_check(&t->tap, err == 0 && t->bar != MAP_FAILED, "region placed at 0x%llx", BAR_GPA);
	return err;
}

static void run_good(struct shmem_test *t)
{
	volatile uint32_t *words = (volatile uint32_t *)(t->bar + MAP_OFFSET);
	uint32_t i, bad = 0;

	serve_until(t, mapped, 3000);
	test_check(&t->tap, t->maps == 1, "back-end's SHMEM_MAP mapped into the region");
	for (i = 0; i < MAP_LEN / 4; i++)
		bad += words[i] != 0x53480000u + i;
	test_check(&t->tap, bad == 0,
		   "region shows the back-end's pattern at 0x%llx (%u bad words)", MAP_OFFSET, bad);
	words[CHECK_OFFSET / 4] = GUEST_MAGIC;
	serve_until(t, unmapped, 3000);
	test_check(&t->tap, t->unmaps == 1 && t->shmem.regions[0].nmaps == 0 && words[0] == 0,
		   "back-end saw our write and unmapped (region reads 0x%x again)", words[0]);
}

static void run_bad(struct shmem_test *t)
{
	serve_until(t, mapped, 3000);
	/* The back-end sends its invalid requests right after the good map; serve them all. */
	serve_until(t, unmapped, 2000);
	test_check(&t->tap,
		   t->maps == 1 && t->shmem.regions[0].nmaps == 1 && !t->fe.broken &&
		       vhost_user_frontend_backend_fd(&t->fe) >= 0,
		   "invalid requests refused, only the valid mapping exists, channel still up");
}

int main(int argc, char **argv)
{
	static struct shmem_test t = {.tap.kind = "shmem"};

	setvbuf(stdout, NULL, _IOLBF, 0);
	log_set_level(getenv("VU_DEBUG") ? LOG_DEBUG : LOG_WARN);
	if (argc != 3)
		return 2;
	if (setup(&t, argv[1]) == 0)
		strcmp(argv[2], "bad") == 0 ? run_bad(&t) : run_good(&t);
	vhost_user_shmem_reset(&t.shmem);
	vhost_user_frontend_close(&t.fe);
	printf("# shmem %s: %u passed, %u failed\n", argv[2], t.tap.passed, t.tap.failed);
	return t.tap.failed ? 1 : 0;
}
