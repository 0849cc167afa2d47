# Multi-file test programs (outside tests/unit/), each linked with the
# library objects. The scripts that run them build them through these rules,
# so `SAN=1` gives the sanitizer build everywhere.

prog_objs = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))

$(BUILD)/tests/vhost_user/backend_test: $(call prog_objs,$(wildcard tests/vhost_user/*.c)) $(TESTLIB_OBJS) $(LIB_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/gpu/gpu_test: $(call prog_objs,tests/gpu/gpu_test.c) $(TESTLIB_OBJS) $(LIB_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/shmem/shmem_test: $(call prog_objs,tests/shmem/shmem_test.c) $(TESTLIB_OBJS) $(LIB_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/hostile_test: $(call prog_objs,tests/hostile/driver.c tests/hostile/cases.c) $(TESTLIB_OBJS) $(LIB_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
