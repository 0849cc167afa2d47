/* State shared by the vhost-user device's files; not for users of device.h. */
#ifndef VU_DEVICE_INTERNAL_H
#define VU_DEVICE_INTERNAL_H

#include "vhost_user/device/device.h"
#include "vhost_user/frontend.h"
#include "vhost_user/shmem.h"
#include "vhost_user/trace.h"
#include "virtio/pci_transport.h"
#include "virtio/virtqueue.h"

#define VU_DEV_DEFAULT_QUEUE_SIZE 256
#define VU_DEV_CONFIG_MAX 256
#define VU_TYPE_ARGS_MAX 64   /* bytes of one type's own --vhost-user keys (vu_spec.type_args) */
#define VU_SHMEM_MAX_SLOTS 32 /* live shared-memory mappings (KVM memory slots) per device */

struct vu_type_ops;

/* One shared-memory mapping the guest sees: a KVM memory slot over an mmap of the fd. */
struct vu_shmem_slot {
	uint64_t gpa, size;
	void *host; /* NULL: entry free */
	unsigned slot;
};

/* What the --vhost-user argument asked for. */
struct vu_spec {
	const struct vhost_user_type *type;
	struct vhost_user_type type_fallback;
	const struct vu_type_ops *ops; /* the type's behaviour here (types.c) */
	char sock[108];
	unsigned queue_size;  /* 0 = default */
	unsigned timeout_ms;  /* 0 = frontend default */
	int trace;	      /* -1: as --trace/--trace-file say, 0: off, 1: on */
	char trace_file[256]; /* this device's own JSON-lines trace, or "" */
	int reconnect;	      /* -1: the type's default, 0: off, 1: on */
	bool inflight;	      /* inflight=on: INFLIGHT_SHMFD acked where offered (inflight.c) */
	unsigned reconnect_timeout_ms; /* 0 = VU_RECONNECT_TIMEOUT_MS */
	/* The type's own keys (tag=, mac=, vnc=, ...), laid out by its file. */
	_Alignas(8) unsigned char type_args[VU_TYPE_ARGS_MAX];
};

enum vu_dev_state { VU_DEV_IDLE, VU_DEV_ACTIVE, VU_DEV_PAUSED, VU_DEV_FAILED };

/*
 * Answers one chain popped from a dead back-end's queue: writes only inside
 * the chain's writable buffers and returns the used length to push.
 */
typedef uint32_t (*vu_takeover_serve_fn)(const struct virtq_chain *chain);

/* A queue the VMM answers itself after its back-end died (device_takeover.c). */
struct vu_takeover {
	struct vu_device *dev;
	unsigned index;
	struct virtq vq;
	struct virtq_chain chain;
	struct event *kick_ev;
	vu_takeover_serve_fn serve;
	bool on;
};

/* lifecycle.c: how long the last activation took. */
struct vu_activation {
	uint64_t ns;	   /* last DRIVER_OK to all rings enabled */
	uint64_t start_ns; /* while the back-end's acks are outstanding, else 0 */
	uint64_t vcpu_ns;  /* of which the vCPU waited */
};

/* events.c: the loop-side watches; only the loop thread adds or removes them. */
struct vu_watches {
	struct event *sock_ev;	  /* hang-up of the main socket */
	struct event *backend_ev; /* the back-end request channel */
	int backend_ev_fd;
	int work_fd; /* eventfd: a vCPU thread asks the loop to finish a failure */
	struct event *work_ev;
	int ack_timer_fd; /* timerfd: the back-end's activation acks are overdue */
	struct event *ack_timer_ev;
};

#define VU_RECONNECT_TIMEOUT_MS 10000 /* reconnect-timeout's default */

/* reconnect.c: a back-end that hung up, waited for; dev_lock. */
struct vu_reconnect {
	bool lost;	 /* no back-end now: the rings wait for the next one */
	bool restarting; /* the rings restart on a new back-end (reconnect.c) */
	/* Given up on (gone too long, or back unable to serve): a reset gives a fresh try. */
	bool gave_up;
	bool graceful; /* dropped on purpose with the rings drained: their bases are exact */
	unsigned rings_restarted, requests_waiting; /* of the last regain, for its log line */
	uint64_t since_ms;			    /* when it was lost */
	unsigned backoff_ms;			    /* the wait before the next try */
	unsigned count;				    /* back-ends regained so far */
	char cause[128];
	struct event *timer;
	/* inotify on the socket's directory: a try the moment the socket appears (0: none). */
	uint64_t appeared_ms; /* when inotify saw the socket come back (0: not yet) */
	int watch_fd;
	struct event *watch_ev;
	/* What the lost back-end served, which the next must serve too. */
	uint64_t device_features, protocol_features;
	unsigned num_queues;
	bool started[VHOST_USER_MAX_QUEUES]; /* rings it was serving */
};

/* inflight.c: the INFLIGHT_SHMFD region, kept across back-ends; dev_lock. */
struct vu_inflight {
	bool held; /* fd and region valid */
	bool sent; /* the current connection has it */
	int fd;
	struct vhost_user_inflight region; /* as GET_INFLIGHT_FD answered */
	void *map;			   /* read-only view, for the reconnect log; may be NULL */
	uint64_t map_len;
};

/* lifecycle.c: why the device failed. */
struct vu_failure {
	char cause[192];       /* non-empty once failed */
	bool rings_were_live;  /* the failure hit an active or paused device */
	bool takeover_pending; /* rings set up on the failed device: the loop answers them */
};

/* shmem_bar.c: shared-memory regions (SHMEM protocol feature); dev_lock. */
struct vu_shmem_bars {
	bool on;
	uint64_t window; /* bytes of the MMIO window the BARs go in: no region may exceed it */
	struct vhost_user_shmem regions;
	struct {
		uint8_t id;
		uint64_t size;
	} bars[VIRTIO_PCI_MAX_SHMEM];
	unsigned nbars;
	struct vu_shmem_slot slots[VU_SHMEM_MAX_SLOTS];
};

struct vu_device {
	struct virtio_pci transport;
	struct vhost_user_frontend fe;
	struct vm *vm;
	struct vu_spec spec;
	char name[24];
	struct vhost_user_trace own_trace; /* trace-file=PATH of this device */
	bool own_trace_open;

	/* Config space: served locally (net without CONFIG, fs) or cached from GET_CONFIG. */
	bool local_config;
	bool config_cached;
	uint8_t config[VU_DEV_CONFIG_MAX];
	uint64_t local_features; /* bits the VMM implements; never sent to the back-end */

	enum vu_dev_state state;
	uint64_t driver_features;
	unsigned nqueues;	/* transport queues */
	unsigned nlocal_queues; /* of which the VMM serves (the type's setup sets it) */
	struct virtio_queue_info queues[VIRTIO_PCI_MAX_QUEUES];
	uint16_t saved_base[VIRTIO_PCI_MAX_QUEUES]; /* from GET_VRING_BASE at pause */
	bool saved_started[VIRTIO_PCI_MAX_QUEUES];  /* started at the back-end at pause */
	bool restoring; /* state.c: the next activation starts the rings at saved_base */
	struct vu_activation activation;
	struct vu_watches watch;
	struct vu_failure failure;
	struct vu_reconnect reconnect;
	struct vu_inflight inflight;
	struct vu_takeover takeover[VIRTIO_PCI_MAX_QUEUES];
	struct log_ratelimit rl;
	struct vu_shmem_bars shmem;

	/* The type file's own run-time state (gpu: the display); NULL for most. */
	void *type_state;
};

/*
 * One device type's behaviour in the device layer, implemented by the file
 * named after the type (blk.c, fs.c, net.c, gpu.c; generic.c for every
 * type without a file of its own) and listed in types.c. Every hook is
 * optional; a NULL hook means the generic behaviour its comment names.
 * Hooks that take a device run with vm->dev_lock held.
 */
struct vu_type_ops {
	uint32_t id; /* virtio device id; 0 for the generic entry */
	/* What the type's keys are, for error messages: "tag=NAME, queues=N". */
	const char *keys;
	/*
	 * Applies one of the type's own keys to args (vu_spec.type_args,
	 * zeroed first). Returns 0, -ENOENT when the key is not the type's,
	 * or -EINVAL with one line in err.
	 */
	int (*parse_key)(void *args, const char *key, const char *value, char *err, size_t n);
	/* Once every key is parsed: fills the defaults of keys not given. */
	void (*finish_args)(void *args);
	/*
	 * After the handshake: sets dev->nqueues (default: the back-end's
	 * queue count) and serves config space or features locally where the
	 * type needs it. ordinal counts earlier devices of the same type.
	 * Returns 0 or -EINVAL with one line in err.
	 */
	int (*setup)(struct vu_device *dev, unsigned ordinal, char *err, size_t n);
	/* Before the transport is plugged / at destroy: the type's own state. */
	int (*create)(struct vu_device *dev);
	void (*destroy)(struct vu_device *dev);
	/*
	 * At DRIVER_OK after SET_FEATURES and the memory table, before the
	 * rings (not on resume); stop at reset, failure and destroy, and
	 * must be idempotent.
	 */
	int (*start)(struct vu_device *dev);
	void (*stop)(struct vu_device *dev);
	/*
	 * Whether queue q, under the negotiated features (dev->driver_features),
	 * is the VMM's: served by local_start, or used by no one (a queue the
	 * layout leaves out). The back-end never gets its ring, and a dead
	 * back-end's takeover leaves it alone. NULL: every queue is the back-end's.
	 */
	bool (*queue_local)(const struct vu_device *dev, unsigned q);
	/*
	 * Whether the back-end is to process ring q now. NULL: all. At
	 * DRIVER_OK only those rings are started at the back-end; the type
	 * starts the others when it wants them (vu_start_ring), so rings the
	 * driver never uses cost no messages at activation, pause or resume.
	 * At resume the rings started at pause restart, disabled (start_disabled)
	 * where this says so.
	 */
	bool (*ring_enabled)(const struct vu_device *dev, unsigned q);
	/*
	 * Serving the local queues. start runs at DRIVER_OK (resume false: the
	 * rings are new) and at resume (true: go on where pause stopped), before
	 * the back-end is configured, so they are served whatever it does; a
	 * failed back-end does not stop them. Returns 0 or -errno (the device
	 * then fails). stop runs at pause (true: keep the ring position), reset
	 * and destroy (false), and must be idempotent.
	 */
	int (*local_start)(struct vu_device *dev, bool resume);
	void (*local_stop)(struct vu_device *dev, bool pause);
	/* Overrides bytes of a config read after the cached ones were copied. */
	void (*config_read)(struct vu_device *dev, uint32_t offset, void *data, unsigned len);
	/* True when a config write is the VMM's to serve (nothing is sent). */
	bool (*config_write_local)(struct vu_device *dev, uint32_t offset, unsigned len);
	/* How queue q is answered after the back-end died; NULL: left alone. */
	vu_takeover_serve_fn (*takeover_pick)(const struct vu_device *dev, unsigned q);
	/* The one log line's text once the rings are taken over. */
	const char *takeover_effect;
	/* A counter the device's status shows (gpu: display updates); NULL: none. */
	const char *counter_name;
	uint64_t (*counter)(const struct vu_device *dev);
	/*
	 * Snapshot: true when the device's guest-visible state is its rings
	 * alone (blk, net, rng: the ring indices restore it, as QEMU and
	 * cloud-hypervisor migrate them). A device of any other type can only
	 * be saved through its back-end's DEVICE_STATE.
	 */
	bool state_in_rings;
	/*
	 * Reconnect (reconnect.c): whether a hang-up waits for the back-end to
	 * come back by default (blk, net: their state is the rings), and why
	 * the type cannot at all (fs: the FUSE session died with the back-end);
	 * NULL: it can.
	 */
	bool reconnects;
	const char *no_reconnect;
	/* Writes scanout to path as a PNG; NULL: the type has no display (-ENODEV). */
	int (*screenshot)(struct vu_device *dev, unsigned scanout, const char *path);
};

/* types.c: the ops of virtio id, or the generic entry's. Never NULL. */
const struct vu_type_ops *vu_type_ops_find(uint32_t id);

/* spec.c: parses "TYPE,sock=PATH,..."; err gets one line on failure. */
int vu_spec_parse(const char *text, struct vu_spec *spec, char *err, size_t err_size);
/* spec.c: "N" as an unsigned in [min, max]; 0 or -EINVAL (for the type files' keys). */
int vu_parse_uint(const char *text, unsigned min, unsigned max, unsigned *out);

/* device.c: the transport's callbacks (exported for the unit tests). */
extern const struct virtio_device_ops vu_device_ops;

/* lifecycle.c: the transport's activate and reset callbacks. */
int vu_dev_activate(void *opaque, uint64_t features, const struct virtio_queue_info *queues,
		    unsigned nqueues);
void vu_dev_reset(void *opaque);

/* events.c */
extern const struct vhost_user_backend_ops vu_backend_ops;
/* Adds the loop watches (socket hang-up, back-end channel, failure work). */
int vu_watches_start(struct vu_device *dev);
void vu_watches_stop(struct vu_device *dev);
/* lifecycle.c: marks the device failed (NEEDS_RESET) with one log line; lock held. */
void vu_fail_device(struct vu_device *dev, const char *cause);

/*
 * reconnect.c. wanted: the device reconnects and its back-end hung up (so
 * vu_fail_device waits for the next one instead). lost: records what the
 * back-end served and asks the loop to close it and retry (any thread).
 * note_activation: the rings the next back-end is to serve, set up while
 * none was there. work: the loop's half (close, arm the retry timer).
 * after_reset: a failed device the guest reset gets a fresh try.
 * vu_device_reconnect (device.h) drops the back-end on purpose.
 */
bool vu_reconnect_wanted(const struct vu_device *dev);
void vu_backend_lost(struct vu_device *dev, const char *cause);
void vu_reconnect_note_activation(struct vu_device *dev);
void vu_reconnect_work(struct vu_device *dev);
void vu_reconnect_after_reset(struct vu_device *dev);
int vu_reconnect_init(struct vu_device *dev);
void vu_reconnect_release(struct vu_device *dev);
/* lifecycle.c: ring q goes to the back-end and is to be processed at DRIVER_OK. */
/*
 * lifecycle.c: stops the back-end's rings (GET_VRING_BASE into saved_base,
 * saved_started) after letting it take what was made available, then waits
 * (bounded) until it completed all it took. 0 (drained: the saved bases are
 * exact restart points), -EBUSY (some still in flight) or a stop's error.
 */
int vu_backend_quiesce(struct vu_device *dev);

/* inflight.c */
bool vu_inflight_wanted(const struct vu_device *dev);
/* Before the rings of a connection: GET_INFLIGHT_FD once per device life, SET_INFLIGHT_FD once per
 * connection. */
int vu_inflight_prepare(struct vu_device *dev);
void vu_inflight_connection_gone(struct vu_device *dev);
/* At the guest's reset and at teardown: the next activation asks for a fresh region. */
void vu_inflight_free(struct vu_device *dev);
/* At a regained back-end: logs per ring what the old one left in flight. */
void vu_inflight_report(struct vu_device *dev);

/* device.c: "idle", "active", "paused" or "failed". */
const char *vu_state_name(enum vu_dev_state s);
/* device.c: the queue size offered to the driver (its maximum). */
uint16_t vu_queue_max_size(const struct vu_device *dev);

bool vu_backend_ring_wanted(const struct vu_device *dev, unsigned q);
/*
 * lifecycle.c: a new back-end of an active or paused device gets features
 * and, unless paused, the memory table and the rings from saved_base
 * (saved_started), then a kick on each.
 */
int vu_backend_restart(struct vu_device *dev);
/* events.c: watches the new connection's socket and request channel. */
int vu_watches_rebind(struct vu_device *dev);
/* device.c: after a reconnect, a config that changed is announced to the driver. */
void vu_config_recheck(struct vu_device *dev);
/* lifecycle.c: the type's stop hook, if any (reset, failure, destroy). */
void vu_type_stop(struct vu_device *dev);
/* lifecycle.c: the type's queue_local (false without one). */
bool vu_queue_local(const struct vu_device *dev, unsigned q);
/*
 * lifecycle.c: starts back-end ring q (enabled by the driver, not local)
 * at base 0, for a type whose ring_enabled left it out at DRIVER_OK; it
 * must not have been processed since. enabled: SET_VRING_ENABLE(1) too.
 * Returns 0 or -errno (-EINVAL for a ring that is not the back-end's).
 */
int vu_start_ring(struct vu_device *dev, unsigned q, bool enabled);
/* lifecycle.c: the type's local_stop, if any (pause: keep the ring position). */
void vu_local_stop(struct vu_device *dev, bool pause);

/*
 * lifecycle.c: the activation's acks are all in (read on the loop or by a
 * later request): logs the activation time. Lock held.
 */
void vu_activation_acked(struct vu_device *dev);
/* events.c: the loop reads the activation's acks; the timer bounds the wait. */
void vu_arm_ack_timer(struct vu_device *dev);

/*
 * takeover.c: once a failed device's connection is closed (loop thread,
 * dev_lock held), start watches the kicks of every enabled queue whose
 * type has an answer (the type's takeover_pick) and answers each new
 * request with an error, so the driver does not wait forever; one log
 * line says what the guest now sees. The VMM's own queues (queue_local)
 * are left as they are. No-op unless the rings were live. Rings set up
 * again on the failed device are taken over the same way.
 * release frees the kick watches (vu_watches_stop).
 */
void vu_takeover_start(struct vu_device *dev);
void vu_takeover_release(struct vu_device *dev);
/* How queue q of dev is answered once taken over (the type's takeover_pick); NULL: left alone. */
vu_takeover_serve_fn vu_takeover_pick(const struct vu_device *dev, unsigned q);
/*
 * Pops up to one ring's worth of chains and pushes each with serve's length.
 * Returns how many it pushed, or -EIO when the ring is broken and none was.
 */
int vu_takeover_drain(struct virtq *vq, struct virtq_chain *chain, vu_takeover_serve_fn serve);

/*
 * The type files' answers (vu_takeover_serve_fn), exported for their unit
 * tests. blk.c: VIRTIO_BLK_S_IOERR in the last writable byte, 1 (0 without
 * a writable byte). fs.c: a FUSE out header {16, -EIO, the request's
 * unique} at the start of the writable part, 16; 0 when the readable part
 * holds no whole fuse_in_header or the writable part has fewer than 16
 * bytes (FORGET has none). net.c: tx frames are dropped, 0.
 */
uint32_t vu_takeover_blk(const struct virtq_chain *chain);
uint32_t vu_takeover_fs(const struct virtq_chain *chain);
uint32_t vu_takeover_net_tx(const struct virtq_chain *chain);

/*
 * net.c, the control queue the VMM serves (exported for its unit tests).
 * Queue layout: with MQ (and CTRL_VQ) negotiated and N pairs, queues
 * 0..2N-1 are rx/tx pairs and 2N is the control queue; without MQ, queue 2
 * is. N (max_virtqueue_pairs) is fixed at setup: the back-end's queue
 * count / 2, capped by the transport, lowered by its own config's value.
 */
#define VU_NET_MAC_TABLE_MAX 256 /* TABLE_SET entries kept per list (more are counted) */
/* The readable bytes of the largest command answered: class, command, two full MAC lists. */
#define VU_NET_CTRL_MAX_CMD (2 + 2 * (4 + 6 * VU_NET_MAC_TABLE_MAX))
/* N of a net device (from dev->nqueues = 2N + 1). */
unsigned vu_net_max_pairs(const struct vu_device *dev);
/* The control queue's index under the negotiated features, or -1 without CTRL_VQ. */
int vu_net_ctrl_queue(const struct vu_device *dev);
/*
 * Carries out one control command (class, command, data in the readable
 * part) and puts its ack (VIRTIO_NET_OK or VIRTIO_NET_ERR) in the first
 * writable byte; returns the used length, 1, or 0 without a writable byte
 * (nothing is carried out then). RX PROMISC/ALLMULTI and MAC TABLE_SET
 * (with CTRL_RX) and ADDR_SET (with CTRL_MAC_ADDR) are kept and OK; MQ
 * VQ_PAIRS_SET (with MQ) takes 1..N pairs whose rings the driver set up
 * and enables exactly those at the back-end (SET_VRING_ENABLE; a failure
 * fails the device). Anything else, malformed or unknown, gets ERR. The
 * device must have the type's state (its create hook ran).
 */
uint32_t vu_net_ctrl_answer(struct vu_device *dev, const struct virtq_chain *chain);
/* takeover.c: puts value into the chain's last writable byte; false without one. */
bool vu_chain_put_last_byte(const struct virtq_chain *chain, uint8_t value);

/* shmem_bar.c. After the handshake: GET_SHMEM_CONFIG and the regions (no-op without SHMEM). */
int vu_shmem_setup(struct vu_device *dev, char *err, size_t n);
/* The transport's shared-memory parameters (one BAR per region, vu_shmem_placed). */
void vu_shmem_fill_params(const struct vu_device *dev, struct virtio_pci_shmem_params *p);
/* virtio_pci_shmem_params.placed. */
void vu_shmem_placed(void *opaque, unsigned shmid, uint64_t gpa);
/* At destroy (or failed start-up): unmaps everything, removes the fault handler. */
void vu_shmem_release(struct vu_device *dev, const char *why);
/* Unmaps every mapping (device reset, disconnect, destroy); logs how many, naming why. */
void vu_shmem_reset(struct vu_device *dev, const char *why);
/* The back-end's SHMEM_MAP/UNMAP; map takes ownership of fd. */
int vu_shmem_backend_map(struct vu_device *dev, const struct vhost_user_shmem_map *map, int fd);
int vu_shmem_backend_unmap(struct vu_device *dev, const struct vhost_user_shmem_map *map);

#endif
