/* vCPU threads: KVM_RUN loops that route port I/O and MMIO exits to the device buses. */
#include "vmm/vcpu.h"

#include <errno.h>
#include <inttypes.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "arch/arch.h"
#include "vmm/log.h"
#include "vmm/vm.h"

/* The kick signal only interrupts KVM_RUN; its handler has nothing to do. */
#define VCPU_KICK_SIGNAL SIGUSR1

static void vcpu_kick_handler(int sig)
{
	(void)sig;
}

static int vcpu_create_one(struct vm *vm, struct vcpu *vcpu, unsigned index)
{
	vcpu->vm = vm;
	vcpu->index = index;
	vcpu->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, (unsigned long)index);
	if (vcpu->fd < 0) {
		log_error("vcpu", "KVM_CREATE_VCPU %u failed: %s", index, strerror(errno));
		return -errno;
	}
	vcpu->run =
	    mmap(NULL, (size_t)vm->vcpu_mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu->fd, 0);
	if (vcpu->run == MAP_FAILED) {
		vcpu->run = NULL;
		return -errno;
	}
	vm_attach_coalesced_ring(vm, vcpu->run);
	return arch_vcpu_setup(vm, vcpu);
}

int vcpus_create(struct vm *vm)
{
	struct sigaction sa = {.sa_handler = vcpu_kick_handler};
	unsigned i;
	int err;

	sigemptyset(&sa.sa_mask);
	sigaction(VCPU_KICK_SIGNAL, &sa, NULL);
	vm->vcpus = calloc(vm->ncpus, sizeof(*vm->vcpus));
	if (!vm->vcpus)
		return -ENOMEM;
	for (i = 0; i < vm->ncpus; i++) {
		vm->vcpus[i].fd = -1;
		pthread_mutex_init(&vm->vcpus[i].pause_lock, NULL);
		pthread_cond_init(&vm->vcpus[i].pause_cond, NULL);
		if (vm->cfg->stats)
			vm->vcpus[i].port_exits = calloc(65536, sizeof(uint32_t));
	}
	for (i = 0; i < vm->ncpus; i++) {
		err = vcpu_create_one(vm, &vm->vcpus[i], i);
		if (err)
			return err;
	}
	return arch_vcpus_ready(vm);
}

static void vcpu_handle_io(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	struct vm *vm = vcpu->vm;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	bool is_write = run->io.direction == KVM_EXIT_IO_OUT;
	uint32_t i;

	vcpu->io_exits++;
	if (vcpu->port_exits)
		vcpu->port_exits[run->io.port]++;

	/* String I/O (rep ins/outs) arrives as count back-to-back accesses. */
	pthread_mutex_lock(&vm->dev_lock);
	vm_drain_coalesced_writes(vm);
	for (i = 0; i < run->io.count; i++) {
		if (!io_bus_access(&vm->pio, run->io.port, data, run->io.size, is_write))
			log_debug("pio", "unclaimed %s of port 0x%x", is_write ? "write" : "read",
				  run->io.port);
		data += run->io.size;
	}
	pthread_mutex_unlock(&vm->dev_lock);
}

static void vcpu_handle_mmio(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	struct vm *vm = vcpu->vm;
	unsigned len = run->mmio.len;

	vcpu->mmio_exits++;
	if (len == 0 || len > sizeof(run->mmio.data))
		return;
	pthread_mutex_lock(&vm->dev_lock);
	vm_drain_coalesced_writes(vm);
	if (!io_bus_access(&vm->mmio, run->mmio.phys_addr, run->mmio.data, len, run->mmio.is_write))
		log_debug("mmio", "unclaimed %s at 0x%llx", run->mmio.is_write ? "write" : "read",
			  (unsigned long long)run->mmio.phys_addr);
	pthread_mutex_unlock(&vm->dev_lock);
}

static void vcpu_handle_system_event(struct vcpu *vcpu)
{
	struct vm *vm = vcpu->vm;

	switch (vcpu->run->system_event.type) {
	case KVM_SYSTEM_EVENT_SHUTDOWN:
		vm_request_exit(vm, VM_EXIT_POWEROFF, 0, "guest powered off");
		break;
	case KVM_SYSTEM_EVENT_RESET:
		vm_request_exit(vm, VM_EXIT_REBOOT, 0, "guest reset");
		break;
	case KVM_SYSTEM_EVENT_CRASH:
		vm_request_exit(vm, VM_EXIT_PANIC, VMM_STATUS_GUEST_PANIC, "guest crashed");
		break;
	default:
		log_warn("vcpu", "ignoring system event %u", vcpu->run->system_event.type);
	}
}

static void vcpu_handle_exit(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	struct vm *vm = vcpu->vm;
	char why[96];

	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		vcpu_handle_io(vcpu);
		return;
	case KVM_EXIT_MMIO:
		vcpu_handle_mmio(vcpu);
		return;
	case KVM_EXIT_SHUTDOWN:
		/*
		 * A triple fault: how x86 Linux reboots when nothing else worked,
		 * and how a guest dies when its early boot goes wrong. The VMM
		 * ends with 0 as for a reboot, so say so and where it happened.
		 */
		log_warn("vcpu", "vCPU %u: triple fault; ending as a guest reset", vcpu->index);
		arch_vcpu_log_state(vcpu);
		vm_request_exit(vm, VM_EXIT_REBOOT, 0, "guest reset (triple fault)");
		return;
	case KVM_EXIT_SYSTEM_EVENT:
		vcpu_handle_system_event(vcpu);
		return;
	case KVM_EXIT_INTR:
		return;
	}
	if (arch_vcpu_handle_exit(vm, vcpu))
		return;
	if (run->exit_reason == KVM_EXIT_FAIL_ENTRY)
		snprintf(why, sizeof(why), "vCPU %u: entry failed, hardware reason 0x%llx",
			 vcpu->index,
			 (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
	else if (run->exit_reason == KVM_EXIT_INTERNAL_ERROR)
		snprintf(why, sizeof(why), "vCPU %u: KVM internal error, suberror %u", vcpu->index,
			 run->internal.suberror);
	else
		snprintf(why, sizeof(why), "vCPU %u: unexpected exit reason %u", vcpu->index,
			 run->exit_reason);
	arch_vcpu_log_state(vcpu);
	vm_request_exit(vm, VM_EXIT_ERROR, VMM_STATUS_ERROR, why);
}

/* Parks the thread while a pause is requested; the kick's immediate_exit is undone after. */
static void vcpu_maybe_park(struct vcpu *vcpu)
{
	pthread_mutex_lock(&vcpu->pause_lock);
	if (vcpu->pause_requested) {
		vcpu->parked = true;
		pthread_cond_broadcast(&vcpu->pause_cond);
		while (vcpu->pause_requested && !vm_exit_requested(vcpu->vm))
			pthread_cond_wait(&vcpu->pause_cond, &vcpu->pause_lock);
		vcpu->parked = false;
		vcpu->run->immediate_exit = 0;
	}
	pthread_mutex_unlock(&vcpu->pause_lock);
}

/*
 * KVM_RUN's EFAULT: guest memory KVM could not reach. When a device's
 * slot lost its memory (a back-end shrank its file), that device fails and
 * drops the slot; the VM goes on. Anything else still ends the VM.
 */
static bool vcpu_fault_owned(struct vm *vm)
{
	bool owned;

	pthread_mutex_lock(&vm->dev_lock);
	owned = vm_handle_fault(vm);
	pthread_mutex_unlock(&vm->dev_lock);
	return owned;
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *vcpu = arg;
	struct vm *vm = vcpu->vm;

	while (!vm_exit_requested(vm)) {
		vcpu_maybe_park(vcpu);
		if (vm_exit_requested(vm))
			break;
		if (vcpu->exits == 0)
			boot_timeline_mark(&vm->timeline, BOOT_MARK_FIRST_RUN);
		int r = ioctl(vcpu->fd, KVM_RUN, 0);

		vcpu->exits++;
		atomic_fetch_add_explicit(&vm->exits_total, 1, memory_order_relaxed);
		/* Read only by a pause that waits (describe_busy): no ordering needed on this hot
		 * path. */
		if (r == 0) {
			atomic_store_explicit(&vcpu->handling_addr,
					      vcpu->run->exit_reason == KVM_EXIT_MMIO
						  ? vcpu->run->mmio.phys_addr
						  : vcpu->run->io.port,
					      memory_order_relaxed);
			atomic_store_explicit(&vcpu->handling, vcpu->run->exit_reason + 1,
					      memory_order_relaxed);
		}
		if (r < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			if (errno == EFAULT && vcpu_fault_owned(vm))
				continue;
			char why[64];
			snprintf(why, sizeof(why), "vCPU %u: KVM_RUN failed: %s", vcpu->index,
				 strerror(errno));
			vm_request_exit(vm, VM_EXIT_ERROR, VMM_STATUS_ERROR, why);
			break;
		}
		vcpu_handle_exit(vcpu);
		atomic_store_explicit(&vcpu->handling, 0, memory_order_relaxed);
	}
	return NULL;
}

int vcpus_start(struct vm *vm)
{
	sigset_t blocked, old;
	unsigned i;
	int err = 0;

	/* Process signals belong to the main loop; vCPU threads only take the kick. */
	sigemptyset(&blocked);
	sigaddset(&blocked, SIGINT);
	sigaddset(&blocked, SIGTERM);
	sigaddset(&blocked, SIGHUP);
	sigaddset(&blocked, SIGCHLD);
	sigaddset(&blocked, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &blocked, &old);
	for (i = 0; i < vm->ncpus && !err; i++) {
		err = -pthread_create(&vm->vcpus[i].thread, NULL, vcpu_thread, &vm->vcpus[i]);
		vm->vcpus[i].thread_started = !err;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err)
		log_error("vcpu", "cannot start vCPU thread: %s", strerror(-err));
	return err;
}

void vcpus_kick_all(struct vm *vm)
{
	unsigned i;

	for (i = 0; i < vm->ncpus; i++) {
		struct vcpu *vcpu = &vm->vcpus[i];
		if (!vcpu->run)
			continue;
		/* immediate_exit covers a kick that lands just before KVM_RUN. */
		vcpu->run->immediate_exit = 1;
		if (vcpu->thread_started)
			pthread_kill(vcpu->thread, VCPU_KICK_SIGNAL);
		/* A parked thread re-checks the exit request. */
		pthread_mutex_lock(&vcpu->pause_lock);
		pthread_cond_broadcast(&vcpu->pause_cond);
		pthread_mutex_unlock(&vcpu->pause_lock);
	}
}

void vcpus_join(struct vm *vm)
{
	if (!vm->vcpus)
		return;
	vcpus_kick_all(vm);
	for (unsigned i = 0; i < vm->ncpus; i++) {
		struct vcpu *vcpu = &vm->vcpus[i];
		if (vcpu->thread_started)
			pthread_join(vcpu->thread, NULL);
		vcpu->thread_started = false;
	}
}

/* What a vCPU that will not stop is doing, for the pause's error. */
static void describe_busy(const struct vcpu *vcpu, char *why, size_t n)
{
	uint32_t reason = atomic_load_explicit(&vcpu->handling, memory_order_relaxed);
	uint64_t addr = atomic_load_explicit(&vcpu->handling_addr, memory_order_relaxed);

	if (reason == KVM_EXIT_MMIO + 1 || reason == KVM_EXIT_IO + 1)
		snprintf(
		    why, n,
		    "vCPU %u did not stop within %u ms: it is handling its %s access at 0x%" PRIx64
		    " (a device's handler is slow or waits)",
		    vcpu->index, VCPU_PAUSE_TIMEOUT_MS,
		    reason == KVM_EXIT_MMIO + 1 ? "MMIO" : "I/O port", addr);
	else if (reason)
		snprintf(why, n, "vCPU %u did not stop within %u ms: it is handling exit reason %u",
			 vcpu->index, VCPU_PAUSE_TIMEOUT_MS, reason - 1);
	else
		snprintf(
		    why, n,
		    "vCPU %u did not stop within %u ms: the kick did not bring it out of KVM_RUN",
		    vcpu->index, VCPU_PAUSE_TIMEOUT_MS);
}

/* Waits for vcpu to park until deadline; 0, -ETIMEDOUT or -ECANCELED. */
static int wait_parked(struct vm *vm, struct vcpu *vcpu, const struct timespec *deadline)
{
	int err = 0;

	pthread_mutex_lock(&vcpu->pause_lock);
	while (vcpu->thread_started && !vcpu->parked && !vm_exit_requested(vm) && !err)
		err = pthread_cond_timedwait(&vcpu->pause_cond, &vcpu->pause_lock, deadline);
	if (vcpu->thread_started && !vcpu->parked)
		err = vm_exit_requested(vm) ? ECANCELED : ETIMEDOUT;
	else
		err = 0;
	pthread_mutex_unlock(&vcpu->pause_lock);
	return -err;
}

int vcpus_pause(struct vm *vm, char *why, size_t n)
{
	struct timespec deadline;
	unsigned i;
	int err = 0;

	for (i = 0; i < vm->ncpus; i++) {
		pthread_mutex_lock(&vm->vcpus[i].pause_lock);
		vm->vcpus[i].pause_requested = true;
		pthread_mutex_unlock(&vm->vcpus[i].pause_lock);
	}
	vcpus_kick_all(vm);
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += VCPU_PAUSE_TIMEOUT_MS / 1000;
	for (i = 0; i < vm->ncpus && !err; i++) {
		err = wait_parked(vm, &vm->vcpus[i], &deadline);
		if (err == -ETIMEDOUT)
			describe_busy(&vm->vcpus[i], why, n);
	}
	if (err) {
		if (err == -ECANCELED)
			snprintf(why, n, "the VM is stopping");
		vcpus_resume(vm);
	}
	return err;
}

void vcpus_resume(struct vm *vm)
{
	for (unsigned i = 0; i < vm->ncpus; i++) {
		pthread_mutex_lock(&vm->vcpus[i].pause_lock);
		vm->vcpus[i].pause_requested = false;
		pthread_cond_broadcast(&vm->vcpus[i].pause_cond);
		pthread_mutex_unlock(&vm->vcpus[i].pause_lock);
	}
}

void vcpus_destroy(struct vm *vm)
{
	unsigned i;

	if (!vm->vcpus)
		return;
	vcpus_join(vm);
	for (i = 0; i < vm->ncpus; i++) {
		struct vcpu *vcpu = &vm->vcpus[i];
		if (vcpu->run)
			munmap(vcpu->run, (size_t)vm->vcpu_mmap_size);
		if (vcpu->fd >= 0)
			close(vcpu->fd);
		free(vcpu->port_exits);
	}
	free(vm->vcpus);
	vm->vcpus = NULL;
}

static void print_top_ports(const struct vm *vm)
{
	uint32_t shown[8] = {0};

	for (unsigned rank = 0; rank < 8; rank++) {
		uint64_t best = 0;
		uint32_t best_port = 0;
		for (uint32_t port = 0; port < 65536; port++) {
			uint64_t n = 0;
			bool taken = false;
			for (unsigned i = 0; i < vm->ncpus; i++)
				n += vm->vcpus[i].port_exits ? vm->vcpus[i].port_exits[port] : 0;
			for (unsigned k = 0; k < rank; k++)
				taken |= shown[k] == port;
			if (n > best && !taken) {
				best = n;
				best_port = port;
			}
		}
		if (!best)
			break;
		shown[rank] = best_port;
		fprintf(stderr, "%s0x%x=%llu",
			rank ? " " : "vmm: stats: busiest ports: ", best_port,
			(unsigned long long)best);
	}
	fprintf(stderr, "\n");
}

void vcpus_print_stats(const struct vm *vm)
{
	if (!vm->vcpus)
		return;
	for (unsigned i = 0; i < vm->ncpus; i++)
		fprintf(stderr, "vmm: stats: vcpu%u exits=%llu io=%llu mmio=%llu\n", i,
			(unsigned long long)vm->vcpus[i].exits,
			(unsigned long long)vm->vcpus[i].io_exits,
			(unsigned long long)vm->vcpus[i].mmio_exits);
	print_top_ports(vm);
}
