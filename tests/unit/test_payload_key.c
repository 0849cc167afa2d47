/* bzImage payload cache key: a changed kernel at the same path never keeps the old key. */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "arch/x86_64/payload_key.h"
#include "tests/unit/check_main.h"

#define FILE_SIZE (256u << 10)
#define PAYLOAD_OFFSET 4096u
#define PAYLOAD_LEN (FILE_SIZE - PAYLOAD_OFFSET)
/* Sample spacing inside the payload (payload_key.c: i / N of the way in). */
#define SPACING ((PAYLOAD_LEN - PAYLOAD_SAMPLE_SIZE) / PAYLOAD_SAMPLES)

struct fixture {
	char dir[64], path[96];
	int fd;
	struct stat st; /* as created */
};

static void fixture_init(struct fixture *f)
{
	static uint8_t data[FILE_SIZE];

	for (unsigned i = 0; i < FILE_SIZE; i++)
		data[i] = (uint8_t)(i * 7 + (i >> 9));
	snprintf(f->dir, sizeof(f->dir), "/tmp/payload-key-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/bzImage", f->dir);
	f->fd = open(f->path, O_RDWR | O_CREAT | O_EXCL, 0644);
	ck_assert_int_ge(f->fd, 0);
	ck_assert_int_eq(pwrite(f->fd, data, FILE_SIZE, 0), FILE_SIZE);
	ck_assert_int_eq(fstat(f->fd, &f->st), 0);
}

static void fixture_destroy(struct fixture *f)
{
	char cmd[128];

	close(f->fd);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	ck_assert_int_eq(system(cmd), 0);
}

static unsigned index_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	unsigned n = 0;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL)
		n += strncmp(e->d_name, "id-", 3) == 0;
	closedir(d);
	return n;
}

/* Flips one byte at offset, then puts size and mtime back as they were. */
static void change_byte_keep_mtime(struct fixture *f, off_t offset)
{
	const struct timespec times[2] = {f->st.st_atim, f->st.st_mtim};
	struct timespec tick = {0, 20 * 1000 * 1000};
	struct stat now;
	uint8_t b;

	/* Past the coarse clock's tick, so the write's ctime differs from creation's. */
	nanosleep(&tick, NULL);
	ck_assert_int_eq(pread(f->fd, &b, 1, offset), 1);
	b ^= 0x5a;
	ck_assert_int_eq(pwrite(f->fd, &b, 1, offset), 1);
	ck_assert_int_eq(utimensat(AT_FDCWD, f->path, times, 0), 0);
	ck_assert_int_eq(fstat(f->fd, &now), 0);
	ck_assert_int_eq(now.st_size, f->st.st_size);
	ck_assert_int_eq(now.st_mtim.tv_sec, f->st.st_mtim.tv_sec);
	ck_assert_int_eq(now.st_mtim.tv_nsec, f->st.st_mtim.tv_nsec);
	ck_assert_int_eq(now.st_ino, f->st.st_ino);
}

static uint64_t content_hash(struct fixture *f)
{
	uint64_t h;

	ck_assert_int_eq(payload_content_hash(f->fd, PAYLOAD_OFFSET, PAYLOAD_LEN, &h), 0);
	return h;
}

static uint64_t cache_key(struct fixture *f, uint64_t min_age_ns)
{
	uint64_t key;

	ck_assert_int_eq(
	    payload_cache_key(f->fd, PAYLOAD_OFFSET, PAYLOAD_LEN, f->dir, min_age_ns, &key), 0);
	return key;
}

static uint64_t identity(struct fixture *f, const struct stat *st)
{
	uint64_t id;

	ck_assert_int_eq(payload_identity(f->fd, st, PAYLOAD_OFFSET, PAYLOAD_LEN, &id), 0);
	return id;
}

/* Replaces the one index entry's key: a lookup that returns it came from the index. */
static void plant_index_key(struct fixture *f, const char *text)
{
	char path[200];
	FILE *out;

	snprintf(path, sizeof(path), "%s/id-%016llx", f->dir,
		 (unsigned long long)identity(f, &f->st));
	out = fopen(path, "w");
	ck_assert_ptr_nonnull(out);
	fputs(text, out);
	fclose(out);
}

START_TEST(test_index_remembers_key)
{
	struct fixture f;

	fixture_init(&f);
	ck_assert_uint_eq(cache_key(&f, 0), content_hash(&f));
	ck_assert_uint_eq(index_entries(f.dir), 1);
	plant_index_key(&f, "00000000deadbeef\n");
	ck_assert_uint_eq(cache_key(&f, 0), 0xdeadbeefull);
	/* A damaged entry is not believed. */
	plant_index_key(&f, "not a key\n");
	ck_assert_uint_eq(cache_key(&f, 0), content_hash(&f));
	fixture_destroy(&f);
}
END_TEST

/* What the samples themselves catch: a change inside one, even with the stat unchanged. */
START_TEST(test_change_at_sampled_offset)
{
	struct fixture f;
	uint64_t before;

	fixture_init(&f);
	before = cache_key(&f, 0);
	plant_index_key(&f, "00000000deadbeef\n");
	change_byte_keep_mtime(&f, PAYLOAD_OFFSET + SPACING * 3 + 10);
	ck_assert_uint_ne(content_hash(&f), before);
	ck_assert_uint_eq(cache_key(&f, 0), content_hash(&f));
	fixture_destroy(&f);
}
END_TEST

START_TEST(test_samples_differ_on_sampled_change)
{
	struct fixture f;
	uint64_t id;

	fixture_init(&f);
	id = identity(&f, &f.st);
	change_byte_keep_mtime(&f, PAYLOAD_OFFSET + SPACING * 7 + 100);
	/* The very same stat: only the sampled bytes tell the files apart. */
	ck_assert_uint_ne(identity(&f, &f.st), id);
	fixture_destroy(&f);
}
END_TEST

/*
 * Between samples only the ctime tells: the samples match, yet the
 * identity changes, so the planted index entry is not found.
 */
START_TEST(test_change_at_unsampled_offset)
{
	struct fixture f;
	struct stat now;
	uint64_t id;

	fixture_init(&f);
	cache_key(&f, 0);
	plant_index_key(&f, "00000000deadbeef\n");
	id = identity(&f, &f.st);
	change_byte_keep_mtime(&f, PAYLOAD_OFFSET + SPACING * 5 + PAYLOAD_SAMPLE_SIZE + 100);
	ck_assert_uint_eq(identity(&f, &f.st), id);
	ck_assert_int_eq(fstat(f.fd, &now), 0);
	ck_assert_uint_ne(identity(&f, &now), id);
	ck_assert_uint_eq(cache_key(&f, 0), content_hash(&f));
	ck_assert_uint_ne(cache_key(&f, 0), 0xdeadbeefull);
	fixture_destroy(&f);
}
END_TEST

/* A ctime younger than the safety window: hashed in full, and not remembered. */
START_TEST(test_recent_change_not_trusted)
{
	struct fixture f;

	fixture_init(&f);
	ck_assert_uint_eq(cache_key(&f, PAYLOAD_KEY_TRUST_AGE_NS), content_hash(&f));
	ck_assert_uint_eq(index_entries(f.dir), 0);
	plant_index_key(&f, "00000000deadbeef\n");
	ck_assert_uint_eq(cache_key(&f, PAYLOAD_KEY_TRUST_AGE_NS), content_hash(&f));
	fixture_destroy(&f);
}
END_TEST

static Suite *payload_key_suite(void)
{
	Suite *s = suite_create("payload cache key");
	TCase *tc = tcase_create("key");

	tcase_add_test(tc, test_index_remembers_key);
	tcase_add_test(tc, test_change_at_sampled_offset);
	tcase_add_test(tc, test_samples_differ_on_sampled_change);
	tcase_add_test(tc, test_change_at_unsampled_offset);
	tcase_add_test(tc, test_recent_change_not_trusted);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(payload_key_suite)
