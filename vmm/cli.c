/* Command-line parsing into struct vm_config, with one-line errors for bad input. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vhost_user/device/device.h"
#include "vmm/cli.h"
#include "vmm/log.h"

#ifndef VMM_VERSION
#define VMM_VERSION "0.1.0"
#endif

static const char usage_text[] =
    "usage: vmm --kernel FILE [options]\n"
    "       vmm --restore DIR [options]\n"
    "Boots a Linux kernel directly under KVM with vhost-user devices.\n"
    "\n"
    "  --kernel FILE        bzImage or uncompressed ELF vmlinux (required unless --restore)\n"
    "  --initrd FILE        initial ramdisk\n"
    "  --cmdline TEXT       appended to the kernel command line after the console settings\n"
    "  --mem SIZE           guest RAM, with K/M/G suffix (default 512M, at least 16M)\n"
    "  --cpus N             number of vCPUs, 1-64 (default 1)\n"
    "  --rng                add a virtio-rng device\n"
    "  --vhost-user SPEC    add a vhost-user device: TYPE,sock=PATH[,key=value...]\n"
    "  --control PATH       control socket (JSON lines: pause, resume, snapshot, status, quit)\n"
    "  --restore DIR        start from a snapshot (same options and --vhost-user devices,\n"
    "                       sockets of freshly started back-ends); needs no --kernel\n"
    "  --trace vhost-user   log every vhost-user message, decoded, to stderr\n"
    "  --trace-file PATH    the same trace as one JSON object per line into PATH\n"
    "                       (per device: trace=on|off, trace-file=PATH in --vhost-user)\n"
    "  --extract-vmlinux OUT  write the uncompressed kernel (x86: the ELF vmlinux inside a\n"
    "                       bzImage; arm64: the Image inside an Image.gz) to OUT and exit\n"
    "  --dump-dtb FILE      arm64: also write the guest's device tree to FILE (dtc -I dtb)\n"
    "  --log-level LEVEL    error, warning, info (default) or debug\n"
    "  --stats              print exits, memory use and the start-up timeline at exit\n"
    "  --screenshot-on-exit PATH  when the VM stops, write the first GPU's scanout 0 as PNG\n"
    "  -h, --help           this text\n"
    "  -V, --version        version\n"
    "\n"
    "Exit status: 0 guest poweroff/reboot; N = byte the guest wrote to port 0xf4\n"
    "(arm64: to the debug-exit register in the device tree);\n"
    "1 VMM error; 2 bad command line; 3 guest kernel panic; 128+N killed by signal N.\n"
    "On a terminal, Ctrl-A x quits and Ctrl-A Ctrl-A sends Ctrl-A.";

enum cli_option {
	OPT_KERNEL = 256,
	OPT_INITRD,
	OPT_CMDLINE,
	OPT_MEM,
	OPT_CPUS,
	OPT_RNG,
	OPT_VHOST_USER,
	OPT_CONTROL,
	OPT_EXTRACT,
	OPT_LOG_LEVEL,
	OPT_STATS,
	OPT_TRACE,
	OPT_TRACE_FILE,
	OPT_SCREENSHOT,
	OPT_DUMP_DTB,
	OPT_RESTORE,
};

static const struct option long_options[] = {
    {"kernel", required_argument, NULL, OPT_KERNEL},
    {"initrd", required_argument, NULL, OPT_INITRD},
    {"cmdline", required_argument, NULL, OPT_CMDLINE},
    {"mem", required_argument, NULL, OPT_MEM},
    {"cpus", required_argument, NULL, OPT_CPUS},
    {"rng", no_argument, NULL, OPT_RNG},
    {"vhost-user", required_argument, NULL, OPT_VHOST_USER},
    {"control", required_argument, NULL, OPT_CONTROL},
    {"extract-vmlinux", required_argument, NULL, OPT_EXTRACT},
    {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
    {"stats", no_argument, NULL, OPT_STATS},
    {"trace", required_argument, NULL, OPT_TRACE},
    {"trace-file", required_argument, NULL, OPT_TRACE_FILE},
    {"screenshot-on-exit", required_argument, NULL, OPT_SCREENSHOT},
    {"dump-dtb", required_argument, NULL, OPT_DUMP_DTB},
    {"restore", required_argument, NULL, OPT_RESTORE},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

int cli_parse_size(const char *text, uint64_t *out)
{
	char *end;
	unsigned long long value;
	unsigned shift = 0;

	if (!text || !*text || *text == '-' || *text == '+')
		return -EINVAL;
	errno = 0;
	value = strtoull(text, &end, 10);
	if (errno || end == text)
		return -EINVAL;
	switch (*end) {
	case 'k':
	case 'K':
		shift = 10;
		end++;
		break;
	case 'm':
	case 'M':
		shift = 20;
		end++;
		break;
	case 'g':
	case 'G':
		shift = 30;
		end++;
		break;
	case 't':
	case 'T':
		shift = 40;
		end++;
		break;
	}
	if ((*end == 'i' || *end == 'B' || *end == 'b') && shift)
		end += (*end == 'i' && (end[1] == 'B' || end[1] == 'b')) ? 2 : 1;
	if (*end != '\0')
		return -EINVAL;
	if (shift && value > (UINT64_MAX >> shift))
		return -ERANGE;
	*out = (uint64_t)value << shift;
	return 0;
}

static int parse_cpus(const char *text, unsigned *out)
{
	char *end;
	long value;

	errno = 0;
	value = strtol(text, &end, 10);
	if (errno || end == text || *end != '\0' || value < 1 || value > VMM_MAX_CPUS)
		return -EINVAL;
	*out = (unsigned)value;
	return 0;
}

static int parse_log_level(const char *text, int *out)
{
	static const char *const names[] = {"error", "warning", "info", "debug"};

	for (int i = 0; i < 4; i++) {
		if (strcmp(text, names[i]) == 0) {
			*out = i;
			return 0;
		}
	}
	return -EINVAL;
}

#define CLI_FAIL(...)                                                                              \
	do {                                                                                       \
		snprintf(msg, msg_size, __VA_ARGS__);                                              \
		return CLI_EXIT_USAGE;                                                             \
	} while (0)

static enum cli_result cli_apply(int opt, const char *arg, struct vm_config *cfg, char *msg,
				 unsigned msg_size)
{
	char why[160];

	switch (opt) {
	case OPT_KERNEL:
		cfg->kernel_path = arg;
		break;
	case OPT_INITRD:
		cfg->initrd_path = arg;
		break;
	case OPT_CMDLINE:
		cfg->cmdline = arg;
		break;
	case OPT_CONTROL:
		cfg->control_path = arg;
		break;
	case OPT_EXTRACT:
		cfg->extract_vmlinux_path = arg;
		break;
	case OPT_RNG:
		cfg->rng = true;
		break;
	case OPT_STATS:
		cfg->stats = true;
		break;
	case OPT_TRACE_FILE:
		cfg->trace_file = arg;
		break;
	case OPT_SCREENSHOT:
		cfg->screenshot_path = arg;
		break;
	case OPT_DUMP_DTB:
		cfg->dump_dtb_path = arg;
		break;
	case OPT_RESTORE:
		cfg->restore_path = arg;
		break;
	case OPT_TRACE:
		if (strcmp(arg, "vhost-user") != 0)
			CLI_FAIL("--trace: '%s' cannot be traced (only vhost-user)", arg);
		cfg->trace_vhost_user = true;
		break;
	case OPT_MEM:
		if (cli_parse_size(arg, &cfg->mem_size))
			CLI_FAIL("--mem: '%s' is not a size (examples: 512M, 2G)", arg);
		if (cfg->mem_size < VMM_MIN_MEM)
			CLI_FAIL("--mem: %s is too little; the guest needs at least 16M", arg);
		if (cfg->mem_size & 0xfff)
			CLI_FAIL("--mem: %s is not a multiple of 4K", arg);
		break;
	case OPT_CPUS:
		if (parse_cpus(arg, &cfg->ncpus))
			CLI_FAIL("--cpus: '%s' is not a number from 1 to %d", arg, VMM_MAX_CPUS);
		break;
	case OPT_LOG_LEVEL:
		if (parse_log_level(arg, &cfg->log_level))
			CLI_FAIL("--log-level: '%s' is not one of error, warning, info, debug",
				 arg);
		break;
	case OPT_VHOST_USER:
		if (cfg->nvhost_user == VMM_MAX_DEVICES)
			CLI_FAIL("--vhost-user: at most %d devices", VMM_MAX_DEVICES);
		if (vu_device_check_spec(arg, why, sizeof(why)))
			CLI_FAIL("--vhost-user %s: %s", arg, why);
		cfg->vhost_user[cfg->nvhost_user++].spec = arg;
		break;
	default:
		CLI_FAIL("unknown option (see --help)");
	}
	return CLI_RUN;
}

static void cli_defaults(struct vm_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->mem_size = VMM_DEFAULT_MEM;
	cfg->ncpus = 1;
	cfg->log_level = LOG_INFO;
}

enum cli_result cli_parse(int argc, char **argv, struct vm_config *cfg, char *msg,
			  unsigned msg_size)
{
	int opt;

	cli_defaults(cfg);
	msg[0] = '\0';
	optind = 0; /* full reset: the parser may run more than once (tests) */
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":hV", long_options, NULL)) != -1) {
		enum cli_result r;

		if (opt == 'h') {
			snprintf(msg, msg_size, "%s", usage_text);
			return CLI_EXIT_OK;
		}
		if (opt == 'V') {
			snprintf(msg, msg_size, "vmm %s", VMM_VERSION);
			return CLI_EXIT_OK;
		}
		if (opt == ':')
			CLI_FAIL("%s needs a value", argv[optind - 1]);
		if (opt == '?')
			CLI_FAIL("unknown option '%s' (see --help)", argv[optind - 1]);
		r = cli_apply(opt, optarg, cfg, msg, msg_size);
		if (r != CLI_RUN)
			return r;
	}
	if (optind < argc)
		CLI_FAIL("unexpected argument '%s' (see --help)", argv[optind]);
	/* A snapshot holds the guest the kernel booted into: its image is not read again. */
	if (!cfg->kernel_path && !cfg->restore_path)
		CLI_FAIL("--kernel is required (see --help)");
	return CLI_RUN;
}
