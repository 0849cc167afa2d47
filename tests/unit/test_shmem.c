/* Unit tests for shared-memory region bookkeeping: SHMEM_MAP/UNMAP validation and callbacks. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tests/lib/fds.h"
#include "tests/unit/check_main.h"
#include "vhost_user/shmem.h"

#define MIB (1ull << 20)
#define PAGE 4096ull

struct recorder {
	unsigned maps, unmaps;
	uint64_t last_gpa, last_size, last_fd_offset;
	int last_prot;
	int fail_map; /* -errno to return from map */
};

static int rec_map(void *opaque, uint64_t gpa, uint64_t size, int fd, uint64_t fd_offset, int prot)
{
	struct recorder *r = opaque;

	ck_assert_int_ge(fd, 0);
	if (r->fail_map)
		return r->fail_map;
	r->maps++;
	r->last_gpa = gpa;
	r->last_size = size;
	r->last_fd_offset = fd_offset;
	r->last_prot = prot;
	return 0;
}

static int rec_unmap(void *opaque, uint64_t gpa, uint64_t size)
{
	struct recorder *r = opaque;

	r->unmaps++;
	r->last_gpa = gpa;
	r->last_size = size;
	return 0;
}

static const struct vhost_user_shmem_ops ops = {.map = rec_map, .unmap = rec_unmap};

/* A memfd of size bytes, sealed against shrinking unless sealed is false. */
static int memfd_sealed(uint64_t size, bool sealed)
{
	int fd = memfd_create("shmem-test", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, (off_t)size), 0);
	if (sealed)
		ck_assert_int_eq(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK), 0);
	return fd;
}

static int memfd(uint64_t size)
{
	return memfd_sealed(size, true);
}

static struct vhost_user_shmem_map req(uint8_t id, uint64_t shm_off, uint64_t len, uint64_t fd_off,
				       uint64_t flags)
{
	struct vhost_user_shmem_map m = {
	    .shmid = id, .shm_offset = shm_off, .len = len, .fd_offset = fd_off, .flags = flags};
	return m;
}

/* Region 0: 4 MiB; region 1: unused (size 0); region 2: 1 MiB. */
static void setup(struct vhost_user_shmem *s, struct recorder *r)
{
	const uint64_t sizes[] = {4 * MIB, 0, MIB};

	*r = (struct recorder){0};
	ck_assert_int_eq(vhost_user_shmem_init(s, "test", sizes, 3, &ops, r), 0);
}

static int map(struct vhost_user_shmem *s, struct vhost_user_shmem_map m)
{
	return vhost_user_shmem_map(s, &m, memfd(2 * MIB));
}

START_TEST(init_checks_sizes)
{
	struct vhost_user_shmem s;
	struct recorder r;
	const uint64_t odd[] = {PAGE + 1};
	uint64_t many[VHOST_USER_SHMEM_MAX_IDS + 1] = {0};

	ck_assert_int_eq(vhost_user_shmem_init(&s, "t", odd, 1, &ops, &r), -EINVAL);
	ck_assert_int_eq(
	    vhost_user_shmem_init(&s, "t", many, VHOST_USER_SHMEM_MAX_IDS + 1, &ops, &r), -EINVAL);
}
END_TEST

START_TEST(bad_requests_refused)
{
	struct vhost_user_shmem s;
	struct recorder r;
	int fds = test_open_fds();

	setup(&s, &r);
	ck_assert_int_eq(map(&s, req(1, 0, PAGE, 0, 1)), -EINVAL); /* unused id */
	ck_assert_int_eq(map(&s, req(3, 0, PAGE, 0, 1)), -EINVAL); /* unknown id */
	ck_assert_int_eq(map(&s, req(255, 0, PAGE, 0, 1)), -EINVAL);
	ck_assert_int_eq(map(&s, req(0, 0, 0, 0, 1)), -EINVAL);	     /* empty */
	ck_assert_int_eq(map(&s, req(0, 100, PAGE, 0, 1)), -EINVAL); /* unaligned offset */
	ck_assert_int_eq(map(&s, req(0, 0, 100, 0, 1)), -EINVAL);    /* unaligned length */
	ck_assert_int_eq(map(&s, req(0, 0, PAGE, 1, 1)), -EINVAL);   /* unaligned fd offset */
	ck_assert_int_eq(map(&s, req(0, UINT64_MAX - PAGE + 1, 2 * PAGE, 0, 1)), -EOVERFLOW);
	ck_assert_int_eq(map(&s, req(0, 0, 2 * PAGE, UINT64_MAX - PAGE + 1, 1)), -EOVERFLOW);
	ck_assert_int_eq(map(&s, req(0, 4 * MIB - PAGE, 2 * PAGE, 0, 1)), -ERANGE);
	ck_assert_int_eq(map(&s, req(2, 0, 2 * MIB, 0, 1)), -ERANGE); /* region 2 is 1 MiB */
	ck_assert_int_eq(map(&s, req(0, 0, PAGE, 0, 2)), -EINVAL);    /* unknown flag */
	ck_assert_int_eq(map(&s, req(0, 0, 4 * MIB, 0, 1)), -ERANGE); /* file is 2 MiB */
	ck_assert_int_eq(map(&s, req(0, 0, PAGE, 2 * MIB, 1)), -ERANGE);
	ck_assert_uint_eq(s.regions[0].nmaps, 0);
	ck_assert_int_eq(test_open_fds(), fds); /* every refused fd was closed */
	ck_assert_uint_eq(r.maps, 0);
}
END_TEST

/* A memfd that could shrink under the guest is refused, naming the rule; a sealed one is not. */
START_TEST(memfd_must_be_sealed_against_shrinking)
{
	struct vhost_user_shmem s;
	struct vhost_user_shmem_map m = req(0, 0, PAGE, 0, 1);
	struct recorder r;
	int fds = test_open_fds();

	setup(&s, &r);
	ck_assert_int_eq(vhost_user_shmem_map(&s, &m, memfd_sealed(2 * MIB, false)), -EPERM);
	ck_assert_uint_eq(s.regions[0].nmaps, 0);
	ck_assert_int_eq(vhost_user_shmem_map(&s, &m, memfd_sealed(2 * MIB, true)), 0);
	ck_assert_uint_eq(s.regions[0].nmaps, 1);
	vhost_user_shmem_reset(&s);
	ck_assert_int_eq(test_open_fds(), fds);
}
END_TEST

/* A plain file cannot be sealed: one truncated after the map is found and dropped. */
START_TEST(shrunk_file_dropped)
{
	struct vhost_user_shmem s;
	struct vhost_user_shmem_map a = req(0, 0, 2 * PAGE, 0, 1), b = req(0, MIB, PAGE, 0, 1);
	struct recorder r;
	char path[] = "/tmp/shmem-test-XXXXXX";
	int fd = mkstemp(path), fds;

	ck_assert_int_ge(fd, 0);
	unlink(path);
	ck_assert_int_eq(ftruncate(fd, (off_t)(2 * PAGE)), 0);
	fds = test_open_fds();
	setup(&s, &r);
	ck_assert_int_eq(vhost_user_shmem_place(&s, 0, 0x100000000ull), 0);
	ck_assert_int_eq(vhost_user_shmem_map(&s, &a, dup(fd)), 0);
	ck_assert_int_eq(vhost_user_shmem_map(&s, &b, memfd(PAGE)), 0);
	ck_assert(!vhost_user_shmem_drop_shrunk(&s));
	ck_assert_int_eq(ftruncate(fd, (off_t)PAGE), 0);
	ck_assert(vhost_user_shmem_drop_shrunk(&s));
	ck_assert_uint_eq(s.regions[0].nmaps, 1); /* the memfd's mapping stays */
	ck_assert_uint_eq(s.regions[0].maps[0].offset, MIB);
	ck_assert_uint_eq(r.unmaps, 1);
	ck_assert_uint_eq(r.last_gpa, 0x100000000ull);
	ck_assert(!vhost_user_shmem_drop_shrunk(&s));
	vhost_user_shmem_reset(&s);
	ck_assert_int_eq(test_open_fds(), fds);
	close(fd);
}
END_TEST

START_TEST(map_place_overlap_unmap)
{
	struct vhost_user_shmem s;
	struct recorder r;
	struct vhost_user_shmem_map m;

	setup(&s, &r);
	/* Mapped before the BAR is placed: recorded, not yet shown to the guest. */
	ck_assert_int_eq(map(&s, req(0, MIB, 64 * 1024, PAGE, 1)), 0);
	ck_assert_uint_eq(r.maps, 0);
	ck_assert_int_eq(vhost_user_shmem_place(&s, 0, 0x100000000ull), 0);
	ck_assert_uint_eq(r.maps, 1);
	ck_assert_uint_eq(r.last_gpa, 0x100000000ull + MIB);
	ck_assert_uint_eq(r.last_size, 64 * 1024);
	ck_assert_uint_eq(r.last_fd_offset, PAGE);
	ck_assert_int_eq(r.last_prot, PROT_READ | PROT_WRITE);
	/* Overlaps on either side, and containment, are refused; adjacency is fine. */
	ck_assert_int_eq(map(&s, req(0, MIB - PAGE, 2 * PAGE, 0, 0)), -EBUSY);
	ck_assert_int_eq(map(&s, req(0, MIB + 60 * 1024, 8 * PAGE, 0, 0)), -EBUSY);
	ck_assert_int_eq(map(&s, req(0, 0, 4 * MIB, 0, 0)), -EBUSY);
	ck_assert_int_eq(map(&s, req(0, MIB + 64 * 1024, PAGE, 0, 0)), 0);
	ck_assert_int_eq(r.last_prot, PROT_READ);
	ck_assert_uint_eq(r.maps, 2);
	/* Unmap must name a whole mapping. */
	m = req(0, MIB, PAGE, 0, 0);
	ck_assert_int_eq(vhost_user_shmem_unmap(&s, &m), -ENOENT);
	m = req(0, 2 * MIB, 64 * 1024, 0, 0);
	ck_assert_int_eq(vhost_user_shmem_unmap(&s, &m), -ENOENT);
	m = req(4, MIB, 64 * 1024, 0, 0);
	ck_assert_int_eq(vhost_user_shmem_unmap(&s, &m), -EINVAL);
	m = req(0, MIB, 64 * 1024, 0, 0);
	ck_assert_int_eq(vhost_user_shmem_unmap(&s, &m), 0);
	ck_assert_uint_eq(r.unmaps, 1);
	ck_assert_uint_eq(r.last_gpa, 0x100000000ull + MIB);
	ck_assert_uint_eq(s.regions[0].nmaps, 1);
	/* The range is free again. */
	ck_assert_int_eq(map(&s, req(0, MIB, 64 * 1024, 0, 1)), 0);
	vhost_user_shmem_reset(&s);
}
END_TEST

START_TEST(replace_and_reset)
{
	struct vhost_user_shmem s;
	struct recorder r;
	int fds = test_open_fds();

	setup(&s, &r);
	ck_assert_int_eq(vhost_user_shmem_place(&s, 0, 0x200000000ull), 0);
	ck_assert_int_eq(map(&s, req(0, 0, PAGE, 0, 1)), 0);
	ck_assert_int_eq(map(&s, req(2, 0, PAGE, 0, 1)), 0); /* region 2 unplaced */
	ck_assert_uint_eq(r.maps, 1);
	/* The BAR moves: unmapped at the old address, mapped at the new one. */
	ck_assert_int_eq(vhost_user_shmem_place(&s, 0, 0x300000000ull), 0);
	ck_assert_uint_eq(r.unmaps, 1);
	ck_assert_uint_eq(r.maps, 2);
	ck_assert_uint_eq(r.last_gpa, 0x300000000ull);
	ck_assert_int_eq(vhost_user_shmem_place(&s, 0, VHOST_USER_SHMEM_NO_GPA), 0);
	ck_assert_uint_eq(r.unmaps, 2);
	ck_assert_int_eq(vhost_user_shmem_place(&s, 1, 0x400000000ull), -EINVAL); /* unused */
	ck_assert_int_eq(vhost_user_shmem_place(&s, 0, 0x400000001ull), -EINVAL);
	ck_assert_int_eq(vhost_user_shmem_place(&s, 0, 0x400000000ull), 0);
	ck_assert_uint_eq(r.maps, 3);
	vhost_user_shmem_reset(&s);
	ck_assert_uint_eq(r.unmaps, 3); /* only the live one needs the callback */
	ck_assert_uint_eq(s.regions[0].nmaps + s.regions[2].nmaps, 0);
	ck_assert_int_eq(test_open_fds(), fds);
}
END_TEST

START_TEST(callback_failure_and_limit)
{
	struct vhost_user_shmem s;
	struct recorder r;
	int fds = test_open_fds();
	unsigned i;

	setup(&s, &r);
	ck_assert_int_eq(vhost_user_shmem_place(&s, 0, 0x100000000ull), 0);
	r.fail_map = -ENOMEM;
	ck_assert_int_eq(map(&s, req(0, 0, PAGE, 0, 1)), -ENOMEM);
	ck_assert_uint_eq(s.regions[0].nmaps, 0);
	r.fail_map = 0;
	for (i = 0; i < VHOST_USER_SHMEM_MAX_MAPS; i++)
		ck_assert_int_eq(map(&s, req(0, i * PAGE, PAGE, 0, 1)), 0);
	ck_assert_int_eq(map(&s, req(0, i * PAGE, PAGE, 0, 1)), -ENOSPC);
	vhost_user_shmem_reset(&s);
	ck_assert_uint_eq(r.unmaps, VHOST_USER_SHMEM_MAX_MAPS);
	ck_assert_int_eq(test_open_fds(), fds);
}
END_TEST

static Suite *shmem_suite(void)
{
	Suite *s = suite_create("shmem");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, init_checks_sizes);
	tcase_add_test(tc, bad_requests_refused);
	tcase_add_test(tc, memfd_must_be_sealed_against_shrinking);
	tcase_add_test(tc, shrunk_file_dropped);
	tcase_add_test(tc, map_place_overlap_unmap);
	tcase_add_test(tc, replace_and_reset);
	tcase_add_test(tc, callback_failure_and_limit);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(shmem_suite)
