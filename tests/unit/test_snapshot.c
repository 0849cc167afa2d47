/* The snapshot format (vmm/snapfmt.h) and the pieces saved through it. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "devices/uart16550.h"
#include "tests/unit/check_main.h"
#include "vmm/snapfmt.h"

static char *tmpdir(void)
{
	static char path[64];

	snprintf(path, sizeof(path), "/tmp/test-snapshot.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(path));
	return path;
}

static void rm_rf(const char *dir)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}

START_TEST(fields_round_trip)
{
	struct snap_buf b = {0};
	struct snap_reader rd;
	uint8_t u8 = 0, blob[3];
	uint16_t u16 = 0;
	uint32_t u32 = 0, n = 0;
	uint64_t u64 = 0;

	snap_put_u8(&b, 7);
	snap_put_u16(&b, 0x1234);
	snap_put_u32(&b, 0xdeadbeef);
	snap_put_u64(&b, 1ull << 40);
	snap_put_blob(&b, "abc", 3);
	snap_reader_init(&rd, "p", b.data, b.len);
	ck_assert(snap_get_u8(&rd, "a", &u8) && u8 == 7);
	ck_assert(snap_get_u16(&rd, "b", &u16) && u16 == 0x1234);
	ck_assert(snap_get_u32(&rd, "c", &u32) && u32 == 0xdeadbeef);
	ck_assert(snap_get_u64(&rd, "d", &u64) && u64 == 1ull << 40);
	ck_assert(snap_get_blob_max(&rd, "e", blob, 3, &n) && n == 3 && !memcmp(blob, "abc", 3));
	ck_assert(snap_reader_done(&rd));
	snap_buf_free(&b);
}
END_TEST

START_TEST(errors_name_part_and_field)
{
	struct snap_buf b = {0};
	struct snap_reader rd;
	uint64_t v;
	uint8_t small[2];

	snap_put_u32(&b, 5);
	snap_reader_init(&rd, "vcpu0", b.data, b.len);
	ck_assert(!snap_expect_u32(&rd, "vcpus", 4));
	ck_assert_str_eq(rd.err, "part vcpu0: field vcpus: is 5 in the snapshot, 4 here");
	snap_reader_init(&rd, "vcpu0", b.data, b.len);
	ck_assert(!snap_get_u64(&rd, "rip", &v));
	ck_assert_ptr_nonnull(strstr(rd.err, "part vcpu0: field rip: truncated"));
	/* The first failure sticks. */
	ck_assert(!snap_get_u64(&rd, "other", &v));
	ck_assert_ptr_nonnull(strstr(rd.err, "field rip"));
	snap_reader_init(&rd, "x", b.data, b.len);
	ck_assert(!snap_get_blob(&rd, "blob", small, 2)); /* length 5 != 2 */
	snap_reader_init(&rd, "x", b.data, b.len);
	ck_assert(!snap_reader_done(&rd));
	ck_assert_ptr_nonnull(strstr(rd.err, "4 trailing bytes"));
	snap_buf_free(&b);
}
END_TEST

static void write_snapshot(const char *dir)
{
	struct snap_dir d;
	struct snap_buf b = {0};

	ck_assert_int_eq(snap_dir_create(&d, dir), 0);
	snap_put_u64(&b, 42);
	ck_assert_int_eq(snap_dir_put(&d, "machine", &b), 0);
	ck_assert_int_eq(snap_dir_finish(&d), 0);
	snap_buf_free(&b);
}

static void flip_byte(const char *dir, const char *file, off_t off)
{
	char path[128];
	uint8_t c;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fd = open(path, O_RDWR);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pread(fd, &c, 1, off), 1);
	c ^= 0xff;
	ck_assert_int_eq(pwrite(fd, &c, 1, off), 1);
	close(fd);
}

START_TEST(manifest_and_parts_are_checked)
{
	char *dir = tmpdir();
	struct snap_dir d;
	uint8_t *data;
	size_t len;

	write_snapshot(dir);
	ck_assert_int_eq(snap_dir_open(&d, dir), 0);
	ck_assert_int_eq(snap_dir_read(&d, "machine", &data, &len), 0);
	ck_assert_uint_eq(len, 8);
	free(data);
	ck_assert_int_ne(snap_dir_read(&d, "nothing", &data, &len), 0);
	ck_assert_ptr_nonnull(strstr(d.err, "part nothing: missing"));
	snap_dir_close(&d);
	/* A second snapshot into the same directory is refused. */
	ck_assert_int_ne(snap_dir_create(&d, dir), 0);
	snap_dir_close(&d);
	flip_byte(dir, "machine", 3);
	ck_assert_int_eq(snap_dir_open(&d, dir), 0);
	ck_assert_int_ne(snap_dir_read(&d, "machine", &data, &len), 0);
	ck_assert_str_eq(d.err, "part machine: checksum mismatch (corrupted)");
	snap_dir_close(&d);
	flip_byte(dir, "manifest", 20);
	ck_assert_int_ne(snap_dir_open(&d, dir), 0);
	ck_assert_str_eq(d.err, "manifest: checksum mismatch (corrupted)");
	snap_dir_close(&d);
	rm_rf(dir);
}
END_TEST

START_TEST(newer_version_is_refused)
{
	char *dir = tmpdir();
	struct snap_dir d;
	char path[128];
	uint32_t v = SNAP_VERSION + 1;
	int fd;

	write_snapshot(dir);
	snprintf(path, sizeof(path), "%s/manifest", dir);
	fd = open(path, O_RDWR);
	ck_assert_int_eq(pwrite(fd, &v, 4, 8), 4);
	close(fd);
	ck_assert_int_ne(snap_dir_open(&d, dir), 0);
	ck_assert_str_eq(d.err, "manifest: snapshot format version 2 is newer than 1");
	snap_dir_close(&d);
	rm_rf(dir);
}
END_TEST

START_TEST(ram_is_sparse_and_round_trips)
{
	const struct ram_range range = {.gpa = 0, .size = 8 << 20};
	char *dir = tmpdir(), path[128];
	struct guest_memory mem, back;
	struct snap_buf ext = {0};
	struct snap_reader rd;
	struct snap_dir d;
	struct stat st;

	ck_assert_int_eq(guest_memory_init(&mem, &range, 1), 0);
	memset(mem.regions[0].host, 0x5a, 4096);
	memset((uint8_t *)mem.regions[0].host + (5 << 20), 0xa5, 8192);
	/* Touched but left zero: a hole in the file all the same. */
	memset((uint8_t *)mem.regions[0].host + (2 << 20), 0, 1 << 20);
	/* A page zero but for its last byte is data. */
	((uint8_t *)mem.regions[0].host)[(6 << 20) + 4095] = 1;
	ck_assert_int_eq(snap_dir_create(&d, dir), 0);
	ck_assert_int_eq(snap_dir_put_ram(&d, "ram0", &mem.regions[0], &ext), 0);
	ck_assert_int_eq(snap_dir_put(&d, "memory", &ext), 0);
	ck_assert_int_eq(snap_dir_finish(&d), 0);
	snprintf(path, sizeof(path), "%s/ram0", dir);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_size, 8 << 20);
	ck_assert_int_le(st.st_blocks * 512, 64 << 10); /* only the pages not zero */
	ck_assert_int_eq(guest_memory_init(&back, &range, 1), 0);
	ck_assert_int_eq(snap_dir_open(&d, dir), 0);
	snap_reader_init(&rd, "memory", ext.data, ext.len);
	ck_assert_int_eq(snap_dir_load_ram(&d, "ram0", &back.regions[0], &rd), 0);
	ck_assert(!memcmp(mem.regions[0].host, back.regions[0].host, 8 << 20));
	snap_dir_close(&d);
	flip_byte(dir, "ram0", (5 << 20) + 17);
	ck_assert_int_eq(snap_dir_open(&d, dir), 0);
	snap_reader_init(&rd, "memory", ext.data, ext.len);
	ck_assert_int_ne(snap_dir_load_ram(&d, "ram0", &back.regions[0], &rd), 0);
	ck_assert_str_eq(d.err, "part ram0: checksum mismatch (corrupted)");
	snap_dir_close(&d);
	guest_memory_destroy(&back);
	guest_memory_destroy(&mem);
	snap_buf_free(&ext);
	rm_rf(dir);
}
END_TEST

static void set_irq(void *ctx, int level)
{
	*(int *)ctx = level;
}

static const struct uart_host_ops irq_ops = {.set_irq = set_irq};

START_TEST(uart_round_trips)
{
	struct uart16550 a, b;
	struct snap_buf buf = {0};
	struct snap_reader rd;
	int irq_a = 0, irq_b = -1;
	uint8_t ier = 1, lcr = 0x83, dll = 0x0c;

	uart16550_init(&a, &irq_ops, &irq_a);
	uart16550_io_ops.write(&a, 3, &lcr, 1);
	uart16550_io_ops.write(&a, 0, &dll, 1);
	lcr = 0x03;
	uart16550_io_ops.write(&a, 3, &lcr, 1);
	uart16550_io_ops.write(&a, 1, &ier, 1);
	uart16550_receive(&a, (const uint8_t *)"hi", 2);
	uart16550_save(&a, &buf);
	uart16550_init(&b, &irq_ops, &irq_b);
	snap_reader_init(&rd, "platform", buf.data, buf.len);
	ck_assert(uart16550_load(&b, &rd) && snap_reader_done(&rd));
	ck_assert_int_eq(b.dll, 0x0c);
	ck_assert_int_eq(b.lcr, 0x03);
	ck_assert_uint_eq(b.rx_count, 2);
	ck_assert_int_eq(irq_b, irq_a); /* the line is driven where it was */
	ck_assert_int_eq(irq_b, 1);
	snap_buf_free(&buf);
}
END_TEST

static Suite *snapshot_suite(void)
{
	Suite *s = suite_create("snapshot");
	TCase *tc = tcase_create("format");

	tcase_add_test(tc, fields_round_trip);
	tcase_add_test(tc, errors_name_part_and_field);
	tcase_add_test(tc, manifest_and_parts_are_checked);
	tcase_add_test(tc, newer_version_is_refused);
	tcase_add_test(tc, ram_is_sparse_and_round_trips);
	tcase_add_test(tc, uart_round_trips);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(snapshot_suite)
