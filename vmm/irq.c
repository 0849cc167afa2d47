/*
 * KVM GSI routing for MSIs, irqfds and ioeventfds: the no-exit interrupt and
 * kick paths. The route table has no lock of its own: callers hold vm->dev_lock.
 */
#include <errno.h>
#include <linux/kvm.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "vmm/log.h"
#include "vmm/vm.h"

static int irq_routes_commit(struct vm *vm)
{
	if (ioctl(vm->vm_fd, KVM_SET_GSI_ROUTING, vm->irq_routes.table) < 0) {
		int err = -errno;
		log_error("irq", "KVM_SET_GSI_ROUTING failed: %s", strerror(errno));
		return err;
	}
	return 0;
}

static struct kvm_irq_routing_entry *irq_route_find(struct vm *vm, uint32_t gsi)
{
	struct kvm_irq_routing *t = vm->irq_routes.table;

	for (unsigned i = 0; i < t->nr; i++)
		if (t->entries[i].gsi == gsi && t->entries[i].type == KVM_IRQ_ROUTING_MSI)
			return &t->entries[i];
	return NULL;
}

int vm_msi_route_alloc(struct vm *vm, uint32_t *gsi_out)
{
	struct kvm_irq_routing *t = vm->irq_routes.table;
	struct kvm_irq_routing_entry *e;
	int r;

	if (t->nr == VM_MAX_GSI_ROUTES)
		return -ENOSPC;
	e = &t->entries[t->nr++];
	memset(e, 0, sizeof(*e));
	e->gsi = vm->irq_routes.next_gsi++;
	e->type = KVM_IRQ_ROUTING_MSI;
	e->flags = vm->msi_needs_devid ? KVM_MSI_VALID_DEVID : 0;
	/* An all-zero MSI goes nowhere harmful until the guest programs it. */
	r = irq_routes_commit(vm);
	if (r) {
		/* Leave no half-made route behind: the next allocation starts clean. */
		t->nr--;
		vm->irq_routes.next_gsi--;
		return r;
	}
	*gsi_out = e->gsi;
	return 0;
}

int vm_msi_route_set(struct vm *vm, uint32_t gsi, uint64_t addr, uint32_t data, uint32_t devid)
{
	struct kvm_irq_routing_entry *e = irq_route_find(vm, gsi);
	uint32_t flags = vm->msi_needs_devid ? KVM_MSI_VALID_DEVID : 0;

	if (!e)
		return -ENOENT;
	if (!vm->msi_needs_devid)
		devid = 0;
	if (e->u.msi.address_lo == (uint32_t)addr &&
	    e->u.msi.address_hi == (uint32_t)(addr >> 32) && e->u.msi.data == data &&
	    e->flags == flags && e->u.msi.devid == devid)
		return 0;
	e->flags = flags;
	e->u.msi.address_lo = (uint32_t)addr;
	e->u.msi.address_hi = (uint32_t)(addr >> 32);
	e->u.msi.data = data;
	e->u.msi.devid = devid;
	return irq_routes_commit(vm);
}

static int irqfd_ioctl(struct vm *vm, int eventfd, uint32_t gsi, uint32_t flags)
{
	struct kvm_irqfd irqfd = {.fd = (uint32_t)eventfd, .gsi = gsi, .flags = flags};

	if (ioctl(vm->vm_fd, KVM_IRQFD, &irqfd) < 0)
		return -errno;
	return 0;
}

int vm_irqfd_assign(struct vm *vm, int eventfd, uint32_t gsi)
{
	return irqfd_ioctl(vm, eventfd, gsi, 0);
}

int vm_irqfd_deassign(struct vm *vm, int eventfd, uint32_t gsi)
{
	return irqfd_ioctl(vm, eventfd, gsi, KVM_IRQFD_FLAG_DEASSIGN);
}

int vm_signal_msi(struct vm *vm, uint64_t addr, uint32_t data, uint32_t devid)
{
	struct kvm_msi msi = {
	    .address_lo = (uint32_t)addr,
	    .address_hi = (uint32_t)(addr >> 32),
	    .data = data,
	    .flags = vm->msi_needs_devid ? KVM_MSI_VALID_DEVID : 0,
	    .devid = vm->msi_needs_devid ? devid : 0,
	};

	if (ioctl(vm->vm_fd, KVM_SIGNAL_MSI, &msi) < 0)
		return -errno;
	return 0;
}

static int ioeventfd_ioctl(struct vm *vm, int eventfd, uint64_t addr, unsigned len, bool pio,
			   bool deassign)
{
	struct kvm_ioeventfd io = {
	    .addr = addr,
	    .len = len,
	    .fd = eventfd,
	    .flags =
		(pio ? KVM_IOEVENTFD_FLAG_PIO : 0) | (deassign ? KVM_IOEVENTFD_FLAG_DEASSIGN : 0),
	};

	if (ioctl(vm->vm_fd, KVM_IOEVENTFD, &io) < 0)
		return -errno;
	return 0;
}

int vm_ioeventfd_assign(struct vm *vm, int eventfd, uint64_t addr, unsigned len, bool pio)
{
	return ioeventfd_ioctl(vm, eventfd, addr, len, pio, false);
}

int vm_ioeventfd_deassign(struct vm *vm, int eventfd, uint64_t addr, unsigned len, bool pio)
{
	return ioeventfd_ioctl(vm, eventfd, addr, len, pio, true);
}

int vm_coalesce_writes(struct vm *vm, uint64_t addr, unsigned len, bool pio)
{
	struct kvm_coalesced_mmio_zone zone = {.addr = addr, .size = len, .pio = pio ? 1 : 0};
	int cap = pio ? KVM_CAP_COALESCED_PIO : KVM_CAP_COALESCED_MMIO;

	if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, cap) <= 0)
		return -ENOTSUP;
	if (ioctl(vm->vm_fd, KVM_REGISTER_COALESCED_MMIO, &zone) < 0)
		return -errno;
	return 0;
}

void vm_attach_coalesced_ring(struct vm *vm, void *vcpu_run)
{
	int page_offset = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_COALESCED_MMIO);
	long page_size = sysconf(_SC_PAGESIZE);

	if (page_offset <= 0 || vm->coalesced_ring)
		return;
	vm->coalesced_ring = (void *)((char *)vcpu_run + (long)page_offset * page_size);
	vm->coalesced_ring_entries =
	    (unsigned)(((size_t)page_size - sizeof(struct kvm_coalesced_mmio_ring)) /
		       sizeof(struct kvm_coalesced_mmio));
}

void vm_drain_coalesced_writes(struct vm *vm)
{
	struct kvm_coalesced_mmio_ring *ring = vm->coalesced_ring;

	if (!ring)
		return;
	while (ring->first != __atomic_load_n(&ring->last, __ATOMIC_ACQUIRE)) {
		struct kvm_coalesced_mmio *w = &ring->coalesced_mmio[ring->first];
		unsigned len = w->len <= sizeof(w->data) ? w->len : sizeof(w->data);

		io_bus_access(w->pio ? &vm->pio : &vm->mmio, w->phys_addr, w->data, len, true);
		__atomic_store_n(&ring->first, (ring->first + 1) % vm->coalesced_ring_entries,
				 __ATOMIC_RELEASE);
	}
}
