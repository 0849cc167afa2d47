/*
 * The control socket (--control PATH): a unix stream socket on the event
 * loop taking one JSON object per line and answering each with one line.
 *
 *   {"cmd":"status"} -> {"ok":true,"state":"running"|"paused","console_dropped":N,
 *                        "devices":[{...},...]}
 *       console_dropped: guest output bytes lost to a stdout nobody read
 *   {"cmd":"pause"}  -> {"ok":true,"state":"paused","latency_us":N}
 *       parks every vCPU, then stops every ring of every vhost-user device
 *       (GET_VRING_BASE) and keeps the indices; pausing twice is a no-op
 *   {"cmd":"resume"} -> {"ok":true,"state":"running","latency_us":N}
 *       re-sends the memory table, restarts the rings from the kept
 *       indices, then releases the vCPUs; resuming a running VM is a no-op
 *   {"cmd":"screenshot","device":"gpu0","scanout":0,"path":"/tmp/s.png"}
 *       -> {"ok":true,"device":"gpu0","scanout":0}: the GPU's framebuffer as
 *       PNG (device defaults to the first GPU, scanout to 0)
 *   {"cmd":"snapshot","path":"/tmp/snap","resume":false}
 *       -> {"ok":true,"state":"paused"|"running","ram_bytes":N,"ms":N}:
 *       pauses as pause does, writes the snapshot directory (vmm/snapshot.h)
 *       and stays paused unless resume is true; a device that cannot be
 *       saved fails it before anything is written, naming the device
 *   {"cmd":"quit"}   -> {"ok":true}, then the VMM stops (exit status 0)
 *
 * Anything else (malformed JSON, a missing or unknown "cmd", a line over
 * 4 KiB: see control_parse_request) gets {"ok":false,"error":"..."}; a
 * failed device turns a pause or resume reply into ok:false naming it. Each
 * device entry is vu_device_describe's object.
 */
#ifndef VMM_CONTROL_H
#define VMM_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vm;
struct vm_devices;
struct control;

/*
 * Listens on path (a stale socket file there is replaced; any other file
 * is an error) and adds its events to vm->evbase. Call on the loop thread
 * once devices exist. Returns 0 or -errno (logged).
 *
 * Who gets in: the socket file is mode 0600 whatever the umask, and a
 * client whose SO_PEERCRED uid is not the VMM's effective uid is closed at
 * once with one (rate-limited) log line; root is not an exception. At most
 * CONTROL_MAX_CLIENTS are connected: a new one closes the client that has
 * gone longest without a complete line, and a client that sends no
 * complete line for the idle timeout is closed, so stuck clients can never
 * lock an operator out.
 */
int control_create(struct vm *vm, struct vm_devices *devs, const char *path, struct control **out);

#define CONTROL_MAX_CLIENTS 8
#define CONTROL_IDLE_TIMEOUT_MS 30000 /* without a complete line */

/* Changes the idle timeout for clients whose timer starts from now on (tests). */
void control_set_idle_timeout(struct control *ctl, unsigned ms);

/* Closes every connection and removes the socket file; after the loop stopped. */
void control_destroy(struct control *ctl);

#define CONTROL_LINE_MAX 4096 /* longest request line, newline excluded */

enum control_cmd {
	CONTROL_STATUS,
	CONTROL_PAUSE,
	CONTROL_RESUME,
	CONTROL_SCREENSHOT,
	CONTROL_QUIT,
	CONTROL_SNAPSHOT,
	CONTROL_RECONNECT,
};

/* One request line, parsed and checked. */
struct control_request {
	enum control_cmd cmd;
	char device[32];  /* screenshot: "" means the first GPU; reconnect: the device */
	uint32_t scanout; /* screenshot: 0 unless given */
	char path[1024];  /* screenshot, snapshot: never empty */
	bool resume;	  /* snapshot: resume the VM afterwards */
	char error[192];  /* why the line was refused: printable ASCII */
};

/*
 * Parses one request line of len bytes (no newline; NULs are bytes like any
 * other, nothing past len is read). Returns 0 with req filled, or -EINVAL
 * with req->error saying why: a line over CONTROL_LINE_MAX, malformed JSON
 * (jansson's position and text), not an object, a duplicate key, a nested
 * value, no string "cmd", an unknown command, or screenshot arguments of
 * the wrong type. Members the command does not use are ignored. Pure: for
 * the control socket, the unit tests and the fuzzer.
 */
int control_parse_request(const char *line, size_t len, struct control_request *req);

#endif
