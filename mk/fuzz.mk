# The libFuzzer targets and their replay programs. `make SAN=fuzz` builds
# the fuzzers with clang into build/fuzz; `make SAN=1` builds the replays
# (cc, ASan/UBSan) into build/asan from the objects the unit tests use.
# fuzz/run drives both. Included from the Makefile.

# The protocol library with the vmm/ basics, and the basics alone, as
# archives: a target pulls in only the members it needs, and a symbol that
# only pci/, virtio/pci_*, arch/ or the device layer defines fails its link.
# jansson: the trace and the control requests read and write JSON with it.
PROTOCOL_LIB := $(BUILD)/lib/protocol.a
BASE_LIB := $(BUILD)/lib/base.a

DISPLAY_LIB := $(BUILD)/lib/display.a

$(PROTOCOL_LIB): $(PROTOCOL_OBJS)
$(DISPLAY_LIB): $(DISPLAY_OBJS)
$(BASE_LIB): $(BASE_OBJS)
$(BUILD)/lib/%.a:
	@mkdir -p $(dir $@)
	rm -f $@ && $(AR) rcs $@ $^

# $(call fuzz_target,NAME,LINKED): fuzz/NAME.c with LINKED becomes
# $(BUILD)/fuzz/NAME (libFuzzer's main, SAN=fuzz only) and
# $(BUILD)/fuzz/NAME-replay (fuzz/replay_main.c's main, any build).
FUZZ_TARGETS :=
define fuzz_target
FUZZ_TARGETS += $(1)
$$(BUILD)/fuzz/$(1): $$(BUILD)/obj/fuzz/$(1).o $(2)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(LDFLAGS) -fsanitize=fuzzer -o $$@ $$^ -ljansson -lpthread
$$(BUILD)/fuzz/$(1)-replay: $$(BUILD)/obj/fuzz/$(1).o $$(BUILD)/obj/fuzz/replay_main.o $(2)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(LDFLAGS) -o $$@ $$^ -ljansson -lpthread
endef

# One line per target: what it links besides its own file.
$(eval $(call fuzz_target,fuzz_reply,$(PROTOCOL_LIB)))
$(eval $(call fuzz_target,fuzz_backend_request,$(PROTOCOL_LIB)))
$(eval $(call fuzz_target,fuzz_virtqueue,$(BUILD)/obj/virtio/virtqueue.o $(BASE_LIB)))
$(eval $(call fuzz_target,fuzz_control,$(BUILD)/obj/vmm/control_request.o))

.PHONY: fuzz fuzz-replay fuzz-targets

fuzz:
	fuzz/run

fuzz-replay:
	fuzz/run --replay

# What fuzz/run runs when given no target.
fuzz-targets:
	@echo $(FUZZ_TARGETS)
