/* The vhost-user device's config cache: a change notice during GET_CONFIG is never lost. */
#include <errno.h>
#include <linux/virtio_ids.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "tests/unit/check_main.h"
#include "vhost_user/device/internal.h"

#define BLK_CONFIG_SIZE 60

/* A back-end that answers GET_CONFIGs; with notify_first, a change notice comes before the reply.
 */
struct config_backend {
	int sock, channel;
	bool notify_first;
	unsigned get_configs, set_configs;
};

static void send_config_reply(int sock)
{
	struct vhost_user_config c = {.offset = 0, .size = BLK_CONFIG_SIZE};
	struct vhost_user_header h = {VHOST_USER_GET_CONFIG,
				      VHOST_USER_VERSION | VHOST_USER_FLAG_REPLY,
				      VHOST_USER_CONFIG_HDR_SIZE + BLK_CONFIG_SIZE};

	c.region[0] = 42;
	vhost_user_send(sock, &h, &c, NULL, 0);
}

static void *serve_get_configs(void *arg)
{
	struct config_backend *b = arg;
	const struct timespec settle = {.tv_nsec = 50 * 1000 * 1000};
	struct vhost_user_error e = {0};
	struct vhost_user_msg m;
	int fds[VHOST_USER_MAX_FDS];
	unsigned nfds;

	while (vhost_user_recv(b->sock, &m, fds, VHOST_USER_MAX_FDS, &nfds, 2000, &e) == 0) {
		if (m.hdr.request == VHOST_USER_SET_CONFIG) {
			b->set_configs++;
			continue;
		}
		if (m.hdr.request != VHOST_USER_GET_CONFIG)
			break;
		b->get_configs++;
		if (b->notify_first) {
			struct vhost_user_header n = {VHOST_USER_BACKEND_CONFIG_CHANGE_MSG,
						      VHOST_USER_VERSION, 0};

			b->notify_first = false;
			vhost_user_send(b->channel, &n, NULL, NULL, 0);
			/* The frontend serves the notice while it waits for the reply. */
			nanosleep(&settle, NULL);
		}
		send_config_reply(b->sock);
	}
	return NULL;
}

static void make_device(struct vu_device *dev, int sock, int channel)
{
	char err[256];

	memset(dev, 0, sizeof(*dev));
	ck_assert_int_eq(vu_spec_parse("blk,sock=/s", &dev->spec, err, sizeof(err)), 0);
	ck_assert_int_eq(vhost_user_frontend_init(&dev->fe, "blk0", VIRTIO_ID_BLOCK), 0);
	vhost_user_frontend_set_backend_ops(&dev->fe, &vu_backend_ops, dev);
	dev->fe.sock = sock;
	dev->fe.backend_fd = channel;
	dev->fe.timeout_ms = 2000;
	dev->fe.protocol_features = 1ull << VHOST_USER_PROTOCOL_F_CONFIG;
	dev->watch.work_fd = dev->watch.ack_timer_fd = -1;
}

/* A device talking to a config_backend on its own thread. */
struct config_fixture {
	struct config_backend b;
	struct vu_device dev;
	pthread_t thread;
	int sv[2], ch[2];
};

static void fixture_start(struct config_fixture *f)
{
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, f->sv), 0);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, f->ch), 0);
	f->b.sock = f->sv[1];
	f->b.channel = f->ch[1];
	make_device(&f->dev, f->sv[0], f->ch[0]);
	pthread_create(&f->thread, NULL, serve_get_configs, &f->b);
}

/* Hangs up on the back-end and waits for its thread: its counts are final after this. */
static void fixture_stop(struct config_fixture *f)
{
	close(f->sv[0]);
	pthread_join(f->thread, NULL);
	close(f->sv[1]);
	close(f->ch[0]);
	close(f->ch[1]);
}

START_TEST(change_during_get_config_not_lost)
{
	struct config_fixture f = {.b = {.notify_first = true}};
	uint8_t byte = 0;

	fixture_start(&f);
	vu_device_ops.config_read(&f.dev, 0, &byte, 1);
	ck_assert_uint_eq(byte, 42);
	ck_assert_uint_eq(f.b.get_configs, 1);
	/* The notice came after the question: what the reply said may predate it. */
	ck_assert(!f.dev.config_cached);
	vu_device_ops.config_read(&f.dev, 0, &byte, 1);
	ck_assert_uint_eq(f.b.get_configs, 2);
	ck_assert(f.dev.config_cached);
	/* Cached now: no third request. */
	vu_device_ops.config_read(&f.dev, 0, &byte, 1);
	ck_assert_uint_eq(f.b.get_configs, 2);
	ck_assert_int_ne(f.dev.state, VU_DEV_FAILED);
	fixture_stop(&f);
}
END_TEST

/* A driver reading back what it wrote (virtio-blk's cache mode) gets it without a GET_CONFIG. */
START_TEST(write_then_read_needs_no_get_config)
{
	struct config_fixture f = {0};
	uint8_t byte = 0, wce = 1;

	fixture_start(&f);
	vu_device_ops.config_read(&f.dev, 32, &byte, 1);
	ck_assert_uint_eq(f.b.get_configs, 1);
	vu_device_ops.config_write(&f.dev, 32, &wce, 1);
	vu_device_ops.config_read(&f.dev, 32, &byte, 1);
	ck_assert_uint_eq(byte, 1);
	ck_assert_uint_eq(f.b.get_configs, 1);
	ck_assert_int_ne(f.dev.state, VU_DEV_FAILED);
	fixture_stop(&f);
	ck_assert_uint_eq(f.b.set_configs, 1);
}
END_TEST

static Suite *config_suite(void)
{
	Suite *s = suite_create("vu_device_config");
	TCase *tc = tcase_create("config");

	tcase_add_test(tc, change_during_get_config_not_lost);
	tcase_add_test(tc, write_then_read_needs_no_get_config);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(config_suite)
