/*
 * A vhost-user frontend: one connection to a back-end, the feature
 * handshake, memory table and vring bring-up, and the back-end's request
 * channel. It knows nothing of KVM or PCI: its caller hands it guest
 * memory, ring addresses and the kick/call eventfds.
 */
#ifndef VHOST_USER_FRONTEND_H
#define VHOST_USER_FRONTEND_H

#include <stdbool.h>
#include <stdint.h>

#include "vhost_user/types.h"
#include "vhost_user/wire.h"
#include "vmm/log.h"
#include "vmm/memory.h"

#define VHOST_USER_MAX_QUEUES 64
/* GET_QUEUE_NUM above this is nonsense (QEMU's VIRTIO_QUEUE_MAX). */
#define VHOST_USER_SANE_QUEUE_NUM 1024
#define VHOST_USER_DEFAULT_TIMEOUT_MS 5000
#define VHOST_USER_MAX_QUEUE_SIZE 32768
/* Acks one batch may leave outstanding: a whole activation of every queue fits. */
#define VHOST_USER_MAX_PENDING_ACKS (2 + 6 * VHOST_USER_MAX_QUEUES + 2)

struct vhost_user_trace;

/*
 * Callbacks for requests the back-end sends on its channel. They may run
 * while the frontend waits for a reply (so that a back-end blocked on its
 * own request cannot deadlock us), hence they must not call back into the
 * frontend; queue work for later instead.
 */
struct vhost_user_backend_ops {
	void (*config_changed)(void *opaque);
	/* The back-end asks us to signal the queue's call (or error) notifier. */
	int (*vring_call)(void *opaque, unsigned index);
	int (*vring_err)(void *opaque, unsigned index);
	/* The callee takes ownership of fd (it must close it, even on error). */
	int (*shmem_map)(void *opaque, const struct vhost_user_shmem_map *map, int fd);
	int (*shmem_unmap)(void *opaque, const struct vhost_user_shmem_map *map);
};

/* Where a queue lives and how it is notified, as the driver set it up. */
struct vhost_user_vring {
	uint16_t size;	   /* power of two */
	uint16_t base;	   /* first avail index the back-end processes */
	uint64_t desc_gpa; /* guest-physical addresses of the three parts */
	uint64_t avail_gpa;
	uint64_t used_gpa;
	int kick_fd; /* the back-end waits on it; the caller keeps ownership */
	int call_fd; /* the back-end signals it; the caller keeps ownership */
	/*
	 * Start without SET_VRING_ENABLE(1): the back-end keeps the ring but
	 * processes it only once vhost_user_frontend_enable_queue says so.
	 * Ignored without protocol features, where a ring runs from its start.
	 */
	bool start_disabled;
};

struct vhost_user_queue_state {
	struct vhost_user_vring ring;
	bool started;
	bool enabled; /* the back-end processes it (last SET_VRING_ENABLE, or implied) */
};

struct vhost_user_frontend {
	char name[32]; /* "blk0": first word of every message */
	char log_component[48];
	const struct vhost_user_type *type;
	struct vhost_user_type type_fallback;
	int sock;
	int backend_fd; /* our end of the back-end request channel, or -1 */
	int timeout_ms; /* per request, its send and its reply; VHOST_USER_DEFAULT_TIMEOUT_MS unless
			   changed */
	/*
	 * -1, or a descriptor that turns readable when every wait must end now
	 * (the VM is stopping): a wait it cuts short fails with -ECANCELED and
	 * marks fe broken, logging at debug level only. Not owned.
	 */
	int cancel_fd;
	bool broken;  /* the back-end misbehaved or went away */
	bool hung_up; /* ... by closing the connection: a new one may serve */

	uint64_t backend_features;  /* as offered by GET_FEATURES */
	uint64_t device_features;   /* offered & what the type and transport allow */
	uint64_t acked_features;    /* last SET_FEATURES, without PROTOCOL_FEATURES */
	uint64_t protocol_offered;  /* GET_PROTOCOL_FEATURES */
	uint64_t protocol_features; /* the subset we acked */
	/*
	 * Protocol features the caller uses itself and wants acked besides the
	 * frontend's own (the checker: CONFIGURE_MEM_SLOTS; a snapshot:
	 * DEVICE_STATE). Set before the handshake; vhost_user_frontend_init
	 * clears it.
	 */
	uint64_t protocol_extra;
	unsigned backend_queue_num; /* GET_QUEUE_NUM, or the type's minimum */
	unsigned num_queues;	    /* usable: min(backend_queue_num, MAX_QUEUES) */

	const struct guest_memory *mem; /* set by set_mem_table */
	struct vhost_user_queue_state queues[VHOST_USER_MAX_QUEUES];

	const struct vhost_user_backend_ops *ops;
	void *ops_opaque;
	struct log_ratelimit backend_rl;
	/* Protocol trace sink (vhost_user/trace.h), or NULL: off. Not owned. */
	struct vhost_user_trace *trace;

	/* Between batch_begin and batch_end: acks sent for but not yet read. */
	bool batching;
	struct vhost_user_send_queue outq; /* a batch's requests, written together */
	unsigned npending;
	uint32_t pending_acks[VHOST_USER_MAX_PENDING_ACKS]; /* request codes, in send order */
	/* monotonic_ms by which every outstanding ack must be in: one timeout from their send. */
	int64_t ack_deadline_ms;
	uint64_t last_ack_ns; /* CLOCK_MONOTONIC when the outstanding acks were all read */
};

/*
 * Pipelines the requests that follow: they are queued and written
 * together (a new write for each one carrying descriptors), and their acks
 * (REPLY_ACK) read later, in order, by vhost_user_frontend_batch_end or
 * before any request that has a reply of its own. A sequence of N requests
 * then costs one round trip and a few writes instead of N of each; every
 * ack is still checked (request code, size, value) and a failure names its
 * request. Descriptors passed to queued requests must stay open until the
 * batch ends or detaches.
 */
void vhost_user_frontend_batch_begin(struct vhost_user_frontend *fe);

/*
 * Reads every outstanding ack and leaves batch mode. Returns 0, or the
 * first failure (-EREMOTEIO when the back-end refused a request, another
 * -errno when the connection failed, which marks fe broken).
 */
int vhost_user_frontend_batch_end(struct vhost_user_frontend *fe);

/*
 * Sends what is queued and leaves batch mode with the acks still
 * outstanding (a failed send marks fe broken and is returned): the caller goes on
 * while the back-end works. They are read by vhost_user_frontend_read_acks
 * (from an event loop watching the socket) or, at the latest, before the
 * next request.
 */
int vhost_user_frontend_batch_detach(struct vhost_user_frontend *fe);

/*
 * Reads the outstanding acks that have arrived, without waiting for the
 * others. Returns 0 or the first failure, as vhost_user_frontend_batch_end.
 */
int vhost_user_frontend_read_acks(struct vhost_user_frontend *fe);

/*
 * Gives up on the outstanding acks: logs a reply timeout naming the oldest
 * request and marks fe broken. Returns -ETIMEDOUT, or 0 if none was left.
 */
int vhost_user_frontend_expire_acks(struct vhost_user_frontend *fe);

/*
 * At shut-down: reads the acks that have arrived and, if some are still
 * missing, logs the oldest as unanswered before when (a back-end that never
 * acks is a bug even when the VM ends inside the timeout), marks fe broken.
 * Returns 0, the first failed ack, or -ETIMEDOUT.
 */
int vhost_user_frontend_abandon_acks(struct vhost_user_frontend *fe, const char *when);

/* Acks sent for and not yet read. */
static inline unsigned vhost_user_frontend_acks_outstanding(const struct vhost_user_frontend *fe)
{
	return fe->npending;
}

/*
 * Prepares fe for device type type_id (see device_type.h) named name in
 * logs. No I/O. Returns 0 or -EINVAL (name too long).
 */
int vhost_user_frontend_init(struct vhost_user_frontend *fe, const char *name, uint32_t type_id);

/* Installs back-end request callbacks; ops may be NULL (requests then fail). */
void vhost_user_frontend_set_backend_ops(struct vhost_user_frontend *fe,
					 const struct vhost_user_backend_ops *ops, void *opaque);

/*
 * Connects to the unix socket at path, retrying ENOENT/ECONNREFUSED for up
 * to retry_ms (a back-end still starting). Returns 0 or -errno.
 */
/* One connect attempt, no retry and no log line (reconnect polls with it). 0 or -errno. */
int vhost_user_frontend_try_connect(struct vhost_user_frontend *fe, const char *path);
int vhost_user_frontend_connect(struct vhost_user_frontend *fe, const char *path,
				unsigned retry_ms);

/*
 * SET_OWNER, GET_FEATURES, protocol features, GET_QUEUE_NUM and the
 * back-end request channel. Afterwards device_features, protocol_features
 * and num_queues are valid. Returns 0 or -errno (logged, names the step).
 */
int vhost_user_frontend_handshake(struct vhost_user_frontend *fe);

/* The protocol features fe acks when offered: its own and protocol_extra. */
uint64_t vhost_user_frontend_wanted_protocol(const struct vhost_user_frontend *fe);

static inline bool vhost_user_frontend_has_protocol(const struct vhost_user_frontend *fe,
						    unsigned bit)
{
	return fe->protocol_features & (1ull << bit);
}

/*
 * Reads/writes [offset, offset + len) of the config space; needs the
 * CONFIG protocol feature (-ENOTSUP otherwise). GET_CONFIG always asks for
 * the type's exact config size, since some back-ends reject anything else.
 */
int vhost_user_frontend_get_config(struct vhost_user_frontend *fe, uint32_t offset, void *buf,
				   uint32_t len);
int vhost_user_frontend_set_config(struct vhost_user_frontend *fe, uint32_t offset, const void *buf,
				   uint32_t len);

/* SET_FEATURES with the driver's acks; -EINVAL if they exceed device_features. */
int vhost_user_frontend_set_features(struct vhost_user_frontend *fe, uint64_t driver_features);

/* SET_MEM_TABLE for every region of mem; mem must outlive the connection. */
int vhost_user_frontend_set_mem_table(struct vhost_user_frontend *fe,
				      const struct guest_memory *mem);

/*
 * Starts queue index: NUM, ADDR (host pointers), BASE, CALL, KICK, then
 * ENABLE(1) when protocol features were negotiated. Checks that the three
 * ring parts lie inside guest memory.
 */
int vhost_user_frontend_start_queue(struct vhost_user_frontend *fe, unsigned index,
				    const struct vhost_user_vring *ring);

/*
 * SET_VRING_ENABLE(enable) on started queue index (-EINVAL if not
 * started); nothing is sent when the queue is already in that state.
 * Without protocol features a ring cannot be disabled: -ENOTSUP for
 * enable false, 0 for true.
 */
int vhost_user_frontend_enable_queue(struct vhost_user_frontend *fe, unsigned index, bool enable);

/*
 * Stops queue index: ENABLE(0) where applicable, then GET_VRING_BASE. The
 * returned base is checked against the ring's avail index (the back-end
 * cannot have consumed more than the driver made available).
 */
int vhost_user_frontend_stop_queue(struct vhost_user_frontend *fe, unsigned index,
				   uint16_t *base_out);

/* Stops every started queue, then RESET_DEVICE when negotiated. */
int vhost_user_frontend_reset(struct vhost_user_frontend *fe);

/* SET_STATUS / GET_STATUS; -ENOTSUP without the STATUS protocol feature. */
int vhost_user_frontend_set_status(struct vhost_user_frontend *fe, uint8_t status);
int vhost_user_frontend_get_status(struct vhost_user_frontend *fe, uint8_t *status);

/* The back-end channel fd for the caller's event loop, or -1. */
int vhost_user_frontend_backend_fd(const struct vhost_user_frontend *fe);

/*
 * Reads and serves one back-end request (call when backend_fd is
 * readable). Returns 0, or -errno when the request was refused or the
 * channel failed; on hang-up or a framing error the channel is closed and
 * backend_fd becomes -1.
 */
int vhost_user_frontend_handle_backend_request(struct vhost_user_frontend *fe);

/* Closes the connection and the back-end channel; fe may be re-connected. */
void vhost_user_frontend_close(struct vhost_user_frontend *fe);

/*
 * VHOST_USER_GPU_SET_SOCKET: hands the back-end fd (one end of a socketpair
 * whose other end the caller serves, see gpu_display.h). Sent without
 * NEED_REPLY and answered by nothing; the caller keeps ownership of fd
 * (close it after this returns). Returns 0 or -errno.
 */
int vhost_user_frontend_gpu_set_socket(struct vhost_user_frontend *fe, int fd);

/*
 * GET_SHMEM_CONFIG (needs the SHMEM protocol feature, else -ENOTSUP):
 * stores each VIRTIO shared-memory region's size (index = shmid, 0 =
 * unused, every size a page multiple of at most max_size, the window the
 * regions must fit) in sizes[0..*nregions). -ENOSPC when the back-end
 * reports more than max regions; -EPROTO on a malformed reply or a size
 * out of bounds.
 */
int vhost_user_frontend_get_shmem_config(struct vhost_user_frontend *fe, uint64_t *sizes,
					 unsigned max, uint64_t max_size, unsigned *nregions);

/*
 * DEVICE_STATE (needs the protocol feature, else -ENOTSUP), with every ring
 * stopped: SET_DEVICE_STATE_FD(save or load, phase stopped) hands the
 * back-end one end of a pipe (or the frontend uses the fd the back-end
 * returns), the state streams to EOF, then CHECK_DEVICE_STATE must say 0.
 * The pipe is non-blocking and read or written as the back-end goes, so a
 * full pipe cannot deadlock either side; the whole transfer is bounded by
 * fe->timeout_ms. save_state returns the state in *data (malloc'd).
 * Returns 0 or -errno (logged, naming the request and the field).
 */
/*
 * INFLIGHT_SHMFD (when negotiated, else -ENOTSUP). get asks the back-end
 * for a region for num_queues queues of queue_size and checks its reply
 * (sizes against the fd); the caller owns *fd. set hands a region kept
 * from an earlier get to the back-end (a new connection's, before its
 * rings); fd stays the caller's.
 */
int vhost_user_frontend_get_inflight(struct vhost_user_frontend *fe, uint16_t num_queues,
				     uint16_t queue_size, struct vhost_user_inflight *region,
				     int *fd);
int vhost_user_frontend_set_inflight(struct vhost_user_frontend *fe,
				     const struct vhost_user_inflight *region, int fd);
/* SET_VRING_CALL alone for queue index (fd < 0: none); the ring is not started. */
int vhost_user_frontend_set_call(struct vhost_user_frontend *fe, unsigned index, int fd);

int vhost_user_frontend_save_state(struct vhost_user_frontend *fe, uint8_t **data, size_t *len);
int vhost_user_frontend_load_state(struct vhost_user_frontend *fe, const uint8_t *data, size_t len);

#endif
