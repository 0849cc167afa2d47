/* The unix socket helper: path limits, stale socket replacement, other files left alone. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "tests/unit/check_main.h"
#include "vmm/unix_socket.h"

/* A fresh directory per test, so paths never collide between runs. */
static void temp_path(char *dir, size_t dir_len, char *path, size_t path_len)
{
	snprintf(dir, dir_len, "/tmp/unix-socket-test.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, path_len, "%s/sock", dir);
}

static void remove_temp(const char *dir, const char *path)
{
	unlink(path);
	rmdir(dir);
}

START_TEST(path_too_long_refused)
{
	char path[sizeof(((struct sockaddr_un *)0)->sun_path) + 1];

	memset(path, 'a', sizeof(path) - 1);
	path[0] = '/';
	path[sizeof(path) - 1] = '\0';
	ck_assert_int_eq(unix_socket_listen(path, 1, 0), -ENAMETOOLONG);
	ck_assert_int_eq(unix_socket_connect(path, 0, 0), -ENAMETOOLONG);
}
END_TEST

START_TEST(listen_then_connect)
{
	char dir[64], path[96];
	int lsock, csock, conn;

	temp_path(dir, sizeof(dir), path, sizeof(path));
	lsock = unix_socket_listen(path, 1, SOCK_NONBLOCK);
	ck_assert_int_ge(lsock, 0);
	ck_assert_int_ne(fcntl(lsock, F_GETFD) & FD_CLOEXEC, 0);
	ck_assert_int_ne(fcntl(lsock, F_GETFL) & O_NONBLOCK, 0);
	csock = unix_socket_connect(path, 0, 0);
	ck_assert_int_ge(csock, 0);
	ck_assert_int_ne(fcntl(csock, F_GETFD) & FD_CLOEXEC, 0);
	conn = accept(lsock, NULL, NULL);
	ck_assert_int_ge(conn, 0);
	close(conn);
	close(csock);
	close(lsock);
	remove_temp(dir, path);
}
END_TEST

START_TEST(connect_without_listener_fails_after_retry)
{
	char dir[64], path[96];

	temp_path(dir, sizeof(dir), path, sizeof(path));
	ck_assert_int_eq(unix_socket_connect(path, 0, 0), -ENOENT);
	ck_assert_int_eq(unix_socket_connect(path, 0, 30), -ENOENT);
	remove_temp(dir, path);
}
END_TEST

START_TEST(stale_socket_file_replaced)
{
	char dir[64], path[96];
	int old, fresh, csock;

	temp_path(dir, sizeof(dir), path, sizeof(path));
	old = unix_socket_listen(path, 1, 0);
	ck_assert_int_ge(old, 0);
	close(old); /* the file stays behind, as after a crash */
	ck_assert_int_eq(unix_socket_connect(path, 0, 0), -ECONNREFUSED);
	fresh = unix_socket_listen(path, 1, 0);
	ck_assert_int_ge(fresh, 0);
	csock = unix_socket_connect(path, 0, 0);
	ck_assert_int_ge(csock, 0);
	close(csock);
	close(fresh);
	remove_temp(dir, path);
}
END_TEST

START_TEST(other_file_at_path_kept)
{
	char dir[64], path[96];
	struct stat st;
	int fd;

	temp_path(dir, sizeof(dir), path, sizeof(path));
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "keep", 4), 4);
	close(fd);
	ck_assert_int_eq(unix_socket_listen(path, 1, 0), -EEXIST);
	ck_assert_int_eq(lstat(path, &st), 0);
	ck_assert(S_ISREG(st.st_mode));
	ck_assert_int_eq(st.st_size, 4);
	remove_temp(dir, path);
}
END_TEST

START_TEST(listen_mode_ignores_the_umask)
{
	char dir[64], path[96];
	struct stat st;
	mode_t old = umask(0);
	int fd;

	temp_path(dir, sizeof(dir), path, sizeof(path));
	fd = unix_socket_listen_mode(path, 1, 0, 0600);
	umask(old);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(lstat(path, &st), 0);
	ck_assert(S_ISSOCK(st.st_mode));
	ck_assert_uint_eq(st.st_mode & 07777, 0600);
	close(fd);
	remove_temp(dir, path);
}
END_TEST

static Suite *unix_socket_suite(void)
{
	Suite *s = suite_create("unix_socket");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, path_too_long_refused);
	tcase_add_test(tc, listen_then_connect);
	tcase_add_test(tc, connect_without_listener_fails_after_retry);
	tcase_add_test(tc, stale_socket_file_replaced);
	tcase_add_test(tc, other_file_at_path_kept);
	tcase_add_test(tc, listen_mode_ignores_the_umask);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(unix_socket_suite)
