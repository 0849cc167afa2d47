/* Shared plumbing of the real-back-end tests: guest memory, queue start/stop. */
#ifndef TESTS_VHOST_USER_BACKEND_TEST_H
#define TESTS_VHOST_USER_BACKEND_TEST_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "tests/lib/fake_vm.h"
#include "tests/lib/tap.h"
#include "tests/lib/vq_driver.h"
#include "vhost_user/frontend.h"
#include "vmm/memory.h"

/*
 * Guest-physical layout (test_guest_ram_split): queue i's rings at
 * RING_GPA(i) in the first region, data buffers at DATA_GPA in the second.
 */
#define RING_GPA(i) (0x10000ull * ((i) + 1))
#define DATA_GPA 0x1000000ull
#define QUEUE_SIZE 128
#define REPLY_TIMEOUT_MS 5000

struct test_ctx {
	struct test_tally tap; /* kind: the back-end under test */
	struct guest_memory mem;
	struct vhost_user_frontend fe;
};

int test_setup(struct test_ctx *t, const char *kind, uint32_t type, const char *sock);
int test_configure(struct test_ctx *t, uint64_t driver_features);
/* bases NULL: start at 0 (first start); otherwise restart where the rings stopped. */
int test_start_queues(struct test_ctx *t, struct test_vq *vqs, const uint16_t *bases, unsigned n);
int test_stop_queues(struct test_ctx *t, struct test_vq *vqs, uint16_t *bases, unsigned n);
void test_teardown(struct test_ctx *t, struct test_vq *vqs, unsigned n);
void *gpa_ptr(struct test_ctx *t, uint64_t gpa, uint64_t len);

void run_blk(struct test_ctx *t, const char *sock, const char *image);
void run_blk_killed(struct test_ctx *t, const char *sock, pid_t backend);
void run_fs(struct test_ctx *t, const char *sock, const char *dir);
void run_net(struct test_ctx *t, const char *sock);

#endif
