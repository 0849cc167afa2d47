/*
 * The gpu device type's screenshots: what is locked while one is taken, and
 * which files it may write. A thread plays the back-end: it takes the
 * display socket from GPU_SET_SOCKET and fills a large scanout with noise,
 * so encoding it takes long enough to watch.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/virtio_ids.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tests/unit/check_main.h"
#include "vhost_user/device/internal.h"
#include "vhost_user/display/display.h"

/* Noise does not compress: PNG-encoding it takes about a second here, far longer than a copy. */
#define BIG_W 4096u
#define BIG_H 2048u

struct fake_backend {
	int sock;    /* the main socket's back-end end */
	int display; /* the display socket, from GPU_SET_SOCKET */
	uint32_t w, h;
};

static void display_send(int fd, uint32_t request, const void *payload, uint32_t size)
{
	struct gpu_display_msg_header hdr = {.request = request, .size = size};
	struct iovec iov[2] = {{&hdr, sizeof(hdr)}, {(void *)payload, size}};
	struct msghdr mh = {.msg_iov = iov, .msg_iovlen = 2};
	size_t want = sizeof(hdr) + size, sent = 0;

	while (sent < want) {
		ssize_t n = sendmsg(fd, &mh, MSG_NOSIGNAL);

		if (n <= 0)
			return;
		sent += (size_t)n;
		while (mh.msg_iovlen && (size_t)n >= mh.msg_iov->iov_len) {
			n -= (ssize_t)mh.msg_iov->iov_len;
			mh.msg_iov++;
			mh.msg_iovlen--;
		}
		if (mh.msg_iovlen) {
			mh.msg_iov->iov_base = (uint8_t *)mh.msg_iov->iov_base + n;
			mh.msg_iov->iov_len -= (size_t)n;
		}
	}
}

/* SET_SOCKET, the features handshake, then one full-frame UPDATE of noise. */
static void *backend_thread(void *arg)
{
	struct fake_backend *b = arg;
	struct vhost_user_error e = {0};
	struct vhost_user_msg m;
	struct gpu_display_msg_header hdr;
	uint64_t features;
	int fds[VHOST_USER_MAX_FDS];
	unsigned nfds = 0;
	struct gpu_display_scanout_msg so = {.width = b->w, .height = b->h};
	struct gpu_display_update u = {.width = b->w, .height = b->h};
	size_t bytes = sizeof(u) + (size_t)b->w * b->h * 4;
	uint8_t *buf;
	uint32_t seed = 12345;

	if (vhost_user_recv(b->sock, &m, fds, VHOST_USER_MAX_FDS, &nfds, 5000, &e) ||
	    m.hdr.request != VHOST_USER_GPU_SET_SOCKET || nfds != 1)
		return NULL;
	b->display = fds[0];
	display_send(b->display, GPU_DISPLAY_GET_PROTOCOL_FEATURES, NULL, 0);
	if (recv(b->display, &hdr, sizeof(hdr), MSG_WAITALL) != sizeof(hdr) ||
	    recv(b->display, &features, sizeof(features), MSG_WAITALL) != sizeof(features))
		return NULL;
	features = 0;
	display_send(b->display, GPU_DISPLAY_SET_PROTOCOL_FEATURES, &features, sizeof(features));
	display_send(b->display, GPU_DISPLAY_SCANOUT, &so, sizeof(so));
	buf = malloc(bytes);
	if (!buf)
		return NULL;
	memcpy(buf, &u, sizeof(u));
	for (size_t i = sizeof(u); i < bytes; i++) {
		seed = seed * 1103515245u + 12345u;
		buf[i] = (uint8_t)(seed >> 16);
	}
	display_send(b->display, GPU_DISPLAY_UPDATE, buf, (uint32_t)bytes);
	free(buf);
	return NULL;
}

struct fixture {
	struct vu_device dev;
	struct fake_backend backend;
	pthread_t backend_thread;
	char dir[64];
};

static void wait_updates(struct fixture *f, uint64_t want)
{
	for (int i = 0; i < 30000 && f->dev.spec.ops->counter(&f->dev) < want; i++)
		usleep(1000);
	ck_assert_uint_eq(f->dev.spec.ops->counter(&f->dev), want);
}

/* A started gpu device whose scanout 0 is w x h of noise. */
static void fixture_start(struct fixture *f, uint32_t w, uint32_t h)
{
	char err[256];
	int sv[2];

	memset(f, 0, sizeof(*f));
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	ck_assert_int_eq(vu_spec_parse("gpu,sock=/s", &f->dev.spec, err, sizeof(err)), 0);
	ck_assert_int_eq(vhost_user_frontend_init(&f->dev.fe, "gpu0", VIRTIO_ID_GPU), 0);
	snprintf(f->dev.name, sizeof(f->dev.name), "gpu0");
	f->dev.fe.sock = sv[0];
	f->dev.fe.timeout_ms = 2000;
	f->backend = (struct fake_backend){.sock = sv[1], .display = -1, .w = w, .h = h};
	ck_assert_int_eq(pthread_create(&f->backend_thread, NULL, backend_thread, &f->backend), 0);
	ck_assert_int_eq(f->dev.spec.ops->create(&f->dev), 0);
	ck_assert_int_eq(f->dev.spec.ops->start(&f->dev), 0);
	pthread_join(f->backend_thread, NULL);
	wait_updates(f, 1);
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_vu_gpu.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(f->dir));
}

static void fixture_stop(struct fixture *f)
{
	char cmd[128];

	f->dev.spec.ops->destroy(&f->dev);
	close(f->dev.fe.sock);
	close(f->backend.sock);
	if (f->backend.display >= 0)
		close(f->backend.display);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	ck_assert_int_eq(system(cmd), 0);
}

struct shot {
	struct fixture *f;
	char path[128];
	int err;
	atomic_bool done;
};

static void *screenshot_thread(void *arg)
{
	struct shot *s = arg;

	s->err = vu_device_screenshot(&s->f->dev, 0, s->path);
	atomic_store(&s->done, true);
	return NULL;
}

/* The name of the screenshot's temporary file in dir (prefix "shot.png."), if there is one. */
static bool temp_file_present(const char *dir, char *name, size_t size)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	bool found = false;

	ck_assert_ptr_nonnull(d);
	while (!found && (e = readdir(d)))
		if (!strncmp(e->d_name, "shot.png.", 9)) {
			snprintf(name, size, "%s/%s", dir, e->d_name);
			found = true;
		}
	closedir(d);
	return found;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/*
 * The encoder writes its temporary file while it runs; a counter read (what
 * `status` does under dev_lock) started then must finish while that file is
 * still there, i.e. before the encoding ends, not after it.
 */
START_TEST(status_reads_go_on_while_a_screenshot_encodes)
{
	struct fixture f;
	struct shot s = {.f = &f};
	pthread_t t;
	char tmp[384];
	double start, took;
	struct stat st;

	fixture_start(&f, BIG_W, BIG_H);
	snprintf(s.path, sizeof(s.path), "%s/shot.png", f.dir);
	ck_assert_int_eq(pthread_create(&t, NULL, screenshot_thread, &s), 0);
	while (!temp_file_present(f.dir, tmp, sizeof(tmp)) && !atomic_load(&s.done))
		usleep(200);
	ck_assert_msg(!atomic_load(&s.done), "the screenshot ended before it could be watched");
	start = now_ms();
	ck_assert_uint_eq(f.dev.spec.ops->counter(&f.dev), 1);
	took = now_ms() - start;
	ck_assert_msg(stat(tmp, &st) == 0 && !atomic_load(&s.done),
		      "the counter read waited %.0f ms, until the encoding was over", took);
	pthread_join(t, NULL);
	ck_assert_int_eq(s.err, 0);
	ck_assert_int_eq(stat(s.path, &st), 0);
	ck_assert_int_gt(st.st_size, (off_t)BIG_W * BIG_H * 3 / 2);
	fixture_stop(&f);
}
END_TEST

/* Never over an existing file, nor through a symlink; the picture is the user's alone. */
START_TEST(screenshots_write_new_private_files_only)
{
	struct fixture f;
	char path[128], link_path[128], target[128], buf[8] = "";
	struct stat st;
	int fd;

	fixture_start(&f, 64, 32);
	snprintf(path, sizeof(path), "%s/shot.png", f.dir);
	umask(0);
	ck_assert_int_eq(vu_device_screenshot(&f.dev, 0, path), 0);
	umask(022);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0600);

	snprintf(target, sizeof(target), "%s/precious", f.dir);
	fd = open(target, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "keep", 4), 4);
	close(fd);
	ck_assert_int_eq(vu_device_screenshot(&f.dev, 0, target), -EEXIST);
	snprintf(link_path, sizeof(link_path), "%s/link.png", f.dir);
	ck_assert_int_eq(symlink(target, link_path), 0);
	ck_assert_int_eq(vu_device_screenshot(&f.dev, 0, link_path), -EEXIST);
	ck_assert_int_eq(vu_device_screenshot(&f.dev, 0, path), -EEXIST);
	fd = open(target, O_RDONLY | O_CLOEXEC);
	ck_assert_int_eq(read(fd, buf, sizeof(buf)), 4);
	close(fd);
	ck_assert_str_eq(buf, "keep");
	ck_assert_int_eq(lstat(link_path, &st), 0);
	ck_assert(S_ISLNK(st.st_mode));
	fixture_stop(&f);
}
END_TEST

static Suite *vu_gpu_suite(void)
{
	Suite *s = suite_create("vu_gpu");
	TCase *tc = tcase_create("screenshot");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, status_reads_go_on_while_a_screenshot_encodes);
	tcase_add_test(tc, screenshots_write_new_private_files_only);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(vu_gpu_suite)
