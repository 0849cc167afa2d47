/* Unit tests for the protocol trace: the text line and the JSON line of the same message. */
#include <jansson.h>
#include <string.h>

#include "tests/unit/check_main.h"
#include "vhost_user/trace.h"

static json_t *json_line(const struct vhost_user_trace_event *ev, uint64_t t_ns)
{
	char line[4096];
	json_error_t err;
	size_t n = vhost_user_trace_format(line, sizeof(line), true, t_ns, ev);
	json_t *o = json_loadb(line, n, 0, &err);

	ck_assert_msg(o != NULL, "'%s': %s", line, err.text);
	return o;
}

START_TEST(features_reply)
{
	struct vhost_user_msg m = {.hdr = {.request = VHOST_USER_GET_FEATURES,
					   .flags = 1 | VHOST_USER_FLAG_REPLY,
					   .size = 8},
				   .payload.u64 = (1ull << 32) | (1ull << 9) | (1ull << 63)};
	int fds[2] = {5, 7};
	struct vhost_user_trace_event ev = {.device = "blk0",
					    .type_id = 2,
					    .dir = VHOST_USER_TRACE_RECV,
					    .msg = &m,
					    .fds = fds,
					    .nfds = 2};
	static const char *const keys[] = {"t",	   "device", "dir",  "channel", "request",
					   "code", "flags",  "size", "fds",	"payload"};
	char text[512];
	json_t *o = json_line(&ev, 12345678901ull), *p;
	const char *key;
	json_t *v;
	size_t i = 0;

	vhost_user_trace_format(text, sizeof(text), false, 12345678901ull, &ev);
	ck_assert_str_eq(text, "vhost-user trace 12.345678 blk0 <- GET_FEATURES flags=0x5 size=8 "
			       "fds=[5 7] features=0x8000000100000200<FLUSH,VERSION_1,bit63>");
	json_object_foreach(o, key, v) /* keys in the order consumers have always seen */
	    ck_assert_str_eq(key, keys[i++]);
	ck_assert_uint_eq(i, sizeof(keys) / sizeof(keys[0]));
	ck_assert_double_eq(json_real_value(json_object_get(o, "t")), 12.345678);
	ck_assert_str_eq(json_string_value(json_object_get(o, "dir")), "recv");
	ck_assert_str_eq(json_string_value(json_object_get(o, "flags")), "0x5");
	ck_assert_int_eq(json_integer_value(json_array_get(json_object_get(o, "fds"), 1)), 7);
	p = json_object_get(o, "payload");
	ck_assert_str_eq(json_string_value(json_object_get(p, "features")), "0x8000000100000200");
	v = json_object_get(p, "features_names");
	ck_assert_int_eq(json_array_size(v), 3);
	ck_assert_str_eq(json_string_value(json_array_get(v, 0)), "FLUSH");
	ck_assert_str_eq(json_string_value(json_array_get(v, 2)), "bit63");
	json_decref(o);
}
END_TEST

START_TEST(memory_table_and_odd_values)
{
	struct vhost_user_msg m = {.hdr = {.request = VHOST_USER_SET_MEM_TABLE, .flags = 1}};
	struct vhost_user_trace_event ev = {.device = "a \"b\"", .msg = &m};
	json_t *o, *regions;

	m.payload.memory.nregions = 2;
	m.payload.memory.regions[1].memory_size = 0x1000;
	m.hdr.size = 8 + 2 * sizeof(m.payload.memory.regions[0]);
	o = json_line(&ev, 0);
	ck_assert_str_eq(json_string_value(json_object_get(o, "device")), "a \"b\"");
	ck_assert_int_eq(json_array_size(json_object_get(o, "fds")), 0);
	regions = json_object_get(json_object_get(o, "payload"), "regions");
	ck_assert_int_eq(json_array_size(regions), 2);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(regions, 1), "size")),
			 "0x1000");
	json_decref(o);

	/* A reply's ack past INT64_MAX stays a large positive number. */
	m.hdr = (struct vhost_user_header){.request = 99, .flags = 5, .size = 8};
	m.payload.u64 = ~0ull;
	o = json_line(&ev, 0);
	ck_assert(json_real_value(json_object_get(json_object_get(o, "payload"), "ack")) > 1.8e19);
	json_decref(o);
}
END_TEST

static Suite *trace_suite(void)
{
	Suite *s = suite_create("vhost_user_trace");
	TCase *tc = tcase_create("format");

	tcase_add_test(tc, features_reply);
	tcase_add_test(tc, memory_table_and_odd_values);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(trace_suite)
