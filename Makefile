# Build, test and benchmark the VMM. `make` builds build/vmm; `make check`
# installs what it needs, then runs every unit and boot test.

ARCH ?= x86_64
SAN ?= 0
.DEFAULT_GOAL := all

# ARCH=aarch64 cross-builds into build/aarch64/ with aarch64-linux-gnu-gcc
# against the arm64 sysroot that tools/setup-sysroot makes (mk/cross.mk).
ifeq ($(ARCH),aarch64)
include mk/cross.mk
else ifeq ($(SAN),1)
BUILD ?= build/asan
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
else ifeq ($(SAN),thread)
# ThreadSanitizer: vCPU, display and VNC threads share device state. The
# first report fails the program (tools/tsan.env), as ASan's does. TSan does
# not model a standalone fence; ours order ring accesses against the guest or
# a back-end, which TSan cannot see anyway, so its warning about them is off.
BUILD ?= build/tsan
SANFLAGS := -fsanitize=thread -fno-omit-frame-pointer -Wno-tsan
export TSAN_OPTIONS := $(shell bash -c '. tools/tsan.env && echo "$$TSAN_OPTIONS"')
else ifeq ($(SAN),fuzz)
# The libFuzzer targets (mk/fuzz.mk): clang, with libFuzzer's coverage
# hooks and ASan/UBSan in every object.
BUILD ?= build/fuzz
CC := clang
SANFLAGS := -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all
else
BUILD ?= build
SANFLAGS :=
endif

CC ?= cc
CFLAGS ?= -O2 -g
CFLAGS += -std=gnu11 -Wall -Wextra -Werror -Wmissing-prototypes -Wstrict-prototypes -Wshadow -Wformat=2 -I. -D_GNU_SOURCE -MMD -MP $(SANFLAGS) $(CROSS_CFLAGS)
LDFLAGS += $(SANFLAGS) $(CROSS_LDFLAGS)
LDLIBS += -levent_core -lfdt -llzma -lpthread
LDLIBS += -lz # zlib: PNG screenshots (vhost_user/display/png.c)
LDLIBS += -ljansson # JSON: control socket, device description, protocol trace
CHECK_LIBS := -lcheck -lsubunit -lm -lrt -lpthread

# Layers, bottom up (ARCHITECTURE.md): vmm/ basics, pci/ and virtio/, the
# vhost-user protocol library, the display, the vhost-user device, arch/,
# and the VMM's top (main, command line, control socket, device list).
VMM_TOP := vmm/main.c vmm/cli.c vmm/control.c vmm/control_request.c vmm/devices.c \
	vmm/console.c vmm/snapshot.c
BASE_SRCS := $(filter-out $(VMM_TOP),$(wildcard vmm/*.c))
PROTOCOL_SRCS := $(wildcard vhost_user/*.c)
CORE_SRCS := $(wildcard vmm/*.c devices/*.c pci/*.c virtio/*.c vhost_user/*.c \
	vhost_user/display/*.c vhost_user/device/*.c arch/$(ARCH)/*.c)
LIB_SRCS := $(filter-out vmm/main.c,$(CORE_SRCS))
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
MAIN_OBJ := $(BUILD)/obj/vmm/main.o
# What the protocol tools (checker, hostile backend, fuzzers) link: the
# protocol library and vmm/ basics, nothing of pci/, virtio/ or the device.
BASE_OBJS := $(BASE_SRCS:%.c=$(BUILD)/obj/%.o)
PROTOCOL_OBJS := $(PROTOCOL_SRCS:%.c=$(BUILD)/obj/%.o) $(BASE_OBJS)
# The vhost-user-gpu display, above the protocol library and below the device.
DISPLAY_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard vhost_user/display/*.c))
# Helpers for tests and tools that play the guest's side; never in build/vmm.
TESTLIB_SRCS := $(wildcard tests/lib/*.c)
TESTLIB_OBJS := $(TESTLIB_SRCS:%.c=$(BUILD)/obj/%.o)

# Unit tests of one architecture's code: tests/unit/test_*.c for x86_64
# (unchanged), and the portable ones plus tests/unit/aarch64/ for aarch64.
UNIT_X86_ONLY := tests/unit/test_acpi.c tests/unit/test_aml.c tests/unit/test_boot.c \
	tests/unit/test_memory.c tests/unit/test_bzimage_cache.c tests/unit/test_payload_key.c
ifeq ($(ARCH),aarch64)
UNIT_SRCS := $(filter-out $(UNIT_X86_ONLY),$(wildcard tests/unit/test_*.c)) \
	$(wildcard tests/unit/aarch64/test_*.c)
else
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
endif
UNIT_BINS := $(foreach s,$(UNIT_SRCS),$(BUILD)/tests/$(notdir $(basename $(s))))

TOOL_SRCS := $(wildcard tools/*.c)
TOOL_BINS := $(TOOL_SRCS:tools/%.c=$(BUILD)/tools/%)

# Programs for the test guest; on aarch64 only those that need no x86 port I/O.
ifeq ($(ARCH),aarch64)
GUEST_DIR := $(BUILD)/guest
GUEST_SRCS := guest/exitcode.c guest/shmem-bar.c
else
GUEST_DIR := build/guest
GUEST_SRCS := $(wildcard guest/*.c)
endif
GUEST_BINS := $(GUEST_SRCS:guest/%.c=$(GUEST_DIR)/bin/%)

.PHONY: all unit unit-asan unit-tsan check deps boot-test guest-programs bench demo format clean

all: $(BUILD)/vmm $(TOOL_BINS) $(BUILD)/tools/vhost-user-check $(BUILD)/tests/hostile-backend

$(BUILD)/vmm: $(MAIN_OBJ) $(LIB_OBJS)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/obj/%.o: %.c | $(CROSS_SYSROOT_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(TESTLIB_OBJS) $(LIB_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(CHECK_LIBS)

$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/$(ARCH)/%.o $(TESTLIB_OBJS) $(LIB_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(CHECK_LIBS)

$(BUILD)/tools/%: $(BUILD)/obj/tools/%.o $(TESTLIB_OBJS) $(LIB_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# Programs that run inside the test guest: static, no sanitizer.
$(GUEST_DIR)/bin/%: guest/%.c
	@mkdir -p $(dir $@)
	$(CC) -O2 -static -Wall -Wextra -Werror -o $@ $<

guest-programs: $(GUEST_BINS)

# Runs every unit-test binary, then prints one summary line.
unit: $(UNIT_BINS)
	@$(UNIT_ENV) tools/run-unit-tests $(UNIT_BINS)

unit-asan:
	$(MAKE) SAN=1 unit

unit-tsan:
	$(MAKE) SAN=thread unit

deps:
	tools/setup-deps

boot-test: all guest-programs
	tests/boot/run
	tests/boot/vhost_user
	tests/boot/hostile
	tests/boot/gpu_shmem
	tests/boot/snapshot

# Every suite prints "N passed, N failed"; tools/run-suites totals them.
SUITES := \
	"format:tools/check-format" \
	"layers:tools/check-layers" \
	"unit:make -s unit" \
	"unit-asan:make -s unit-asan" \
	"unit-tsan:make -s unit-tsan" \
	"unit-aarch64:make -s ARCH=aarch64 unit" \
	"cli:tests/cli/run" \
	"vhost-user:tests/vhost_user/run" \
	"checker:tests/checker/run" \
	"hostile:tests/hostile/run" \
	"gpu:tests/gpu/run" \
	"vhost-user-tsan:SAN=thread tests/vhost_user/run" \
	"gpu-tsan:SAN=thread tests/gpu/run" \
	"shmem:tests/shmem/run" \
	"fuzz:FUZZ_SECONDS=$${FUZZ_SECONDS:-30} fuzz/run" \
	"boot:tests/boot/run" \
	"boot-vhost-user:tests/boot/vhost_user" \
	"boot-hostile:tests/boot/hostile" \
	"boot-gpu-shmem:tests/boot/gpu_shmem" \
	"boot-aarch64:tests/boot/run-aarch64" \
	"try:tests/try/run" \
	"boot-snapshot:tests/boot/snapshot"

check: deps
	$(MAKE) -s all guest-programs
	tools/run-suites $(SUITES)

bench: deps
	$(MAKE) all guest-programs
	tools/bench

# tools/demo installs, fetches and builds itself, with a progress line each.
demo:
	tools/demo

# The vmm(1) page; its one source is hand-written roff.
MANDIR ?= /usr/local/share/man
.PHONY: man
man:
	install -D -m 644 doc/vmm.1 $(DESTDIR)$(MANDIR)/man1/vmm.1

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

# Everything under build/ is made here (builds, sanitizer and fuzz trees,
# guest and L1 images, the DPDK vhost_blk copy, fuzz corpora) except
# build/kernel, which tools/fetch-kernel downloads: that stays.
clean:
	[ ! -d build ] || find build -mindepth 1 -maxdepth 1 ! -name kernel -exec rm -rf {} +

# fuzz.mk first: it defines the library archives the tools link.
include mk/fuzz.mk mk/tools.mk mk/tests.mk

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
