# Cross-building for aarch64 on an x86_64 host: the compiler, the arm64
# sysroot (tools/setup-sysroot, made on first use), and how the unit tests
# run (qemu-user). Included by the Makefile when ARCH=aarch64.

CROSS_COMPILE ?= aarch64-linux-gnu-
CC := $(CROSS_COMPILE)gcc
BUILD ?= build/aarch64
SANFLAGS :=
SYSROOT := build/sysroot-aarch64
CROSS_SYSROOT_STAMP := $(SYSROOT)/.packages
CROSS_LIBDIRS := $(SYSROOT)/usr/lib/aarch64-linux-gnu $(SYSROOT)/lib/aarch64-linux-gnu
CROSS_CFLAGS := -isystem $(SYSROOT)/usr/include -isystem $(SYSROOT)/usr/include/aarch64-linux-gnu
CROSS_LDFLAGS := $(foreach d,$(CROSS_LIBDIRS),-L$(d) -Wl,-rpath-link,$(d))
# The arm64 binaries run here under qemu-user with the cross libc and the
# sysroot's libraries (qemu-user passes the environment to the guest's loader).
CROSS_RUN := qemu-aarch64-static -L /usr/aarch64-linux-gnu \
	-E LD_LIBRARY_PATH=$(subst $(eval) ,:,$(abspath $(CROSS_LIBDIRS)))
UNIT_ENV := UNIT_RUNNER="$(CROSS_RUN)"

$(CROSS_SYSROOT_STAMP): tools/setup-sysroot
	tools/setup-sysroot
	@touch $@
