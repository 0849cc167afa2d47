/*
 * The virtual machine: KVM handles, guest memory, the I/O buses, vCPUs, the
 * event loop, and the interrupt plumbing every device uses. One struct vm is
 * passed explicitly everywhere; nothing about the VM lives in globals.
 */
#ifndef VMM_VM_H
#define VMM_VM_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "vmm/config.h"
#include "vmm/log.h"
#include "vmm/iobus.h"
#include "vmm/memory.h"
#include "vmm/timeline.h"

struct event_base;
struct event;
struct vcpu;
struct arch_vm;
struct kvm_coalesced_mmio_ring;
struct console;
struct kernel_prefetch;

/* Why the VM stopped; decides the VMM's exit status. */
enum vm_exit_reason {
	VM_EXIT_NONE = 0,
	VM_EXIT_POWEROFF,   /* status 0 */
	VM_EXIT_REBOOT,	    /* status 0 */
	VM_EXIT_DEBUG_PORT, /* status = byte the guest wrote */
	VM_EXIT_PANIC,	    /* status VMM_STATUS_GUEST_PANIC */
	VM_EXIT_SIGNAL,	    /* SIGINT/SIGTERM: status 128 + signal */
	VM_EXIT_ERROR,	    /* VMM or KVM failure: status VMM_STATUS_ERROR */
	VM_EXIT_USER,	    /* console escape or control socket "quit": status 0 */
};

#define VMM_STATUS_ERROR 1
#define VMM_STATUS_USAGE 2
#define VMM_STATUS_GUEST_PANIC 3

#define VM_MAX_GSI_ROUTES 1024

struct vm_irq_routes {
	/* KVM replaces the whole table on every update, so we keep all of it. */
	struct kvm_irq_routing *table; /* header + VM_MAX_GSI_ROUTES entries */
	uint32_t next_gsi;	       /* first GSI never handed out */
};

/*
 * A device's part when KVM_RUN fails with EFAULT: a memory slot of its own
 * no longer has memory behind it (a back-end's file shrank). Called with
 * dev_lock held; returns true when it found and removed such a slot (and
 * failed the device), so that the vCPU may go on.
 */
typedef bool (*vm_fault_fn)(void *opaque);
#define VM_MAX_FAULT_HANDLERS 32

struct vm_fault_handler {
	vm_fault_fn fn;
	void *opaque;
};

struct vm {
	int kvm_fd;
	int vm_fd;
	int vcpu_mmap_size;
	const struct vm_config *cfg;

	struct guest_memory mem;
	uint64_t used_mem_slots; /* bitmap of KVM memory slots in use */

	/* Every device callback runs under dev_lock (see iobus.h). */
	pthread_mutex_t dev_lock;
	struct io_bus pio;
	struct io_bus mmio;

	struct vcpu *vcpus;
	unsigned ncpus;

	struct event_base *evbase;
	int wake_fd; /* eventfd: a vCPU thread asks the main loop to act */
	/*
	 * eventfd, readable for good once an exit was requested (never read):
	 * a wait on another process, which may never answer, polls it too so
	 * that the VM ends in bounded time. -1 without KVM (tests).
	 */
	int stop_fd;
	struct event *wake_ev;

	atomic_int exit_reason; /* enum vm_exit_reason; first writer wins */
	int exit_status;
	atomic_ulong exits_total; /* KVM_RUN returns, all vCPUs */

	struct vm_irq_routes irq_routes;
	/* Owners of memory slots that can lose their memory; dev_lock. */
	struct vm_fault_handler fault_handlers[VM_MAX_FAULT_HANDLERS];
	unsigned nfault_handlers;
	/* KVM's ring of buffered writes (KVM_CAP_COALESCED_PIO), or NULL. */
	struct kvm_coalesced_mmio_ring *coalesced_ring;
	unsigned coalesced_ring_entries;
	struct arch_vm *arch;
	struct console *console; /* the serial console, owned by main */
	/* Lines the guest can trigger at will through platform devices (pvpanic, ACPI). */
	struct log_ratelimit platform_rl;
	bool pci_enabled;			 /* a PCI bus exists: firmware tables describe it */
	struct boot_timeline timeline;		 /* start-up milestones, for --stats */
	struct kernel_prefetch *kernel_prefetch; /* arch_kernel_prefetch_start's, or NULL */
	/*
	 * Set by arch_vm_setup when MSIs must name their device (a GICv3 ITS
	 * translates by device id): routes and injected MSIs then carry
	 * KVM_MSI_VALID_DEVID and the requester id. x86 leaves it false.
	 */
	bool msi_needs_devid;
};

/*
 * Opens KVM, creates the VM and its guest RAM, and runs the arch setup.
 * On failure the caller still calls vm_destroy, which frees what was made.
 */
int vm_create(struct vm *vm, const struct vm_config *cfg);
void vm_destroy(struct vm *vm);

const char *vm_exit_reason_name(enum vm_exit_reason reason);

/* Asks the VM to stop with this reason and status; the first call wins. */
void vm_request_exit(struct vm *vm, enum vm_exit_reason reason, int status, const char *why);
bool vm_exit_requested(const struct vm *vm);

/*
 * Adds or removes (by opaque) a handler for EFAULT from KVM_RUN; dev_lock
 * held or no vCPU running. Add returns 0 or -ENOSPC.
 */
int vm_add_fault_handler(struct vm *vm, vm_fault_fn fn, void *opaque);
void vm_remove_fault_handler(struct vm *vm, void *opaque);
/* Asks every handler (dev_lock held); true when one of them owned the fault. */
bool vm_handle_fault(struct vm *vm);

/* Registers guest RAM (or a device mapping) with KVM as a memory slot. */
int vm_map_memory(struct vm *vm, uint64_t gpa, uint64_t size, void *host, unsigned *slot_out);
/* The same with KVM_MEM_* flags (KVM_MEM_READONLY: guest writes exit as MMIO). */
int vm_map_memory_flags(struct vm *vm, uint64_t gpa, uint64_t size, void *host, uint32_t flags,
			unsigned *slot_out);
int vm_unmap_memory(struct vm *vm, unsigned slot);

/*
 * Wired interrupt line through the in-kernel irqchip; irq as KVM_IRQ_LINE
 * takes it on this architecture (x86: the GSI; arm64: type and INTID).
 */
int vm_irq_line(struct vm *vm, uint32_t gsi, int level);

/*
 * MSI routes: a GSI allocated once per interrupt source, pointed at an MSI
 * address/data pair. An irqfd bound to the GSI lets an eventfd (ours or a
 * backend's) inject the interrupt without the VMM.
 */
int vm_msi_route_alloc(struct vm *vm, uint32_t *gsi_out);
/* devid: the requester id (bus << 8 | devfn); used only when vm->msi_needs_devid. */
int vm_msi_route_set(struct vm *vm, uint32_t gsi, uint64_t addr, uint32_t data, uint32_t devid);
int vm_irqfd_assign(struct vm *vm, int eventfd, uint32_t gsi);
int vm_irqfd_deassign(struct vm *vm, int eventfd, uint32_t gsi);
/* Injects an MSI directly (used when no irqfd is bound). */
int vm_signal_msi(struct vm *vm, uint64_t addr, uint32_t data, uint32_t devid);

/*
 * ioeventfd: a guest write of len bytes at addr signals eventfd inside KVM,
 * with no exit to the VMM. pio selects the port I/O space.
 */
int vm_ioeventfd_assign(struct vm *vm, int eventfd, uint64_t addr, unsigned len, bool pio);
int vm_ioeventfd_deassign(struct vm *vm, int eventfd, uint64_t addr, unsigned len, bool pio);

/*
 * Lets KVM buffer guest writes to [addr, addr + len) instead of exiting;
 * they are replayed, in order, before the next exit is handled. Only for
 * registers whose writes have no effect the guest can see until it reads
 * something (the PCI 0xCF8 address latch). -ENOTSUP without the capability.
 */
int vm_coalesce_writes(struct vm *vm, uint64_t addr, unsigned len, bool pio);

/* Replays buffered writes; the caller holds vm->dev_lock. */
void vm_drain_coalesced_writes(struct vm *vm);

/* After the first vCPU is mapped: locates the ring inside its kvm_run mapping. */
void vm_attach_coalesced_ring(struct vm *vm, void *vcpu_run);

#endif
