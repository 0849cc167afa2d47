/* vCPU threads: one per guest CPU, each looping on KVM_RUN and dispatching exits. */
#ifndef VMM_VCPU_H
#define VMM_VCPU_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct vm;
struct kvm_run;

struct vcpu {
	struct vm *vm;
	unsigned index;
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	bool thread_started;
	uint64_t exits; /* KVM_RUN returns on this vCPU */
	uint64_t io_exits, mmio_exits;
	uint32_t *port_exits; /* per I/O port, only with --stats */
	/* Pause: the thread parks between two KVM_RUNs while pause_requested is set. */
	pthread_mutex_t pause_lock;
	pthread_cond_t pause_cond;
	bool pause_requested;
	bool parked;
	/* The exit being handled (KVM exit reason + 1; 0 while in KVM_RUN) and its address, for a
	 * pause that waits. */
	_Atomic uint32_t handling;
	_Atomic uint64_t handling_addr;
};

/* How long a pause waits for every vCPU to stop before it gives up, naming the one that did not. */
#define VCPU_PAUSE_TIMEOUT_MS 10000

/* Creates vm->ncpus vCPUs, applies arch_vcpu_setup to each, then arch_vcpus_ready. */
int vcpus_create(struct vm *vm);

/* Starts one thread per vCPU. SIGINT/SIGTERM stay blocked in them. */
int vcpus_start(struct vm *vm);

/* Makes every vCPU leave KVM_RUN promptly (used to stop the VM). */
void vcpus_kick_all(struct vm *vm);

/* Prints where the vCPUs exited to userspace: per vCPU and the busiest ports. */
void vcpus_print_stats(const struct vm *vm);

/* Stops and joins the vCPU threads (the VM must be stopping). */
void vcpus_join(struct vm *vm);

/*
 * Takes every vCPU out of KVM_RUN and parks its thread (no device callback
 * runs on it while parked); returns once all are parked. The caller must
 * not hold vm->dev_lock. vcpus_resume lets them run again. Both run on the
 * main loop's thread; a VM exit request also releases parked threads.
 */
/*
 * Parks every vCPU between two KVM_RUNs. 0, or -ETIMEDOUT (why says which
 * vCPU did not stop within VCPU_PAUSE_TIMEOUT_MS and what it was doing; the
 * vCPUs then run on) or -ECANCELED (the VM is ending).
 */
int vcpus_pause(struct vm *vm, char *why, size_t n);
void vcpus_resume(struct vm *vm);

/* Joins the threads and closes the vCPU fds. */
void vcpus_destroy(struct vm *vm);

#endif
