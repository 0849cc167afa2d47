/* vhost-user-fs against virtiofsd: FUSE_INIT, GETATTR and LOOKUP over the request queue. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/fuse.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/vhost_user/backend_test.h"

#define REQ_GPA DATA_GPA
#define REPLY_GPA (DATA_GPA + 0x10000)
#define REPLY_MAX 4096u
#define HIPRIO 0
#define REQUEST 1
#define FILE_NAME "vhost-user-test.txt"
#define FILE_TEXT "written by the host, read through virtiofsd\n"

/*
 * Sends one FUSE request (header + arg) and waits for the reply; returns
 * the reply's error field (0 or -errno), or a transport error.
 */
static int fuse_call(struct test_ctx *t, struct test_vq *vq, uint32_t opcode, uint64_t nodeid,
		     const void *arg, uint32_t arg_len, void *out, uint32_t out_len)
{
	static uint64_t unique_counter;
	struct fuse_in_header *in = gpa_ptr(t, REQ_GPA, sizeof(*in) + arg_len);
	struct fuse_out_header *reply = gpa_ptr(t, REPLY_GPA, REPLY_MAX);
	const struct vq_buf bufs[] = {{REQ_GPA, (uint32_t)sizeof(*in) + arg_len, false},
				      {REPLY_GPA, REPLY_MAX, true}};
	uint64_t unique = ++unique_counter * 2; /* even: not an interrupt */
	uint32_t id, len;
	int err;

	memset(in, 0, sizeof(*in));
	in->len = (uint32_t)sizeof(*in) + arg_len;
	in->opcode = opcode;
	in->unique = unique;
	in->nodeid = nodeid;
	memcpy(in + 1, arg, arg_len);
	memset(reply, 0, REPLY_MAX);
	test_vq_add(vq, bufs, 2);
	test_vq_kick(vq);
	err = test_vq_wait_used(vq, REPLY_TIMEOUT_MS, &id, &len);
	if (err)
		return err;
	if (reply->unique != unique || reply->len < sizeof(*reply) || reply->len > len)
		return -EPROTO;
	if (reply->error == 0)
		memcpy(out, reply + 1,
		       out_len < reply->len - sizeof(*reply) ? out_len
							     : reply->len - sizeof(*reply));
	return reply->error;
}

static void fuse_init(struct test_ctx *t, struct test_vq *vq)
{
	struct fuse_init_in init = {
	    .major = FUSE_KERNEL_VERSION, .minor = 31, .max_readahead = 65536};
	struct fuse_init_out out = {0};
	/* minor 31 predates flags2: the 16-byte form of fuse_init_in. */
	int err = fuse_call(t, vq, FUSE_INIT, 0, &init, 16, &out, sizeof(out));

	test_check(&t->tap, err == 0 && out.major == FUSE_KERNEL_VERSION,
		   "FUSE_INIT reply: error %d, protocol %u.%u", err, out.major, out.minor);
}

static void fuse_getattr_root(struct test_ctx *t, struct test_vq *vq, const char *when)
{
	struct fuse_getattr_in in = {0};
	struct fuse_attr_out out = {0};
	int err = fuse_call(t, vq, FUSE_GETATTR, FUSE_ROOT_ID, &in, sizeof(in), &out, sizeof(out));

	test_check(&t->tap, err == 0 && S_ISDIR(out.attr.mode),
		   "GETATTR root %s: error %d, mode 0%o", when, err, out.attr.mode);
}

static void fuse_lookup_file(struct test_ctx *t, struct test_vq *vq)
{
	struct fuse_entry_out out = {0};
	int err = fuse_call(t, vq, FUSE_LOOKUP, FUSE_ROOT_ID, FILE_NAME, sizeof(FILE_NAME), &out,
			    sizeof(out));

	test_check(&t->tap,
		   err == 0 && out.attr.size == strlen(FILE_TEXT) && S_ISREG(out.attr.mode),
		   "LOOKUP %s: error %d, size %" PRIu64, FILE_NAME, err, (uint64_t)out.attr.size);
}

static int write_test_file(const char *dir)
{
	char path[4096];
	int fd;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%s", dir, FILE_NAME);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	n = write(fd, FILE_TEXT, strlen(FILE_TEXT));
	close(fd);
	return n == (ssize_t)strlen(FILE_TEXT) ? 0 : -EIO;
}

void run_fs(struct test_ctx *t, const char *sock, const char *dir)
{
	struct test_vq vqs[2] = {{.kick_fd = -1, .call_fd = -1}, {.kick_fd = -1, .call_fd = -1}};
	uint16_t bases[2];
	uint8_t config;

	t->tap.kind = "fs";
	test_check(&t->tap, write_test_file(dir) == 0, "create %s/%s", dir, FILE_NAME);
	if (test_setup(t, "fs", VIRTIO_ID_FS, sock))
		goto out;
	test_check(&t->tap, t->fe.num_queues >= 2, "at least 2 queues (hiprio + request): %u",
		   t->fe.num_queues);
	if (!vhost_user_frontend_has_protocol(&t->fe, VHOST_USER_PROTOCOL_F_CONFIG))
		test_check(&t->tap,
			   vhost_user_frontend_get_config(&t->fe, 0, &config, 1) == -ENOTSUP,
			   "GET_CONFIG refused locally without the CONFIG protocol feature");
	if (test_vq_init(&vqs[0], &t->mem, RING_GPA(0), QUEUE_SIZE) ||
	    test_vq_init(&vqs[1], &t->mem, RING_GPA(1), QUEUE_SIZE) ||
	    test_configure(t, 1ull << VIRTIO_F_VERSION_1) || test_start_queues(t, vqs, NULL, 2))
		goto out;
	fuse_init(t, &vqs[REQUEST]);
	fuse_getattr_root(t, &vqs[REQUEST], "before restart");
	fuse_lookup_file(t, &vqs[REQUEST]);
	if (test_stop_queues(t, vqs, bases, 2))
		goto out;
	test_check(&t->tap, bases[REQUEST] == vqs[REQUEST].avail_idx && bases[HIPRIO] == 0,
		   "bases after stop: request %u (3 expected), hiprio %u", bases[REQUEST],
		   bases[HIPRIO]);
	if (test_start_queues(t, vqs, bases, 2))
		goto out;
	fuse_getattr_root(t, &vqs[REQUEST], "after restart");
	test_check(&t->tap, !t->fe.broken, "frontend not marked broken");
out:
	test_teardown(t, vqs, 2);
}
