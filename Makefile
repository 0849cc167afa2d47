# Build, test and benchmark the VMM. `make` builds build/vmm; `make check`
# installs what it needs, then runs every unit and boot test.

ARCH ?= x86_64
SAN ?= 0

ifeq ($(SAN),1)
BUILD ?= build/asan
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
else
BUILD ?= build
SANFLAGS :=
endif

CC ?= cc
CFLAGS ?= -O2 -g
CFLAGS += -std=gnu11 -Wall -Wextra -Werror -I. -D_GNU_SOURCE -MMD -MP $(SANFLAGS)
LDFLAGS += $(SANFLAGS)
LDLIBS += -levent_core -lfdt -llzma -lpthread
LDLIBS += -lz # zlib: PNG screenshots (vhost_user/display/png.c)
CHECK_LIBS := -lcheck -lsubunit -lm -lrt -lpthread

# Layers, bottom up (ARCHITECTURE.md): vmm/ basics, pci/ and virtio/, the
# vhost-user protocol library, the display, the vhost-user device, arch/,
# and the VMM's top (main, command line, control socket, device list).
VMM_TOP := vmm/main.c vmm/cli.c vmm/control.c vmm/devices.c vmm/console.c
BASE_SRCS := $(filter-out $(VMM_TOP),$(wildcard vmm/*.c))
PROTOCOL_SRCS := $(wildcard vhost_user/*.c)
CORE_SRCS := $(wildcard vmm/*.c devices/*.c pci/*.c virtio/*.c vhost_user/*.c \
	vhost_user/display/*.c vhost_user/device/*.c arch/$(ARCH)/*.c)
LIB_SRCS := $(filter-out vmm/main.c,$(CORE_SRCS))
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
MAIN_OBJ := $(BUILD)/obj/vmm/main.o
# What the protocol tools (checker, hostile backend, fuzzers) link: the
# protocol library and vmm/ basics, nothing of pci/, virtio/ or the device.
PROTOCOL_OBJS := $(PROTOCOL_SRCS:%.c=$(BUILD)/obj/%.o) $(BASE_SRCS:%.c=$(BUILD)/obj/%.o)
# Helpers for tests and tools that play the guest's side; never in build/vmm.
TESTLIB_SRCS := $(wildcard tests/lib/*.c)
TESTLIB_OBJS := $(TESTLIB_SRCS:%.c=$(BUILD)/obj/%.o)

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)

TOOL_SRCS := $(wildcard tools/*.c)
TOOL_BINS := $(TOOL_SRCS:tools/%.c=$(BUILD)/tools/%)

GUEST_SRCS := $(wildcard guest/*.c)
GUEST_BINS := $(GUEST_SRCS:guest/%.c=build/guest/bin/%)

.PHONY: all unit unit-asan check deps boot-test guest-programs bench demo format clean

all: $(BUILD)/vmm $(TOOL_BINS) $(BUILD)/tools/vhost-user-check $(BUILD)/tests/hostile-backend

$(BUILD)/vmm: $(MAIN_OBJ) $(LIB_OBJS)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(TESTLIB_OBJS) $(LIB_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(CHECK_LIBS)

$(BUILD)/tools/%: $(BUILD)/obj/tools/%.o $(TESTLIB_OBJS) $(LIB_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# Programs that run inside the test guest: static, no sanitizer.
build/guest/bin/%: guest/%.c
	@mkdir -p $(dir $@)
	$(CC) -O2 -static -Wall -Wextra -Werror -o $@ $<

guest-programs: $(GUEST_BINS)

# Runs every unit-test binary, then prints one summary line.
unit: $(UNIT_BINS)
	@tools/run-unit-tests $(UNIT_BINS)

unit-asan:
	$(MAKE) SAN=1 unit

deps:
	tools/setup-deps

boot-test: all guest-programs
	tests/boot/run
	tests/boot/vhost_user
	tests/boot/hostile
	tests/boot/gpu_shmem

# Every suite prints "N passed, N failed"; tools/run-suites totals them.
SUITES := \
	"format:tools/check-format" \
	"layers:tools/check-layers" \
	"unit:make -s unit" \
	"unit-asan:make -s unit-asan" \
	"cli:tests/cli/run" \
	"vhost-user:tests/vhost_user/run" \
	"checker:tests/checker/run" \
	"hostile:tests/hostile/run" \
	"gpu:tests/gpu/run" \
	"shmem:tests/shmem/run" \
	"fuzz:FUZZ_SECONDS=$${FUZZ_SECONDS:-30} fuzz/run" \
	"boot:tests/boot/run" \
	"boot-vhost-user:tests/boot/vhost_user" \
	"boot-hostile:tests/boot/hostile" \
	"boot-gpu-shmem:tests/boot/gpu_shmem" \
	"try:tests/try/run"

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

clean:
	rm -rf build/obj build/asan build/tests build/tools build/vmm

include mk/tools.mk mk/tests.mk

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
