/*
 * Drives the vhost-user frontend against a real back-end with no KVM: the
 * test plays the guest driver on memfd guest memory. Usage:
 *   backend_test blk SOCKET IMAGE|ram:BYTES | blk-killed SOCKET BACKEND_PID |
 *                fs SOCKET DIR | net SOCKET
 * Prints one "ok"/"not ok" line per check; exits 1 when any check failed.
 */
#include <errno.h>
#include <inttypes.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tests/vhost_user/backend_test.h"

static void print_protocol_features(uint64_t features)
{
	unsigned bit;

	for (bit = 0; bit < 64; bit++) {
		if (features & (1ull << bit))
			printf(" %s", vhost_user_protocol_feature_name(bit));
	}
}

int test_setup(struct test_ctx *t, const char *kind, uint32_t type, const char *sock)
{
	int err;

	t->tap.kind = kind;
	err = test_guest_ram_split(&t->mem, DATA_GPA);
	test_check(&t->tap, err == 0, "guest memory: %s", strerror(-err));
	if (err)
		return err;
	vhost_user_frontend_init(&t->fe, kind, type);
	err = vhost_user_frontend_connect(&t->fe, sock, 10000);
	test_check(&t->tap, err == 0, "connect %s", sock);
	if (!err)
		err = vhost_user_frontend_handshake(&t->fe);
	test_check(&t->tap, err == 0, "handshake: %s", err ? strerror(-err) : "done");
	if (err)
		return err;
	printf("# %s: features 0x%" PRIx64 " (to driver 0x%" PRIx64 "), protocol 0x%" PRIx64
	       " (acked 0x%" PRIx64 "):",
	       kind, t->fe.backend_features, t->fe.device_features, t->fe.protocol_offered,
	       t->fe.protocol_features);
	print_protocol_features(t->fe.protocol_offered);
	printf("; queues %u\n", t->fe.backend_queue_num);
	test_check(&t->tap, t->fe.device_features & (1ull << VIRTIO_F_VERSION_1),
		   "VERSION_1 offered");
	test_check(&t->tap, !(t->fe.device_features & (1ull << VIRTIO_F_RING_PACKED)),
		   "RING_PACKED masked from the driver");
	return 0;
}

/* SET_FEATURES, SET_MEM_TABLE; reports and returns the first error. */
int test_configure(struct test_ctx *t, uint64_t driver_features)
{
	int err = vhost_user_frontend_set_features(&t->fe, driver_features);

	test_check(&t->tap, err == 0, "SET_FEATURES 0x%" PRIx64, driver_features);
	if (!err)
		err = vhost_user_frontend_set_mem_table(&t->fe, &t->mem);
	test_check(&t->tap, err == 0, "SET_MEM_TABLE (%u regions)", t->mem.nregions);
	return err;
}

int test_start_queues(struct test_ctx *t, struct test_vq *vqs, const uint16_t *bases, unsigned n)
{
	struct timespec t0, t1;
	unsigned i;
	int err = 0, acked;

	/* As the VMM activates a device: ring requests pipelined, acks read after. */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	vhost_user_frontend_batch_begin(&t->fe);
	for (i = 0; i < n && !err; i++) {
		struct vhost_user_vring ring = test_vq_ring(&vqs[i], bases ? bases[i] : 0);

		err = vhost_user_frontend_start_queue(&t->fe, i, &ring);
	}
	acked = vhost_user_frontend_batch_end(&t->fe);
	err = err ? err : acked;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	test_check(&t->tap, err == 0, "start %u queue(s)%s: %ld us to the last ack", n,
		   bases ? " again" : "",
		   (long)((t1.tv_sec - t0.tv_sec) * 1000000 + (t1.tv_nsec - t0.tv_nsec) / 1000));
	if (!err && vhost_user_frontend_has_protocol(&t->fe, VHOST_USER_PROTOCOL_F_STATUS)) {
		uint8_t status = 0;

		err = vhost_user_frontend_set_status(
		    &t->fe, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
				VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK);
		if (!err)
			err = vhost_user_frontend_get_status(&t->fe, &status);
		test_check(&t->tap, err == 0 && (status & VIRTIO_CONFIG_S_DRIVER_OK),
			   "SET_STATUS/GET_STATUS DRIVER_OK (status 0x%x)", status);
	}
	return err;
}

/* Stops n queues and checks each base equals what the driver made available. */
int test_stop_queues(struct test_ctx *t, struct test_vq *vqs, uint16_t *bases, unsigned n)
{
	unsigned i;
	int err = 0;

	for (i = 0; i < n && !err; i++) {
		err = vhost_user_frontend_stop_queue(&t->fe, i, &bases[i]);
		test_check(&t->tap, err == 0, "stop queue %u (GET_VRING_BASE %u, avail idx %u)", i,
			   err ? 0 : bases[i], vqs[i].avail_idx);
	}
	return err;
}

void *gpa_ptr(struct test_ctx *t, uint64_t gpa, uint64_t len)
{
	return guest_memory_ptr(&t->mem, gpa, len);
}

void test_teardown(struct test_ctx *t, struct test_vq *vqs, unsigned n)
{
	unsigned i;

	vhost_user_frontend_close(&t->fe);
	for (i = 0; i < n; i++)
		test_vq_destroy(&vqs[i]);
	guest_memory_destroy(&t->mem);
	printf("# %s: %u passed, %u failed\n", t->tap.kind, t->tap.passed, t->tap.failed);
}

int main(int argc, char **argv)
{
	struct test_ctx t = {0};

	setvbuf(stdout, NULL, _IOLBF, 0);
	log_set_level(getenv("VU_DEBUG") ? LOG_DEBUG : LOG_WARN);
	if (argc == 4 && strcmp(argv[1], "blk") == 0)
		run_blk(&t, argv[2], argv[3]);
	else if (argc == 4 && strcmp(argv[1], "blk-killed") == 0)
		run_blk_killed(&t, argv[2], (pid_t)atoi(argv[3]));
	else if (argc == 4 && strcmp(argv[1], "fs") == 0)
		run_fs(&t, argv[2], argv[3]);
	else if (argc == 3 && strcmp(argv[1], "net") == 0)
		run_net(&t, argv[2]);
	else {
		fprintf(stderr,
			"usage: %s blk SOCKET IMAGE | blk-killed SOCKET PID | fs SOCKET DIR | net "
			"SOCKET\n",
			argv[0]);
		return 2;
	}
	return t.tap.failed || t.tap.passed == 0 ? 1 : 0;
}
