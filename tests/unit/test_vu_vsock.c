/* The vsock device type: its guest-cid= key and who serves the guest's CID. */
#include <endian.h>
#include <errno.h>
#include <linux/virtio_ids.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/unit/check_main.h"
#include "vhost_user/device/internal.h"

/* A back-end with CONFIG that answers one GET_CONFIG with its CID. */
struct cid_backend {
	int sock;
	uint64_t cid;
};

static void *answer_get_config(void *arg)
{
	struct cid_backend *b = arg;
	struct vhost_user_error e = {0};
	struct vhost_user_msg m;
	unsigned nfds;
	int fds[VHOST_USER_MAX_FDS];

	if (vhost_user_recv(b->sock, &m, fds, VHOST_USER_MAX_FDS, &nfds, 2000, &e) == 0 &&
	    m.hdr.request == VHOST_USER_GET_CONFIG) {
		struct vhost_user_config c = {.offset = 0, .size = 8};
		uint64_t le = htole64(b->cid);
		struct vhost_user_header h = {VHOST_USER_GET_CONFIG,
					      VHOST_USER_VERSION | VHOST_USER_FLAG_REPLY,
					      VHOST_USER_CONFIG_HDR_SIZE + 8};

		memcpy(c.region, &le, sizeof(le));
		vhost_user_send(b->sock, &h, &c, NULL, 0);
	}
	return NULL;
}

static int parse(const char *text, struct vu_spec *spec, char *err)
{
	return vu_spec_parse(text, spec, err, 256);
}

START_TEST(test_guest_cid_key)
{
	struct vu_spec spec;
	char err[256] = "";

	ck_assert_int_eq(parse("vsock,sock=/s,guest-cid=3", &spec, err), 0);
	ck_assert_int_eq(parse("vsock,sock=/s,guest-cid=0xfffffffe", &spec, err), 0);
	ck_assert_int_eq(parse("vsock,sock=/s", &spec, err), 0);
	ck_assert_int_eq(parse("vsock,sock=/s,guest-cid=2", &spec, err), -EINVAL);
	ck_assert_ptr_nonnull(
	    strstr(err, "'guest-cid': '2' (want 3..4294967294; 0-2 are reserved)"));
	ck_assert_int_eq(parse("vsock,sock=/s,guest-cid=0xffffffff", &spec, err), -EINVAL);
	ck_assert_int_eq(parse("vsock,sock=/s,guest-cid=4x", &spec, err), -EINVAL);
	ck_assert_int_eq(parse("vsock,sock=/s,guest-cid=", &spec, err), -EINVAL);
	/* The key is vsock's alone. */
	ck_assert_int_eq(parse("blk,sock=/s,guest-cid=3", &spec, err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "unknown key 'guest-cid' for a blk device"));
	ck_assert_int_eq(parse("vsock,sock=/s,cid=3", &spec, err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "its own keys: guest-cid=N"));
}
END_TEST

/* A device over a socket pair, as the handshake would leave it. */
static void make_device(struct vu_device *dev, const char *spec, bool config, int sock)
{
	char err[256];

	memset(dev, 0, sizeof(*dev));
	ck_assert_int_eq(vu_spec_parse(spec, &dev->spec, err, sizeof(err)), 0);
	ck_assert_int_eq(vhost_user_frontend_init(&dev->fe, "vsock0", VIRTIO_ID_VSOCK), 0);
	dev->fe.sock = sock;
	dev->fe.timeout_ms = 2000;
	if (config)
		dev->fe.protocol_features = 1ull << VHOST_USER_PROTOCOL_F_CONFIG;
}

START_TEST(test_local_cid_without_config)
{
	const struct vu_type_ops *ops = vu_type_ops_find(VIRTIO_ID_VSOCK);
	struct vu_device dev;
	char err[256] = "";
	uint64_t le;

	make_device(&dev, "vsock,sock=/s,guest-cid=42", false, -1);
	ck_assert_int_eq(ops->setup(&dev, 0, err, sizeof(err)), 0);
	ck_assert(dev.local_config);
	memcpy(&le, dev.config, sizeof(le));
	ck_assert_uint_eq(le64toh(le), 42);

	make_device(&dev, "vsock,sock=/s", false, -1);
	ck_assert_int_eq(ops->setup(&dev, 0, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "add guest-cid=N"));
}
END_TEST

/* With CONFIG the back-end's CID stands, and must be the one asked for. */
static int setup_against(uint64_t backend_cid, const char *spec, char *err)
{
	struct cid_backend b = {.cid = backend_cid};
	struct vu_device dev;
	pthread_t t;
	int sv[2], r;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	b.sock = sv[1];
	pthread_create(&t, NULL, answer_get_config, &b);
	make_device(&dev, spec, true, sv[0]);
	r = vu_type_ops_find(VIRTIO_ID_VSOCK)->setup(&dev, 0, err, 256);
	pthread_join(t, NULL);
	ck_assert(!dev.local_config);
	close(sv[0]);
	close(sv[1]);
	return r;
}

START_TEST(test_backend_cid_checked)
{
	char err[256] = "";

	ck_assert_int_eq(setup_against(7, "vsock,sock=/s,guest-cid=7", err), 0);
	ck_assert_int_eq(setup_against(7, "vsock,sock=/s", err), 0);
	ck_assert_int_eq(setup_against(9, "vsock,sock=/s,guest-cid=7", err), -EINVAL);
	ck_assert_str_eq(err, "guest-cid=7 but the back-end serves CID 9");
}
END_TEST

static Suite *vsock_suite(void)
{
	Suite *s = suite_create("vu_vsock");
	TCase *tc = tcase_create("vsock");

	tcase_add_test(tc, test_guest_cid_key);
	tcase_add_test(tc, test_local_cid_without_config);
	tcase_add_test(tc, test_backend_cid_checked);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(vsock_suite)
