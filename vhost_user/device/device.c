/* A vhost-user device: creation from a --vhost-user argument, config space, description. */
#include "vhost_user/device/internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "pci/pci.h"
#include "vmm/log.h"
#include "vmm/util.h"
#include "vmm/vm.h"

#define CONNECT_RETRY_MS 2000 /* a back-end started just before us may still be binding */

/* Decides who serves config space and how many queues the transport has: the type's setup. */
static int setup_device_model(struct vu_device *dev, unsigned ordinal, char *err, size_t n)
{
	struct vhost_user_frontend *fe = &dev->fe;
	const struct vu_type_ops *ops = dev->spec.ops;
	int r;

	dev->nqueues = fe->num_queues;
	r = ops->setup ? ops->setup(dev, ordinal, err, n) : 0;
	if (r)
		return r;
	/* The VMM's own queues (nlocal_queues) are not the back-end's to offer. */
	if (dev->nlocal_queues > dev->nqueues ||
	    dev->nqueues - dev->nlocal_queues > fe->num_queues ||
	    dev->nqueues > VIRTIO_PCI_MAX_QUEUES) {
		snprintf(err, n, "needs %u queues, back-end offers %u",
			 dev->nqueues - dev->nlocal_queues, fe->num_queues);
		return -EINVAL;
	}
	if (fe->type->config_size > VU_DEV_CONFIG_MAX) {
		snprintf(err, n, "config space of %u bytes is too large", fe->type->config_size);
		return -EINVAL;
	}
	return 0;
}

static uint64_t dev_features(void *opaque)
{
	struct vu_device *dev = opaque;

	return dev->fe.device_features | dev->local_features;
}

static void refresh_config(struct vu_device *dev)
{
	uint32_t size = dev->fe.type->config_size;
	int err;

	if (dev->state == VU_DEV_FAILED || dev->reconnect.lost)
		return; /* the last copy stands until a back-end can say more */
	/*
	 * Cached from the moment of asking: a config-change notice served
	 * while we wait for the reply clears it again, so that the next read
	 * asks once more rather than keeping what may predate the change.
	 */
	dev->config_cached = true;
	err = vhost_user_frontend_get_config(&dev->fe, 0, dev->config, size);
	if (err) {
		dev->config_cached = false;
		vu_fail_device(dev, "GET_CONFIG failed");
	}
}

void vu_config_recheck(struct vu_device *dev)
{
	uint8_t before[VU_DEV_CONFIG_MAX];
	uint32_t size = dev->fe.type->config_size;

	if (dev->local_config || !dev->config_cached || size > sizeof(before))
		return;
	memcpy(before, dev->config, size);
	refresh_config(dev);
	if (dev->config_cached && memcmp(before, dev->config, size)) {
		log_info(dev->fe.log_component, "%s: the new back-end's config differs", dev->name);
		virtio_pci_config_changed(&dev->transport);
	}
}

static void dev_config_read(void *opaque, uint32_t offset, void *data, unsigned len)
{
	struct vu_device *dev = opaque;

	if (!dev->local_config && !dev->config_cached)
		refresh_config(dev);
	if (offset + len > VU_DEV_CONFIG_MAX) {
		memset(data, 0, len);
		return;
	}
	memcpy(data, dev->config + offset, len);
	if (dev->spec.ops->config_read)
		dev->spec.ops->config_read(dev, offset, data, len);
}

static void dev_config_write(void *opaque, uint32_t offset, const void *data, unsigned len)
{
	struct vu_device *dev = opaque;

	if (dev->local_config || dev->state == VU_DEV_FAILED)
		return; /* tag, mac and queue counts are read-only to the driver */
	if (dev->reconnect.lost) {
		log_warn_ratelimited(&dev->rl, dev->fe.log_component,
				     "%s: config write at %u dropped: no back-end (reconnecting)",
				     dev->name, offset);
		return;
	}
	if (dev->spec.ops->config_write_local &&
	    dev->spec.ops->config_write_local(dev, offset, len))
		return;
	if (vhost_user_frontend_set_config(&dev->fe, offset, data, len)) {
		vu_fail_device(dev, "SET_CONFIG failed");
		dev->config_cached = false;
		return;
	}
	/*
	 * The copy takes the write as the back-end does: a back-end that
	 * changes more says so with a config-change notice (which clears
	 * config_cached, also one served during the send), so the driver's
	 * read-back after a write (virtio-blk's cache mode) costs no GET_CONFIG.
	 */
	if (dev->config_cached && offset + len <= VU_DEV_CONFIG_MAX)
		memcpy(dev->config + offset, data, len);
}

const struct virtio_device_ops vu_device_ops = {
    .features = dev_features,
    .config_read = dev_config_read,
    .config_write = dev_config_write,
    .activate = vu_dev_activate,
    .reset = vu_dev_reset,
};

static unsigned same_type_count(uint32_t id, struct vu_device *const *existing, unsigned n)
{
	unsigned count = 0;

	for (unsigned i = 0; i < n; i++)
		count += existing[i]->fe.type->id == id;
	return count;
}

/* Parse, connect, handshake; err holds the one line to log on failure. */
/*
 * The device's trace: its own file (trace-file=), none (trace=off), the
 * shared one from --trace/--trace-file, or with trace=on and no shared
 * one, text on stderr.
 */
static int choose_trace(struct vu_device *dev, struct vhost_user_trace *shared, char *err, size_t n)
{
	const struct vu_spec *s = &dev->spec;
	int r = 0;

	if (s->trace_file[0])
		r = vhost_user_trace_open(&dev->own_trace, NULL, s->trace_file);
	else if (s->trace == 1 && !shared)
		r = vhost_user_trace_open(&dev->own_trace, stderr, NULL);
	else {
		dev->fe.trace = s->trace == 0 ? NULL : shared;
		return 0;
	}
	if (r) {
		snprintf(err, n, "%s: cannot open trace file '%.120s': %s", dev->name,
			 s->trace_file, strerror(-r));
		return r;
	}
	dev->own_trace_open = true;
	dev->fe.trace = &dev->own_trace;
	return 0;
}

static int connect_backend(struct vu_device *dev, const char *spec_text,
			   struct vhost_user_trace *trace, struct vu_device *const *existing,
			   unsigned nexisting, char *err, size_t n)
{
	char why[160];
	unsigned ordinal;
	int r = vu_spec_parse(spec_text, &dev->spec, err, n);

	if (r)
		return r;
	ordinal = same_type_count(dev->spec.type->id, existing, nexisting);
	if (strncmp(dev->spec.type->name, "type=", 5) ==
	    0) /* no name: "type63-0", not "type=630" */
		snprintf(dev->name, sizeof(dev->name), "type%u-%u", dev->spec.type->id, ordinal);
	else
		snprintf(dev->name, sizeof(dev->name), "%s%u", dev->spec.type->name, ordinal);
	r = vhost_user_frontend_init(&dev->fe, dev->name, dev->spec.type->id);
	if (r) {
		snprintf(err, n, "%s: name too long", dev->name);
		return r;
	}
	vhost_user_frontend_set_backend_ops(&dev->fe, &vu_backend_ops, dev);
	r = choose_trace(dev, trace, err, n);
	if (r)
		return r;
	/* Snapshots use DEVICE_STATE where the back-end offers it (state.c). */
	dev->fe.protocol_extra = BIT(VHOST_USER_PROTOCOL_F_DEVICE_STATE);
	/* In-flight tracking where a restarted back-end can use it (inflight.c). */
	if (vu_inflight_wanted(dev))
		dev->fe.protocol_extra |= BIT(VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD);
	if (dev->spec.timeout_ms)
		dev->fe.timeout_ms = (int)dev->spec.timeout_ms;
	/* Every wait on the back-end ends when the VM stops, whatever the back-end does. */
	dev->fe.cancel_fd = dev->vm->stop_fd;
	/* These log their own line naming the device, the message and the field. */
	r = vhost_user_frontend_connect(&dev->fe, dev->spec.sock, CONNECT_RETRY_MS);
	if (!r)
		r = vhost_user_frontend_handshake(&dev->fe);
	if (r)
		return r;
	r = setup_device_model(dev, ordinal, why, sizeof(why));
	if (r) {
		snprintf(err, n, "%s: cannot start: %s", dev->name, why);
		return r;
	}
	if (dev->spec.ops->create) {
		r = dev->spec.ops->create(dev);
		if (r) {
			snprintf(err, n, "%s: cannot set up the %s device: %s", dev->name,
				 dev->spec.type->name, strerror(-r));
			return r;
		}
	}
	/* A copy of the config to serve should the driver read it while the back-end is away. */
	if (dev->spec.reconnect == 1 && !dev->local_config &&
	    vhost_user_frontend_has_protocol(&dev->fe, VHOST_USER_PROTOCOL_F_CONFIG)) {
		r = vhost_user_frontend_get_config(&dev->fe, 0, dev->config,
						   dev->fe.type->config_size);
		if (r) {
			snprintf(err, n, "%s: cannot start: GET_CONFIG failed", dev->name);
			return r;
		}
	}
	return vu_shmem_setup(dev, err, n);
}

int vu_device_check_spec(const char *spec, char *err, size_t err_size)
{
	struct vu_spec parsed;

	return vu_spec_parse(spec, &parsed, err, err_size);
}

uint16_t vu_queue_max_size(const struct vu_device *dev)
{
	return (uint16_t)(dev->spec.queue_size ? dev->spec.queue_size : VU_DEV_DEFAULT_QUEUE_SIZE);
}

static int plug_transport(struct vu_device *dev, struct pci_bus *bus)
{
	struct virtio_pci_params params = {
	    .name = dev->fe.log_component,
	    .device_type = (uint16_t)dev->fe.type->id,
	    .num_queues = (uint16_t)dev->nqueues,
	    .queue_max_size = vu_queue_max_size(dev),
	    .config_size = dev->fe.type->config_size,
	    .ops = &vu_device_ops,
	    .dev = dev,
	};
	struct virtio_pci_platform plat = virtio_pci_kvm_platform(dev->vm);
	struct virtio_pci_shmem_params shmem;

	vu_shmem_fill_params(dev, &shmem);
	return virtio_pci_init_shmem(&dev->transport, bus, &dev->vm->mem, &params, &plat, &shmem);
}

static void destroy_type_state(struct vu_device *dev)
{
	if (dev->spec.ops && dev->spec.ops->destroy)
		dev->spec.ops->destroy(dev);
}

int vu_device_create(struct vm *vm, struct pci_bus *bus, const char *spec,
		     struct vhost_user_trace *trace, struct vu_device *const *existing,
		     unsigned nexisting, struct vu_device **out)
{
	struct vu_device *dev = calloc(1, sizeof(*dev));
	char err[256] = "";
	int r;

	if (!dev)
		return -ENOMEM;
	dev->vm = vm;
	dev->watch.work_fd = -1;
	dev->watch.ack_timer_fd = -1;
	dev->watch.backend_ev_fd = -1;
	dev->fe.sock = dev->fe.backend_fd = -1;
	dev->shmem.window = bus->mmio_size;
	r = connect_backend(dev, spec, trace, existing, nexisting, err, sizeof(err));
	if (r) {
		if (err[0])
			log_error("vhost-user", "--vhost-user %s: %s", spec, err);
		goto fail;
	}
	r = plug_transport(dev, bus);
	if (!r) {
		r = vu_watches_start(dev);
		if (r) {
			pci_unregister_function(bus, &dev->transport.fn);
			virtio_pci_destroy(&dev->transport);
		}
	}
	if (r) {
		log_error("vhost-user", "%s: cannot create the PCI device: %s", dev->name,
			  strerror(-r));
		goto fail;
	}
	*out = dev;
	return 0;
fail:
	vu_watches_stop(dev);
	vu_shmem_release(dev, "start-up failed");
	destroy_type_state(dev);
	vhost_user_frontend_close(&dev->fe);
	free(dev);
	return r;
}

void vu_device_destroy(struct vu_device *dev)
{
	if (!dev)
		return;
	if (vhost_user_frontend_acks_outstanding(&dev->fe))
		vhost_user_frontend_abandon_acks(&dev->fe, "shut-down");
	vu_watches_stop(dev);
	vu_local_stop(dev, false);
	destroy_type_state(dev);
	vu_shmem_release(dev, "shut-down");
	virtio_pci_destroy(&dev->transport);
	vhost_user_frontend_close(&dev->fe);
	if (dev->own_trace_open)
		vhost_user_trace_close(&dev->own_trace);
	free(dev);
}

const char *vu_device_name(const struct vu_device *dev)
{
	return dev->name;
}

uint32_t vu_device_type_id(const struct vu_device *dev)
{
	return dev->fe.type->id;
}

bool vu_device_has_display(const struct vu_device *dev)
{
	return dev->spec.ops->screenshot != NULL;
}

int vu_device_screenshot(struct vu_device *dev, unsigned scanout, const char *path)
{
	if (!dev->spec.ops->screenshot)
		return -ENODEV;
	return dev->spec.ops->screenshot(dev, scanout, path);
}

/* A JSON string of text; bytes that are not UTF-8 (a socket path may hold any) become '?'. */
static json_t *json_text(const char *text)
{
	json_t *s = json_string(text);
	char *copy;

	if (s || !(copy = strdup(text)))
		return s;
	for (char *p = copy; *p; p++)
		if ((unsigned char)*p >= 0x80)
			*p = '?';
	s = json_string(copy);
	free(copy);
	return s;
}

const char *vu_state_name(enum vu_dev_state s)
{
	static const char *const names[] = {"idle", "active", "paused", "failed"};

	return names[s];
}

/*
 * Per queue, the requests the driver made available and the device has not
 * completed (avail index - used index, from guest memory): what a stuck
 * back-end sits on. Empty while the device is idle or failed.
 */
static json_t *pending_per_queue(const struct vu_device *dev)
{
	json_t *a = json_array();

	if (!a || (dev->state != VU_DEV_ACTIVE && dev->state != VU_DEV_PAUSED))
		return a;
	for (unsigned i = 0; i < dev->nqueues; i++) {
		const volatile uint16_t *used =
		    guest_memory_ptr(&dev->vm->mem, dev->queues[i].device, 4);
		const volatile uint16_t *avail =
		    guest_memory_ptr(&dev->vm->mem, dev->queues[i].driver, 4);
		/* A queue the driver did not enable has no rings to read. */
		json_int_t n =
		    dev->queues[i].enabled && used && avail ? (uint16_t)(avail[1] - used[1]) : 0;

		if (json_array_append_new(a, json_integer(n))) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

json_t *vu_device_describe(const struct vu_device *dev)
{
	/* "o" takes the reference even when packing fails: no leak on NULL. */
	json_t *o = json_pack("{s:s,s:s,s:o,s:s,s:I,s:I}", "name", dev->name, "type",
			      dev->fe.type->name, "sock", json_text(dev->spec.sock), "state",
			      vu_state_name(dev->state), "queues", (json_int_t)dev->nqueues,
			      "activation_us", (json_int_t)(dev->activation.ns / 1000));
	bool ok = o != NULL;

	if (ok && dev->spec.ops->counter)
		ok = !json_object_set_new(o, dev->spec.ops->counter_name,
					  json_integer((json_int_t)dev->spec.ops->counter(dev)));
	if (ok && dev->failure.cause[0])
		ok = !json_object_set_new(o, "error", json_text(dev->failure.cause));
	if (ok && dev->reconnect.lost)
		ok = !json_object_set_new(o, "reconnecting", json_text(dev->reconnect.cause));
	if (ok && dev->reconnect.count)
		ok = !json_object_set_new(o, "reconnects", json_integer(dev->reconnect.count));
	if (ok)
		ok = !json_object_set_new(o, "pending", pending_per_queue(dev));
	if (!ok)
		json_decref(o);
	return ok ? o : NULL;
}
