/* What the user asked for on the command line, parsed and validated. */
#ifndef VMM_CONFIG_H
#define VMM_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#define VMM_MAX_CPUS 64
#define VMM_MAX_DEVICES 16
#define VMM_MIN_MEM (16ull << 20)
#define VMM_DEFAULT_MEM (512ull << 20)

/* One --vhost-user TYPE,key=value,... argument, as given; parsed by the device. */
struct device_arg {
	const char *spec;
};

struct vm_config {
	const char *kernel_path;
	const char *initrd_path;
	const char *cmdline; /* NULL: the default */
	uint64_t mem_size;
	unsigned ncpus;
	bool rng;
	const char *control_path;
	const char *extract_vmlinux_path; /* --extract-vmlinux: write the ELF and exit */
	const char *dump_dtb_path;	  /* --dump-dtb: the guest's device tree (arm64) */
	bool trace_vhost_user;		  /* --trace vhost-user: decoded messages to stderr */
	const char *trace_file;		  /* --trace-file: the same as JSON lines */
	bool stats;
	const char *screenshot_path; /* --screenshot-on-exit: first display's scanout 0 as PNG */
	int log_level;		     /* enum log_level */
	const char *restore_path; /* --restore: start from this snapshot, not the kernel's entry */
	struct device_arg vhost_user[VMM_MAX_DEVICES];
	unsigned nvhost_user;
};

#endif
