/*
 * The in-flight tracking region (INFLIGHT_SHMFD) over a device's life: got
 * from the back-end once, after the features and before the rings of the
 * first activation; kept while the guest uses the device and handed to
 * every new connection (SET_INFLIGHT_FD, before its rings) so a restarted
 * back-end resubmits what its predecessor had taken and not completed;
 * freed when the guest resets the device, whose rings then start afresh.
 * Acked only on devices that reconnect (it does nothing for the others),
 * and only with inflight=on: DPDK 22.11's vhost_blk example stops serving
 * its ring once it is negotiated with this frontend (cause not found yet),
 * so the default is the restart at the used index, which reconnect.c
 * checks is exact.
 */
#include "vhost_user/device/internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vhost_user/inflight.h"
#include "vmm/log.h"
#include "vmm/vm.h"

#define LOGGED_HEADS 8

bool vu_inflight_wanted(const struct vu_device *dev)
{
	return dev->spec.reconnect == 1 && dev->spec.inflight;
}

static void map_region(struct vu_device *dev)
{
	struct vu_inflight *in = &dev->inflight;
	uint64_t len = in->region.mmap_offset + in->region.mmap_size;
	void *p = mmap(NULL, len, PROT_READ, MAP_SHARED, in->fd, 0);

	/* Read only for what a reconnect logs: the region works unmapped as well. */
	if (p == MAP_FAILED) {
		log_debug(dev->fe.log_component, "%s: in-flight region not mapped: %s", dev->name,
			  strerror(errno));
		return;
	}
	in->map = p;
	in->map_len = len;
}

static int get_region(struct vu_device *dev)
{
	struct vu_inflight *in = &dev->inflight;
	int err = vhost_user_frontend_get_inflight(&dev->fe, (uint16_t)dev->nqueues,
						   vu_queue_max_size(dev), &in->region, &in->fd);

	if (err)
		return err;
	in->held = true;
	map_region(dev);
	log_debug(dev->fe.log_component, "%s: in-flight region of %" PRIu64 " bytes", dev->name,
		  in->region.mmap_size);
	return 0;
}

/*
 * A SET_VRING_CALL for every queue before SET_INFLIGHT_FD, as QEMU sends at
 * start-up: DPDK's vhost library sets up a queue's state on the first
 * message naming it and hands the region only to queues it has then, so
 * without these its rings would find no region at SET_VRING_KICK and the
 * device would never become ready. Each queue gets its own call fd where
 * the driver set one up; the rings' start sends it again.
 */
static int announce_queues(struct vu_device *dev)
{
	int err = 0;

	for (unsigned i = 0; i < dev->nqueues && !err; i++)
		if (!vu_queue_local(dev, i))
			err = vhost_user_frontend_set_call(&dev->fe, i, dev->queues[i].call_fd);
	return err;
}

int vu_inflight_prepare(struct vu_device *dev)
{
	struct vu_inflight *in = &dev->inflight;
	int err = 0;

	if (!vhost_user_frontend_has_protocol(&dev->fe, VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD))
		return 0;
	if (!in->held)
		err = get_region(dev);
	if (!err && !in->sent)
		err = announce_queues(dev);
	if (!err && !in->sent)
		err = vhost_user_frontend_set_inflight(&dev->fe, &in->region, in->fd);
	in->sent = !err;
	return err;
}

void vu_inflight_connection_gone(struct vu_device *dev)
{
	dev->inflight.sent = false;
}

void vu_inflight_free(struct vu_device *dev)
{
	struct vu_inflight *in = &dev->inflight;

	if (in->map)
		munmap(in->map, in->map_len);
	if (in->held)
		close(in->fd);
	memset(in, 0, sizeof(*in));
}

/* "12, 7, 30" (and "...") into buf: the first heads of n. */
static void format_heads(char *buf, size_t size, const uint16_t *heads, unsigned n)
{
	size_t used = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < n && i < LOGGED_HEADS && used < size; i++)
		used += (size_t)snprintf(buf + used, size - used, "%s%u", i ? ", " : "", heads[i]);
	if (n > LOGGED_HEADS && used < size)
		snprintf(buf + used, size - used, ", ...");
}

void vu_inflight_report(struct vu_device *dev)
{
	const struct vu_inflight *in = &dev->inflight;
	uint64_t stride = in->region.num_queues ? in->region.mmap_size / in->region.num_queues : 0;
	uint16_t heads[LOGGED_HEADS];
	char list[96];

	if (!in->map)
		return;
	for (unsigned q = 0; q < dev->nqueues && q < in->region.num_queues; q++) {
		const volatile uint16_t *used =
		    guest_memory_ptr(&dev->vm->mem, dev->queues[q].device, 4);
		const struct vhost_user_inflight_queue *qr =
		    vhost_user_inflight_queue_at((const uint8_t *)in->map + in->region.mmap_offset,
						 in->region.mmap_size, in->region.num_queues, q);
		unsigned n;

		if (!used || !dev->reconnect.started[q])
			continue;
		n = vhost_user_inflight_pending(qr, stride, dev->queues[q].size, used[1], heads,
						LOGGED_HEADS);
		if (!n)
			continue;
		format_heads(list, sizeof(list), heads, n);
		log_info(
		    dev->fe.log_component,
		    "%s: queue %u: %u request%s in flight at the old back-end (heads %s, oldest "
		    "first); the new one resubmits them",
		    dev->name, q, n, n == 1 ? "" : "s", list);
	}
}
