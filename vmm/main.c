/* Entry point: parse the command line, build the VM, run the event loop, report how it ended. */
#include <errno.h>
#include <event2/event.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arch/arch.h"
#include "vhost_user/device/device.h"
#include "vmm/cli.h"
#include "vmm/clock.h"
#include "vmm/config.h"
#include "vmm/console.h"
#include "vmm/control.h"
#include "vmm/devices.h"
#include "vmm/log.h"
#include "vmm/snapshot.h"
#include "vmm/vcpu.h"
#include "vmm/vm.h"

struct vmm {
	struct vm vm;
	struct console console;
	struct vm_devices devices;
	struct control *control; /* --control, or NULL */
	pthread_t signal_thread;
	bool signal_thread_started;
};

static void on_wake(evutil_socket_t fd, short what, void *arg)
{
	struct vmm *vmm = arg;
	uint64_t count;

	(void)what;
	if (read((int)fd, &count, sizeof(count)) < 0 && errno != EAGAIN)
		log_debug("main", "wake read failed: %s", strerror(errno));
	if (vm_exit_requested(&vmm->vm)) {
		event_base_loopbreak(vmm->vm.evbase);
		return;
	}
	console_flush(&vmm->console);
	console_service(&vmm->console);
}

/* The signals that end the VM (status 128 + N). */
static sigset_t termination_signals(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	return set;
}

/*
 * Takes the termination signals on a thread of their own, so that a
 * signal ends the VM however busy the loop is: the loop may be waiting for
 * dev_lock while a vCPU waits on a back-end under it. vm_request_exit
 * makes vm->stop_fd readable, which cuts every such wait short.
 */
static void *signal_thread(void *arg)
{
	struct vmm *vmm = arg;
	sigset_t set = termination_signals();
	char why[48];

	for (;;) {
		int sig = sigwaitinfo(&set, NULL);

		if (sig < 0)
			continue; /* EINTR; cancellation ends the thread at teardown */
		snprintf(why, sizeof(why), "received %s", strsignal(sig));
		vm_request_exit(&vmm->vm, VM_EXIT_SIGNAL, 128 + sig, why);
	}
	return NULL;
}

/* libevent's own complaints (e.g. "cannot poll /dev/null") are debug detail here. */
static void libevent_log(int severity, const char *msg)
{
	log_debug("libevent", "%s (severity %d)", msg, severity);
}

static int event_loop_setup(struct vmm *vmm)
{
	sigset_t set = termination_signals();
	struct vm *vm = &vmm->vm;
	int err;

	vm->wake_ev = event_new(vm->evbase, vm->wake_fd, EV_READ | EV_PERSIST, on_wake, vmm);
	if (!vm->wake_ev || event_add(vm->wake_ev, NULL) < 0)
		return -ENOMEM;
	/* Blocked in every thread from now on (vCPUs inherit it); only signal_thread takes them. */
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	err = -pthread_create(&vmm->signal_thread, NULL, signal_thread, vmm);
	if (err)
		return err;
	vmm->signal_thread_started = true;
	signal(SIGPIPE, SIG_IGN);
	return console_start(&vmm->console, vm->evbase);
}

static void event_loop_teardown(struct vmm *vmm)
{
	console_stop(&vmm->console);
	if (vmm->signal_thread_started) {
		pthread_cancel(vmm->signal_thread);
		pthread_join(vmm->signal_thread, NULL);
	}
	if (vmm->vm.wake_ev)
		event_free(vmm->vm.wake_ev);
	if (vmm->vm.evbase)
		event_base_free(vmm->vm.evbase);
}

/* Prints the "KEY: N kB" lines of a /proc file whose key is in keys. */
static void print_kb_fields(const char *path, const char *const *keys, unsigned nkeys)
{
	char line[256];
	FILE *f = fopen(path, "r");

	while (f && fgets(line, sizeof(line), f)) {
		unsigned long kib;
		char key[32];
		if (sscanf(line, "%31[^:]: %lu kB", key, &kib) != 2)
			continue;
		for (unsigned i = 0; i < nkeys; i++)
			if (!strcmp(key, keys[i]))
				fprintf(stderr, " %s=%lukB", key, kib);
	}
	if (f)
		fclose(f);
}

static void print_stats(struct vmm *vmm)
{
	static const char *const status_keys[] = {"VmHWM", "VmRSS", "RssAnon", "RssFile",
						  "RssShmem"};
	/* How much of guest RAM is mapped with huge pages. */
	static const char *const smaps_keys[] = {"ShmemPmdMapped"};
	char line[512];

	vcpus_print_stats(&vmm->vm);
	fprintf(stderr, "vmm: stats: exits=%lu", (unsigned long)atomic_load(&vmm->vm.exits_total));
	print_kb_fields("/proc/self/status", status_keys, 5);
	print_kb_fields("/proc/self/smaps_rollup", smaps_keys, 1);
	fprintf(stderr, "\n");
	boot_timeline_format(&vmm->vm.timeline, line, sizeof(line));
	fprintf(stderr, "vmm: stats: timeline: %s\n", line);
}

/* --restore: a snapshot replaces the guest the kernel would have booted. */
static int restore(struct vmm *vmm, const char *path)
{
	uint64_t start = monotonic_ns();
	char err[SNAP_RESTORE_ERR_MAX];
	int r = vm_snapshot_restore(&vmm->vm, &vmm->devices, path, err, sizeof(err));

	if (r)
		fprintf(stderr, "vmm: --restore %s: %s\n", path, err);
	else
		log_info("vmm", "restored from %s in %.1f ms", path,
			 (double)(monotonic_ns() - start) / 1e6);
	return r;
}

static int vmm_build(struct vmm *vmm, const struct vm_config *cfg, uint64_t start_ns)
{
	struct vm *vm = &vmm->vm;
	/*
	 * The kernel's preparation (seconds, the first time) overlaps all that
	 * follows; a restore has no use for it, and it would compete for the CPU.
	 */
	struct kernel_prefetch *prefetch =
	    cfg->restore_path ? NULL : arch_kernel_prefetch_start(cfg->kernel_path);
	int r = vm_create(vm, cfg);

	boot_timeline_init(&vm->timeline, start_ns);
	vm->kernel_prefetch = prefetch;
	if (r)
		return r;
	boot_timeline_mark(&vm->timeline, BOOT_MARK_VM_CREATED);
	event_set_log_callback(libevent_log);
	vm->evbase = event_base_new();
	if (!vm->evbase)
		return -ENOMEM;
	console_init(&vmm->console, vm, STDIN_FILENO, STDOUT_FILENO);
	vm->console = &vmm->console;
	r = arch_platform_devices_create(vm);
	if (!r)
		r = vm_devices_create(vm, &vmm->devices);
	/* Firmware tables describe the devices, so the guest is loaded last. */
	if (!r && !cfg->restore_path)
		r = arch_load_guest(vm);
	if (!r)
		r = vcpus_create(vm);
	if (!r && cfg->restore_path)
		r = restore(vmm, cfg->restore_path);
	if (!r && cfg->control_path)
		r = control_create(vm, &vmm->devices, cfg->control_path, &vmm->control);
	return r;
}

static int vmm_run(struct vmm *vmm)
{
	struct vm *vm = &vmm->vm;
	int r = event_loop_setup(vmm);

	if (!r)
		r = vcpus_start(vm);
	if (r) {
		vm_request_exit(vm, VM_EXIT_ERROR, VMM_STATUS_ERROR, "cannot start the VM");
		return r;
	}
	event_base_dispatch(vm->evbase);
	vcpus_kick_all(vm);
	return 0;
}

/* Catches the mistakes a user makes most before touching KVM, with one line each. */
static int check_inputs(const struct vm_config *cfg)
{
	const char *paths[] = {cfg->kernel_path, cfg->initrd_path, cfg->restore_path};
	const char *names[] = {"--kernel", "--initrd", "--restore"};
	char err[200];

	for (unsigned i = 0; i < 3; i++) {
		if (paths[i] && access(paths[i], R_OK) < 0) {
			fprintf(stderr, "vmm: %s: cannot read '%s': %s\n", names[i], paths[i],
				strerror(errno));
			return -errno;
		}
	}
	if (cfg->kernel_path && arch_probe_kernel(cfg->kernel_path, err, sizeof(err))) {
		fprintf(stderr, "vmm: --kernel: %s\n", err);
		return -ENOEXEC;
	}
	return 0;
}

/* --screenshot-on-exit: scanout 0 of the first device with a display; a failure is only logged. */
static void screenshot_on_exit(struct vm_devices *devs, const char *path)
{
	for (unsigned i = 0; i < devs->nvhost_user; i++) {
		struct vu_device *dev = devs->vhost_user[i];
		int err;

		if (!vu_device_has_display(dev))
			continue;
		err = vu_device_screenshot(dev, 0, path);
		if (err)
			log_error("vmm", "--screenshot-on-exit: %s scanout 0: %s",
				  vu_device_name(dev), strerror(-err));
		else
			log_info("vmm", "screenshot of %s scanout 0 written to %s",
				 vu_device_name(dev), path);
		return;
	}
	log_error("vmm", "--screenshot-on-exit: no device with a display (gpu)");
}

static int run_vm(const struct vm_config *cfg, uint64_t start_ns)
{
	struct vmm *vmm = calloc(1, sizeof(*vmm));
	int status;

	if (!vmm)
		return VMM_STATUS_ERROR;
	/* A build failure was already reported with its cause; say nothing more. */
	if (vmm_build(vmm, cfg, start_ns) == 0)
		vmm_run(vmm);
	else
		vmm->vm.exit_status = VMM_STATUS_ERROR;
	vcpus_join(&vmm->vm);
	/* Still here when the build failed before the kernel was loaded. */
	arch_kernel_prefetch_cancel(vmm->vm.kernel_prefetch);
	vmm->vm.kernel_prefetch = NULL;
	if (cfg->screenshot_path)
		screenshot_on_exit(&vmm->devices, cfg->screenshot_path);
	if (cfg->stats)
		print_stats(vmm);
	vcpus_destroy(&vmm->vm);
	control_destroy(vmm->control);
	vm_devices_destroy(&vmm->devices);
	event_loop_teardown(vmm);
	console_destroy(&vmm->console);
	status = vmm->vm.exit_status;
	log_debug("vm", "%s, exit status %d",
		  vm_exit_reason_name(atomic_load(&vmm->vm.exit_reason)), status);
	vm_destroy(&vmm->vm);
	free(vmm);
	return status;
}

int main(int argc, char **argv)
{
	uint64_t start_ns = monotonic_ns();
	struct vm_config cfg;
	char msg[4096];

	switch (cli_parse(argc, argv, &cfg, msg, sizeof(msg))) {
	case CLI_EXIT_OK:
		printf("%s\n", msg);
		return 0;
	case CLI_EXIT_USAGE:
		fprintf(stderr, "vmm: %s\n", msg);
		return VMM_STATUS_USAGE;
	case CLI_RUN:
		break;
	}
	log_set_level((enum log_level)cfg.log_level);
	if (check_inputs(&cfg))
		return VMM_STATUS_ERROR;
	if (cfg.extract_vmlinux_path)
		return arch_extract_kernel(cfg.kernel_path, cfg.extract_vmlinux_path) ? 1 : 0;
	return run_vm(&cfg, start_ns);
}
