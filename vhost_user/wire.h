/* The vhost-user wire format: message layout, fd passing, strict reply checks. */
#ifndef VHOST_USER_WIRE_H
#define VHOST_USER_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

/* Header flags. The version lives in the low two bits. */
#define VHOST_USER_VERSION 0x1u
#define VHOST_USER_VERSION_MASK 0x3u
#define VHOST_USER_FLAG_REPLY 0x4u
#define VHOST_USER_FLAG_NEED_REPLY 0x8u

/* Front-end to back-end requests. */
enum vhost_user_request {
	VHOST_USER_GET_FEATURES = 1,
	VHOST_USER_SET_FEATURES = 2,
	VHOST_USER_SET_OWNER = 3,
	VHOST_USER_RESET_OWNER = 4,
	VHOST_USER_SET_MEM_TABLE = 5,
	VHOST_USER_SET_LOG_BASE = 6,
	VHOST_USER_SET_LOG_FD = 7,
	VHOST_USER_SET_VRING_NUM = 8,
	VHOST_USER_SET_VRING_ADDR = 9,
	VHOST_USER_SET_VRING_BASE = 10,
	VHOST_USER_GET_VRING_BASE = 11,
	VHOST_USER_SET_VRING_KICK = 12,
	VHOST_USER_SET_VRING_CALL = 13,
	VHOST_USER_SET_VRING_ERR = 14,
	VHOST_USER_GET_PROTOCOL_FEATURES = 15,
	VHOST_USER_SET_PROTOCOL_FEATURES = 16,
	VHOST_USER_GET_QUEUE_NUM = 17,
	VHOST_USER_SET_VRING_ENABLE = 18,
	VHOST_USER_SEND_RARP = 19,
	VHOST_USER_NET_SET_MTU = 20,
	VHOST_USER_SET_BACKEND_REQ_FD = 21,
	VHOST_USER_IOTLB_MSG = 22,
	VHOST_USER_SET_VRING_ENDIAN = 23,
	VHOST_USER_GET_CONFIG = 24,
	VHOST_USER_SET_CONFIG = 25,
	VHOST_USER_CREATE_CRYPTO_SESSION = 26,
	VHOST_USER_CLOSE_CRYPTO_SESSION = 27,
	VHOST_USER_POSTCOPY_ADVISE = 28,
	VHOST_USER_POSTCOPY_LISTEN = 29,
	VHOST_USER_POSTCOPY_END = 30,
	VHOST_USER_GET_INFLIGHT_FD = 31,
	VHOST_USER_SET_INFLIGHT_FD = 32,
	VHOST_USER_GPU_SET_SOCKET = 33,
	VHOST_USER_RESET_DEVICE = 34,
	VHOST_USER_VRING_KICK = 35,
	VHOST_USER_GET_MAX_MEM_SLOTS = 36,
	VHOST_USER_ADD_MEM_REG = 37,
	VHOST_USER_REM_MEM_REG = 38,
	VHOST_USER_SET_STATUS = 39,
	VHOST_USER_GET_STATUS = 40,
	VHOST_USER_GET_SHARED_OBJECT = 41,
	VHOST_USER_SET_DEVICE_STATE_FD = 42,
	VHOST_USER_CHECK_DEVICE_STATE = 43,
	VHOST_USER_GET_SHMEM_CONFIG = 44,
	VHOST_USER_REQUEST_MAX
};

/* Back-end to front-end requests, on the channel from SET_BACKEND_REQ_FD. */
enum vhost_user_backend_request {
	VHOST_USER_BACKEND_IOTLB_MSG = 1,
	VHOST_USER_BACKEND_CONFIG_CHANGE_MSG = 2,
	VHOST_USER_BACKEND_VRING_HOST_NOTIFIER_MSG = 3,
	VHOST_USER_BACKEND_VRING_CALL = 4,
	VHOST_USER_BACKEND_VRING_ERR = 5,
	VHOST_USER_BACKEND_SHARED_OBJECT_ADD = 6,
	VHOST_USER_BACKEND_SHARED_OBJECT_REMOVE = 7,
	VHOST_USER_BACKEND_SHARED_OBJECT_LOOKUP = 8,
	VHOST_USER_BACKEND_SHMEM_MAP = 9,
	VHOST_USER_BACKEND_SHMEM_UNMAP = 10,
	VHOST_USER_BACKEND_REQUEST_MAX
};

/* Protocol feature bits (GET/SET_PROTOCOL_FEATURES). */
enum vhost_user_protocol_feature {
	VHOST_USER_PROTOCOL_F_MQ = 0,
	VHOST_USER_PROTOCOL_F_LOG_SHMFD = 1,
	VHOST_USER_PROTOCOL_F_RARP = 2,
	VHOST_USER_PROTOCOL_F_REPLY_ACK = 3,
	VHOST_USER_PROTOCOL_F_NET_MTU = 4,
	VHOST_USER_PROTOCOL_F_BACKEND_REQ = 5,
	VHOST_USER_PROTOCOL_F_CROSS_ENDIAN = 6,
	VHOST_USER_PROTOCOL_F_CRYPTO_SESSION = 7,
	VHOST_USER_PROTOCOL_F_PAGEFAULT = 8,
	VHOST_USER_PROTOCOL_F_CONFIG = 9,
	VHOST_USER_PROTOCOL_F_BACKEND_SEND_FD = 10,
	VHOST_USER_PROTOCOL_F_HOST_NOTIFIER = 11,
	VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD = 12,
	VHOST_USER_PROTOCOL_F_RESET_DEVICE = 13,
	VHOST_USER_PROTOCOL_F_INBAND_NOTIFICATIONS = 14,
	VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS = 15,
	VHOST_USER_PROTOCOL_F_STATUS = 16,
	VHOST_USER_PROTOCOL_F_XEN_MMAP = 17,
	VHOST_USER_PROTOCOL_F_SHARED_OBJECT = 18,
	VHOST_USER_PROTOCOL_F_DEVICE_STATE = 19,
	VHOST_USER_PROTOCOL_F_SHMEM = 20,
	VHOST_USER_PROTOCOL_F_COUNT
};

/* The virtio feature bit that announces protocol-feature negotiation. */
#define VHOST_USER_F_PROTOCOL_FEATURES 30

/* SET_VRING_KICK/CALL/ERR u64: ring index in the low byte, "no fd" flag. */
#define VHOST_USER_VRING_INDEX_MASK 0xffull
#define VHOST_USER_VRING_NOFD_MASK (1ull << 8)

#define VHOST_USER_MAX_FDS 8
#define VHOST_USER_MEM_REGIONS_MAX 8
#define VHOST_USER_CONFIG_HDR_SIZE 12u
#define VHOST_USER_CONFIG_MAX 256u
#define VHOST_USER_SHMEM_REGIONS_MAX 256u
/* Largest payload accepted; anything bigger cannot be a valid message. */
#define VHOST_USER_PAYLOAD_MAX 4096u

struct vhost_user_header {
	uint32_t request;
	uint32_t flags;
	uint32_t size; /* payload bytes that follow */
};

struct vhost_user_vring_state {
	uint32_t index;
	uint32_t num;
};

struct vhost_user_vring_addr {
	uint32_t index;
	uint32_t flags;
	uint64_t desc_user_addr;
	uint64_t used_user_addr;
	uint64_t avail_user_addr;
	uint64_t log_guest_addr;
};

struct vhost_user_mem_region {
	uint64_t guest_phys_addr;
	uint64_t memory_size;
	uint64_t userspace_addr;
	uint64_t mmap_offset;
};

struct vhost_user_memory {
	uint32_t nregions;
	uint32_t padding;
	struct vhost_user_mem_region regions[VHOST_USER_MEM_REGIONS_MAX];
};

/* ADD_MEM_REG / REM_MEM_REG. */
struct vhost_user_single_region {
	uint64_t padding;
	struct vhost_user_mem_region region;
};

struct vhost_user_log {
	uint64_t mmap_size;
	uint64_t mmap_offset;
};

struct vhost_user_config {
	uint32_t offset;
	uint32_t size;
	uint32_t flags;
	uint8_t region[VHOST_USER_CONFIG_MAX];
};

struct vhost_user_vring_area {
	uint64_t u64; /* ring index and flags */
	uint64_t size;
	uint64_t offset;
};

struct vhost_user_inflight {
	uint64_t mmap_size;
	uint64_t mmap_offset;
	uint16_t num_queues;
	uint16_t queue_size;
};

#define VHOST_USER_DEVICE_STATE_SAVE 0
#define VHOST_USER_DEVICE_STATE_LOAD 1
struct vhost_user_device_state {
	uint32_t direction; /* 0 save, 1 load */
	uint32_t phase;	    /* 0 stopped */
};

/* SHMEM_MAP / SHMEM_UNMAP from the back-end. */
#define VHOST_USER_SHMEM_MAP_R (1ull << 0)
#define VHOST_USER_SHMEM_MAP_W (1ull << 1)
struct vhost_user_shmem_map {
	uint8_t shmid;
	uint8_t padding[7];
	uint64_t fd_offset;
	uint64_t shm_offset;
	uint64_t len;
	uint64_t flags;
};

struct vhost_user_shmem_config {
	uint32_t nregions;
	uint32_t padding;
	uint64_t memory_sizes[VHOST_USER_SHMEM_REGIONS_MAX];
};

union vhost_user_payload {
	uint64_t u64;
	struct vhost_user_vring_state state;
	struct vhost_user_vring_addr addr;
	struct vhost_user_memory memory;
	struct vhost_user_single_region mem_reg;
	struct vhost_user_log log;
	struct vhost_user_config config;
	struct vhost_user_vring_area area;
	struct vhost_user_inflight inflight;
	struct vhost_user_device_state device_state;
	struct vhost_user_shmem_map shmem_map;
	struct vhost_user_shmem_config shmem_config;
	uint8_t raw[VHOST_USER_PAYLOAD_MAX];
};

struct vhost_user_msg {
	struct vhost_user_header hdr;
	union vhost_user_payload payload;
};

/* Payload sizes as they travel, for requests whose payload is a fixed struct. */
#define VHOST_USER_MEMORY_SIZE(n)                                                                  \
	(offsetof(struct vhost_user_memory, regions) + (n) * sizeof(struct vhost_user_mem_region))

/*
 * What went wrong, in pieces a caller can log: which message, which field,
 * what was expected, what arrived. err is the -errno the call returned.
 */
struct vhost_user_error {
	int err;
	uint32_t request;     /* the request concerned, 0 when none */
	bool backend_channel; /* request names come from the back-end table */
	const char *field;    /* "flags", "size", "fds", "timeout", "hang-up", ... */
	uint64_t expected;
	uint64_t expected_max; /* > expected when a range was allowed */
	uint64_t got;
	bool hex; /* print values in hex (flags, features) */
	bool has_values;
};

/* Payload bytes a message may carry: exactly min when min == max. */
struct vhost_user_size {
	uint32_t min;
	uint32_t max;
};

/* What the message tables know of one request. */
struct vhost_user_msg_info {
	const char *name;
	struct vhost_user_size size;  /* the request's payload */
	bool has_reply;		      /* answered by a reply of its own, REPLY_ACK aside */
	struct vhost_user_size reply; /* that reply's payload, when has_reply */
};

/* Payload of a REPLY_ACK, and of a back-end channel reply: one u64, 0 for success. */
#define VHOST_USER_ACK_SIZE 8u

/*
 * The table entry for a front-end request, or for a back-end request on the
 * channel from SET_BACKEND_REQ_FD; NULL for a code outside the table.
 */
const struct vhost_user_msg_info *vhost_user_request_info(uint32_t request);
const struct vhost_user_msg_info *vhost_user_backend_request_info(uint32_t request);

/* Names for logs; "UNKNOWN" outside the tables. Never NULL. */
const char *vhost_user_request_name(uint32_t request);
const char *vhost_user_backend_request_name(uint32_t request);
const char *vhost_user_protocol_feature_name(unsigned bit);

/*
 * Formats "DEVICE: MESSAGE: FIELD: expected X, got Y" (or a plain errno
 * description when the error carries no values) into buf. Returns buf.
 */
const char *vhost_user_format_error(char *buf, size_t len, const char *device,
				    const struct vhost_user_error *e);

struct msghdr;

/*
 * How long a wire call may wait for its peer: until deadline_ms
 * (monotonic_ms, < 0: no deadline; -ETIMEDOUT) or until cancel_fd (-1:
 * none) turns readable (-ECANCELED, e.g. the VM is stopping). Signals do
 * not end the wait; they only make it look at both again.
 */
struct vhost_user_wait {
	int64_t deadline_ms;
	int cancel_fd;
};

/* A wait of timeout_ms from now (< 0: no deadline) that cancel_fd may cut short. */
struct vhost_user_wait vhost_user_wait_ms(int timeout_ms, int cancel_fd);

/*
 * Puts nfds descriptors into mh as one SCM_RIGHTS message, using control,
 * which must hold CMSG_SPACE(sizeof(int) * nfds) bytes. Nothing for nfds 0.
 */
void vhost_user_attach_fds(struct msghdr *mh, void *control, const int *fds, unsigned nfds);

/*
 * Sends header + payload (hdr->size bytes) with nfds descriptors attached
 * via SCM_RIGHTS. Handles partial writes and EINTR; never raises SIGPIPE.
 * Returns 0, -EPIPE/-ECONNRESET when the peer is gone, or another -errno.
 * The caller keeps ownership of fds.
 */
int vhost_user_send(int sock, const struct vhost_user_header *hdr, const void *payload,
		    const int *fds, unsigned nfds);

/*
 * vhost_user_send bounded by w: never blocks in sendmsg, waits for room
 * until w ends. Returns 0, -ETIMEDOUT, -ECANCELED or as vhost_user_send;
 * a send that ended early may have left part of the message (the stream is
 * then out of step and the connection unusable). w NULL: as vhost_user_send.
 */
int vhost_user_send_wait(int sock, const struct vhost_user_header *hdr, const void *payload,
			 const int *fds, unsigned nfds, const struct vhost_user_wait *w);

/*
 * Sends every byte of iov (which it consumes) with nfds descriptors, at
 * most VHOST_USER_MAX_FDS, riding on the first write. Handles partial
 * writes and EINTR; never raises SIGPIPE. timeout_ms > 0 bounds the whole
 * send, waiting for room when the socket is full; 0 leaves it to the
 * socket (a blocking one blocks, a full non-blocking one gives -EAGAIN).
 * Returns 0, -EINVAL, -ETIMEDOUT or the -errno of sendmsg. The caller keeps
 * ownership of fds.
 */
int vhost_user_sendmsg_fds(int sock, struct iovec *iov, unsigned niov, const int *fds,
			   unsigned nfds, int timeout_ms);
/* The same bounded by w (NULL: left to the socket), as vhost_user_send_wait. */
int vhost_user_sendmsg_fds_wait(int sock, struct iovec *iov, unsigned niov, const int *fds,
				unsigned nfds, const struct vhost_user_wait *w);

/* Descriptors that came with one message, gathered over however many reads it took. */
struct vhost_user_fd_inbox {
	int fds[VHOST_USER_MAX_FDS];
	unsigned n;
	unsigned max;	  /* keep at most this many (<= VHOST_USER_MAX_FDS); set before use */
	unsigned dropped; /* more than max arrived: closed and counted here */
	bool truncated;	  /* the kernel cut the control data (MSG_CTRUNC): some were lost */
};

/*
 * One non-blocking recvmsg into iov, adding the SCM_RIGHTS descriptors that
 * came with it to in (close-on-exec). Returns the bytes read (> 0),
 * -EAGAIN when nothing is there yet (or a signal came), -ECONNRESET when
 * the peer hung up, or another -errno; on the last two every descriptor in
 * in has been closed and in->n is 0. Too many descriptors or a truncated
 * control message are not errors here: the caller reads the message to its
 * end (framing intact), then refuses it and closes in's descriptors.
 */
ssize_t vhost_user_recvmsg_fds(int sock, struct iovec *iov, unsigned niov,
			       struct vhost_user_fd_inbox *in);

/* Bytes of messages one send queue holds: a whole queue's activation and more. */
#define VHOST_USER_SEND_QUEUE_BYTES 2048

/*
 * Messages queued to leave in one sendmsg: each costs a system call and a
 * back-end wake-up otherwise. Descriptors ride only on the queue's first
 * message, so every message that carries some starts a new write: a
 * back-end reading header by header (as libvhost-user, DPDK and rust-vmm
 * do) then receives them with that message's header and no other's.
 */
struct vhost_user_send_queue {
	uint8_t bytes[VHOST_USER_SEND_QUEUE_BYTES];
	size_t len;
	int fds[VHOST_USER_MAX_FDS];
	unsigned nfds;
	uint32_t first_request; /* names a failed write */
};

/*
 * Queues header + payload (hdr->size bytes) with nfds descriptors, first
 * sending what is queued when this message carries descriptors or does not
 * fit (that send bounded by w, NULL: left to the socket). The caller keeps
 * the fds open until the queue is flushed. Returns 0 or, when that earlier
 * send failed, its -errno with *failed_request set to the first request it
 * held.
 */
int vhost_user_send_queue_add(struct vhost_user_send_queue *q, int sock,
			      const struct vhost_user_header *hdr, const void *payload,
			      const int *fds, unsigned nfds, const struct vhost_user_wait *w,
			      uint32_t *failed_request);

/*
 * Sends everything queued as one write, bounded by w (NULL: left to the
 * socket). Returns 0 (also when empty) or a -errno as vhost_user_send_wait,
 * with *failed_request set; the queue is empty afterwards either way.
 */
int vhost_user_send_queue_flush(struct vhost_user_send_queue *q, int sock,
				const struct vhost_user_wait *w, uint32_t *failed_request);

/*
 * Receives one whole message, waiting at most timeout_ms overall (< 0:
 * forever). Reads exactly 12 header bytes then exactly hdr.size payload
 * bytes, reassembling partial reads. Up to max_fds received descriptors
 * are stored in fds and counted in *nfds (the caller owns them); any beyond
 * that are closed and reported as an error, as is a payload larger than
 * VHOST_USER_PAYLOAD_MAX. On every error all received fds are closed.
 * Errors: -ETIMEDOUT, -ECONNRESET (peer hung up), -EMSGSIZE, -EPROTO.
 */
int vhost_user_recv(int sock, struct vhost_user_msg *msg, int *fds, unsigned max_fds,
		    unsigned *nfds, int timeout_ms, struct vhost_user_error *e);
/* The same, waiting as w allows (-ECANCELED when its cancel fd turned readable). */
int vhost_user_recv_wait(int sock, struct vhost_user_msg *msg, int *fds, unsigned max_fds,
			 unsigned *nfds, const struct vhost_user_wait *w,
			 struct vhost_user_error *e);

/* What a reply must look like; sizes are payload bytes. */
struct vhost_user_reply_spec {
	uint32_t request;
	uint32_t min_size;
	uint32_t max_size; /* == min_size for fixed-size replies */
	unsigned min_fds;
	unsigned max_fds;
};

/*
 * The spec the table gives request's reply: its own reply's size range, or
 * the REPLY_ACK u64 when it has none; no fds. A request outside the table
 * gets the u64 too.
 */
struct vhost_user_reply_spec vhost_user_reply_spec_of(uint32_t request);

/*
 * Checks a received reply the strict way: flags exactly version|REPLY,
 * request code equal, size within [min_size, max_size], fd count within
 * [min_fds, max_fds]. Returns 0 or -EPROTO with e filled in. Closes
 * nothing: the caller decides about the fds.
 */
int vhost_user_check_reply(const struct vhost_user_msg *msg, unsigned nfds,
			   const struct vhost_user_reply_spec *spec, struct vhost_user_error *e);

/*
 * Receives and checks one reply. On success the reply's fds (at most
 * spec->max_fds, never more than VHOST_USER_MAX_FDS) are in fds; on any
 * failure every received fd has been closed.
 */
int vhost_user_recv_reply(int sock, const struct vhost_user_reply_spec *spec,
			  struct vhost_user_msg *reply, int *fds, int timeout_ms,
			  struct vhost_user_error *e);

/* Closes n descriptors and sets them to -1. */
void vhost_user_close_fds(int *fds, unsigned n);

#endif
