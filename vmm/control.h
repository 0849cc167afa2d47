/*
 * The control socket (--control PATH): a unix stream socket on the event
 * loop taking one JSON object per line and answering each with one line.
 *
 *   {"cmd":"status"} -> {"ok":true,"state":"running"|"paused","devices":[{...},...]}
 *   {"cmd":"pause"}  -> {"ok":true,"state":"paused","latency_us":N}
 *       parks every vCPU, then stops every ring of every vhost-user device
 *       (GET_VRING_BASE) and keeps the indices; pausing twice is a no-op
 *   {"cmd":"resume"} -> {"ok":true,"state":"running","latency_us":N}
 *       re-sends the memory table, restarts the rings from the kept
 *       indices, then releases the vCPUs; resuming a running VM is a no-op
 *   {"cmd":"screenshot","device":"gpu0","scanout":0,"path":"/tmp/s.png"}
 *       -> {"ok":true,"device":"gpu0","scanout":0}: the GPU's framebuffer as
 *       PNG (device defaults to the first GPU, scanout to 0)
 *   {"cmd":"quit"}   -> {"ok":true}, then the VMM stops (exit status 0)
 *
 * Anything else (malformed JSON, a missing or unknown "cmd", a line over
 * 4 KiB) gets {"ok":false,"error":"..."}; a failed device turns a pause or
 * resume reply into ok:false naming it. Each device entry holds name, type,
 * sock, state (idle/active/paused/failed), queues, activation_us and, once
 * failed, error.
 */
#ifndef VMM_CONTROL_H
#define VMM_CONTROL_H

struct vm;
struct vm_devices;
struct control;

/*
 * Listens on path (a stale socket file there is replaced; any other file
 * is an error) and adds its events to vm->evbase. Call on the loop thread
 * once devices exist. Returns 0 or -errno (logged).
 */
int control_create(struct vm *vm, struct vm_devices *devs, const char *path, struct control **out);

/* Closes every connection and removes the socket file; after the loop stopped. */
void control_destroy(struct control *ctl);

/*
 * Finds the "cmd" string of a one-line JSON object. Returns 0, or -EINVAL
 * with a reason in why (malformed JSON, not an object, no string "cmd").
 * Exposed for unit tests.
 */
int control_parse_command(const char *line, char *cmd, unsigned cmd_size, const char **why);

#endif
