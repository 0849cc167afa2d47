/* VM lifetime, memory slots and the KVM interrupt plumbing shared by all devices. */
#include "vmm/vm.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "arch/arch.h"
#include "vmm/log.h"
#include "vmm/util.h"

#define VM_MAX_MEM_SLOTS 64

static const char *const exit_reason_names[] = {
    [VM_EXIT_NONE] = "running",
    [VM_EXIT_POWEROFF] = "guest powered off",
    [VM_EXIT_REBOOT] = "guest rebooted",
    [VM_EXIT_DEBUG_PORT] = "guest wrote exit port",
    [VM_EXIT_PANIC] = "guest kernel panic",
    [VM_EXIT_SIGNAL] = "signal",
    [VM_EXIT_ERROR] = "error",
    [VM_EXIT_USER] = "user request",
};

const char *vm_exit_reason_name(enum vm_exit_reason reason)
{
	if ((unsigned)reason < ARRAY_SIZE(exit_reason_names))
		return exit_reason_names[reason];
	return "unknown";
}

void vm_request_exit(struct vm *vm, enum vm_exit_reason reason, int status, const char *why)
{
	int expected = VM_EXIT_NONE;
	uint64_t one = 1;

	if (!atomic_compare_exchange_strong(&vm->exit_reason, &expected, (int)reason))
		return;
	vm->exit_status = status;
	if (reason == VM_EXIT_PANIC || reason == VM_EXIT_ERROR)
		log_error("vm", "stopping: %s", why);
	else
		log_debug("vm", "stopping: %s (status %d)", why, status);
	/* Wake the main loop; it stops the vCPUs and tears down. */
	if (write(vm->wake_fd, &one, sizeof(one)) < 0)
		log_error("vm", "cannot wake the main loop: %s", strerror(errno));
	/* Ends every wait on another process (a back-end) that polls it. */
	if (vm->stop_fd >= 0 && write(vm->stop_fd, &one, sizeof(one)) < 0)
		log_error("vm", "cannot signal the stop: %s", strerror(errno));
}

int vm_add_fault_handler(struct vm *vm, vm_fault_fn fn, void *opaque)
{
	if (vm->nfault_handlers == VM_MAX_FAULT_HANDLERS)
		return -ENOSPC;
	vm->fault_handlers[vm->nfault_handlers++] = (struct vm_fault_handler){fn, opaque};
	return 0;
}

void vm_remove_fault_handler(struct vm *vm, void *opaque)
{
	for (unsigned i = 0; i < vm->nfault_handlers; i++) {
		if (vm->fault_handlers[i].opaque != opaque)
			continue;
		vm->fault_handlers[i] = vm->fault_handlers[--vm->nfault_handlers];
		return;
	}
}

bool vm_handle_fault(struct vm *vm)
{
	bool owned = false;

	/* Every owner looks: more than one slot may have lost its memory. */
	for (unsigned i = 0; i < vm->nfault_handlers; i++)
		owned |= vm->fault_handlers[i].fn(vm->fault_handlers[i].opaque);
	return owned;
}

bool vm_exit_requested(const struct vm *vm)
{
	return atomic_load(&vm->exit_reason) != VM_EXIT_NONE;
}

static int kvm_open_checked(void)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	int version;

	if (fd < 0) {
		int err = -errno;
		log_error("kvm", "cannot open /dev/kvm: %s%s", strerror(errno),
			  errno == ENOENT ? " (KVM is not available on this machine; `make demo` "
					    "runs the guest inside a nested KVM instead)"
					  : "");
		return err;
	}
	version = ioctl(fd, KVM_GET_API_VERSION, 0);
	if (version != KVM_API_VERSION) {
		log_error("kvm", "unsupported KVM API version %d (need %d)", version,
			  KVM_API_VERSION);
		close(fd);
		return -ENOTSUP;
	}
	return fd;
}

static int vm_memory_setup(struct vm *vm)
{
	struct ram_range ranges[GUEST_MEMORY_MAX_REGIONS];
	int n = arch_ram_ranges(vm->cfg->mem_size, ranges, GUEST_MEMORY_MAX_REGIONS);
	int err;
	unsigned i;

	if (n < 0)
		return n;
	err = guest_memory_init(&vm->mem, ranges, (unsigned)n);
	if (err) {
		log_error("memory", "cannot allocate %llu MiB of guest RAM: %s",
			  (unsigned long long)(vm->cfg->mem_size >> 20), strerror(-err));
		return err;
	}
	for (i = 0; i < vm->mem.nregions; i++) {
		const struct mem_region *r = &vm->mem.regions[i];
		err = vm_map_memory(vm, r->gpa, r->size, r->host, NULL);
		if (err)
			return err;
	}
	return 0;
}

static int vm_irq_routes_init(struct vm *vm)
{
	struct kvm_irq_routing *table;
	int n;

	table = calloc(1, sizeof(*table) + VM_MAX_GSI_ROUTES * sizeof(table->entries[0]));
	if (!table)
		return -ENOMEM;
	n = arch_irq_default_routes(table->entries, VM_MAX_GSI_ROUTES);
	if (n < 0) {
		free(table);
		return n;
	}
	table->nr = (unsigned)n;
	vm->irq_routes.table = table;
	/* MSI GSIs start above every legacy pin. */
	vm->irq_routes.next_gsi = 24;
	for (unsigned i = 0; i < table->nr; i++)
		if (table->entries[i].gsi >= vm->irq_routes.next_gsi)
			vm->irq_routes.next_gsi = table->entries[i].gsi + 1;
	return 0;
}

int vm_create(struct vm *vm, const struct vm_config *cfg)
{
	int err;

	memset(vm, 0, sizeof(*vm));
	vm->cfg = cfg;
	vm->kvm_fd = vm->vm_fd = vm->wake_fd = vm->stop_fd = -1;
	vm->ncpus = cfg->ncpus;
	pthread_mutex_init(&vm->dev_lock, NULL);
	io_bus_init(&vm->pio, "pio");
	io_bus_init(&vm->mmio, "mmio");
	vm->kvm_fd = kvm_open_checked();
	if (vm->kvm_fd < 0)
		return vm->kvm_fd;
	vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0) {
		err = -errno;
		log_error("kvm", "KVM_CREATE_VM failed: %s", strerror(errno));
		return err;
	}
	vm->vcpu_mmap_size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	vm->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	vm->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vm->vcpu_mmap_size <= 0 || vm->wake_fd < 0 || vm->stop_fd < 0)
		return -errno;
	err = vm_memory_setup(vm);
	if (err)
		return err;
	err = arch_vm_setup(vm);
	if (err)
		return err;
	return vm_irq_routes_init(vm);
}

void vm_destroy(struct vm *vm)
{
	arch_vm_teardown(vm);
	free(vm->irq_routes.table);
	guest_memory_destroy(&vm->mem);
	if (vm->wake_fd >= 0)
		close(vm->wake_fd);
	if (vm->stop_fd >= 0)
		close(vm->stop_fd);
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	pthread_mutex_destroy(&vm->dev_lock);
}

int vm_map_memory(struct vm *vm, uint64_t gpa, uint64_t size, void *host, unsigned *slot_out)
{
	return vm_map_memory_flags(vm, gpa, size, host, 0, slot_out);
}

int vm_map_memory_flags(struct vm *vm, uint64_t gpa, uint64_t size, void *host, uint32_t flags,
			unsigned *slot_out)
{
	struct kvm_userspace_memory_region region;
	unsigned slot;

	for (slot = 0; slot < VM_MAX_MEM_SLOTS; slot++)
		if (!(vm->used_mem_slots & (1ull << slot)))
			break;
	if (slot == VM_MAX_MEM_SLOTS)
		return -ENOSPC;
	region = (struct kvm_userspace_memory_region){
	    .slot = slot,
	    .flags = flags,
	    .guest_phys_addr = gpa,
	    .memory_size = size,
	    .userspace_addr = (uint64_t)(uintptr_t)host,
	};
	if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0) {
		int err = -errno;
		log_error("kvm", "mapping 0x%llx+0x%llx failed: %s", (unsigned long long)gpa,
			  (unsigned long long)size, strerror(errno));
		return err;
	}
	vm->used_mem_slots |= 1ull << slot;
	if (slot_out)
		*slot_out = slot;
	return 0;
}

int vm_unmap_memory(struct vm *vm, unsigned slot)
{
	struct kvm_userspace_memory_region region = {.slot = slot};

	if (slot >= VM_MAX_MEM_SLOTS || !(vm->used_mem_slots & (1ull << slot)))
		return -ENOENT;
	if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		return -errno;
	vm->used_mem_slots &= ~(1ull << slot);
	return 0;
}

int vm_irq_line(struct vm *vm, uint32_t gsi, int level)
{
	struct kvm_irq_level irq = {.irq = gsi, .level = (uint32_t)level};

	if (ioctl(vm->vm_fd, KVM_IRQ_LINE, &irq) < 0)
		return -errno;
	return 0;
}
