/* MSI-X glue to the VM: KVM GSI routes and irqfds, and libevent watches. */
#include "pci/msix.h"

#include <errno.h>
#include <event2/event.h>

#include "vmm/vm.h"

static int kvm_route_alloc(void *ctx, uint32_t *gsi_out)
{
	return vm_msi_route_alloc(ctx, gsi_out);
}

static int kvm_route_set(void *ctx, uint32_t gsi, uint64_t addr, uint32_t data, uint32_t devid)
{
	return vm_msi_route_set(ctx, gsi, addr, data, devid);
}

static int kvm_irqfd_assign(void *ctx, int fd, uint32_t gsi)
{
	return vm_irqfd_assign(ctx, fd, gsi);
}

static int kvm_irqfd_deassign(void *ctx, int fd, uint32_t gsi)
{
	return vm_irqfd_deassign(ctx, fd, gsi);
}

const struct msix_ops msix_kvm_ops = {
    .route_alloc = kvm_route_alloc,
    .route_set = kvm_route_set,
    .irqfd_assign = kvm_irqfd_assign,
    .irqfd_deassign = kvm_irqfd_deassign,
};

static void on_vector_readable(evutil_socket_t fd, short what, void *arg)
{
	struct msix_vector *v = arg;
	struct msix *m = v->owner;

	(void)fd;
	(void)what;
	pthread_mutex_lock(v->lock);
	msix_vector_poll(m, (unsigned)(v - m->vectors));
	pthread_mutex_unlock(v->lock);
}

int msix_watch_events(struct msix *m, struct event_base *base, pthread_mutex_t *lock)
{
	unsigned i;

	for (i = 0; i < m->nvectors; i++) {
		struct msix_vector *v = &m->vectors[i];

		if (v->watch)
			continue;
		v->lock = lock;
		v->watch = event_new(base, v->fd, EV_READ | EV_PERSIST, on_vector_readable, v);
		if (!v->watch || event_add(v->watch, NULL) < 0)
			return -ENOMEM; /* msix_destroy frees what was made */
	}
	return 0;
}
