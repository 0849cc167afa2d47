# Rules for the vhost-user developer tools: the conformance checker and the
# hostile back-end (the fuzz targets are in mk/fuzz.mk). Included from the
# Makefile.

# vhost-user-check lives in tools/check/ (several files), so the tools/*.c
# wildcard does not pick it up. It and the hostile back-end link the
# protocol library (plus the display, for a GPU back-end's channel), not the
# VMM: a frontend that needs no VM, and a backend. As archives, so that only
# the members they use are linked (mk/fuzz.mk).
CHECK_SRCS := $(wildcard tools/check/*.c)
CHECK_OBJS := $(CHECK_SRCS:%.c=$(BUILD)/obj/%.o)

$(BUILD)/tools/vhost-user-check: $(CHECK_OBJS) $(TESTLIB_OBJS) $(DISPLAY_LIB) $(PROTOCOL_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# The fake back-end the in-VM hostile tests start: build/tests/hostile-backend.
$(BUILD)/tests/hostile-backend: $(BUILD)/obj/tests/hostile/backend.o \
		$(BUILD)/obj/tests/hostile/cases.o $(BUILD)/obj/tests/hostile/blkio.o $(TESTLIB_OBJS) $(PROTOCOL_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

.PHONY: vhost-user-tools hostile-test checker-test

vhost-user-tools: $(BUILD)/tools/vhost-user-check $(BUILD)/tests/hostile-backend

# Each script builds what it needs itself (ASan for the hostile driver).
hostile-test:
	tests/hostile/run

checker-test:
	tests/checker/run
