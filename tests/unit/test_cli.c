/* Command-line parsing: sizes, limits, and one clear message for every bad input. */
#include <string.h>

#include "tests/unit/check_main.h"
#include "vmm/cli.h"
#include "vmm/util.h"

static enum cli_result parse(struct vm_config *cfg, char *msg, int argc, char **argv)
{
	return cli_parse(argc, argv, cfg, msg, 512);
}

#define PARSE(...)                                                                                 \
	({                                                                                         \
		char *argv_[] = {"vmm", __VA_ARGS__, NULL};                                        \
		parse(&cfg, msg, (int)ARRAY_SIZE(argv_) - 1, argv_);                               \
	})

START_TEST(test_sizes)
{
	uint64_t v;

	ck_assert_int_eq(cli_parse_size("512M", &v), 0);
	ck_assert_uint_eq(v, 512ull << 20);
	ck_assert_int_eq(cli_parse_size("2G", &v), 0);
	ck_assert_uint_eq(v, 2ull << 30);
	ck_assert_int_eq(cli_parse_size("64k", &v), 0);
	ck_assert_uint_eq(v, 64ull << 10);
	ck_assert_int_eq(cli_parse_size("1GiB", &v), 0);
	ck_assert_uint_eq(v, 1ull << 30);
	ck_assert_int_eq(cli_parse_size("4096", &v), 0);
	ck_assert_uint_eq(v, 4096);
	ck_assert_int_ne(cli_parse_size("", &v), 0);
	ck_assert_int_ne(cli_parse_size("M", &v), 0);
	ck_assert_int_ne(cli_parse_size("12X", &v), 0);
	ck_assert_int_ne(cli_parse_size("-1G", &v), 0);
	ck_assert_int_ne(cli_parse_size("1.5G", &v), 0);
	ck_assert_int_ne(cli_parse_size("99999999999999999999G", &v), 0);
	ck_assert_int_ne(cli_parse_size("17179869184T", &v), 0);
}
END_TEST

START_TEST(test_full_command_line)
{
	struct vm_config cfg;
	char msg[512];

	ck_assert_int_eq(PARSE("--kernel", "k", "--initrd", "i", "--cmdline", "quiet", "--mem",
			       "256M", "--cpus", "2", "--rng", "--vhost-user", "blk,sock=/s"),
			 CLI_RUN);
	ck_assert_str_eq(cfg.kernel_path, "k");
	ck_assert_str_eq(cfg.initrd_path, "i");
	ck_assert_str_eq(cfg.cmdline, "quiet");
	ck_assert_uint_eq(cfg.mem_size, 256ull << 20);
	ck_assert_uint_eq(cfg.ncpus, 2);
	ck_assert(cfg.rng);
	ck_assert_uint_eq(cfg.nvhost_user, 1);
	ck_assert_str_eq(cfg.vhost_user[0].spec, "blk,sock=/s");
}
END_TEST

START_TEST(test_defaults)
{
	struct vm_config cfg;
	char msg[512];

	ck_assert_int_eq(PARSE("--kernel", "k"), CLI_RUN);
	ck_assert_uint_eq(cfg.mem_size, VMM_DEFAULT_MEM);
	ck_assert_uint_eq(cfg.ncpus, 1);
	ck_assert_ptr_null(cfg.initrd_path);
}
END_TEST

START_TEST(test_errors_name_the_option)
{
	struct vm_config cfg;
	char msg[512];

	ck_assert_int_eq(PARSE("--initrd", "i"), CLI_EXIT_USAGE);
	ck_assert_ptr_nonnull(strstr(msg, "--kernel"));
	ck_assert_int_eq(PARSE("--kernel", "k", "--mem", "lots"), CLI_EXIT_USAGE);
	ck_assert_ptr_nonnull(strstr(msg, "--mem"));
	ck_assert_int_eq(PARSE("--kernel", "k", "--mem", "1M"), CLI_EXIT_USAGE);
	ck_assert_ptr_nonnull(strstr(msg, "too little"));
	ck_assert_int_eq(PARSE("--kernel", "k", "--cpus", "0"), CLI_EXIT_USAGE);
	ck_assert_ptr_nonnull(strstr(msg, "--cpus"));
	ck_assert_int_eq(PARSE("--kernel", "k", "--cpus", "65"), CLI_EXIT_USAGE);
	ck_assert_int_eq(PARSE("--kernel", "k", "--cpus", "2x"), CLI_EXIT_USAGE);
	ck_assert_int_eq(PARSE("--kernel", "k", "--bogus"), CLI_EXIT_USAGE);
	ck_assert_ptr_nonnull(strstr(msg, "--bogus"));
	ck_assert_int_eq(PARSE("--kernel"), CLI_EXIT_USAGE);
	ck_assert_ptr_nonnull(strstr(msg, "needs a value"));
	ck_assert_int_eq(PARSE("--kernel", "k", "stray"), CLI_EXIT_USAGE);
	ck_assert_ptr_nonnull(strstr(msg, "stray"));
	ck_assert_int_eq(PARSE("--kernel", "k", "--log-level", "loud"), CLI_EXIT_USAGE);
	ck_assert_ptr_null(strchr(msg, '\n'));
}
END_TEST

START_TEST(test_help_and_version)
{
	struct vm_config cfg;
	char msg[4096];

	ck_assert_int_eq(cli_parse(2, (char *[]){"vmm", "--help", NULL}, &cfg, msg, sizeof(msg)),
			 CLI_EXIT_OK);
	ck_assert_ptr_nonnull(strstr(msg, "--kernel"));
	ck_assert_int_eq(cli_parse(2, (char *[]){"vmm", "-V", NULL}, &cfg, msg, sizeof(msg)),
			 CLI_EXIT_OK);
	ck_assert_ptr_nonnull(strstr(msg, "vmm "));
}
END_TEST

static Suite *cli_suite(void)
{
	Suite *s = suite_create("cli");
	TCase *tc = tcase_create("parse");

	tcase_add_test(tc, test_sizes);
	tcase_add_test(tc, test_full_command_line);
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_errors_name_the_option);
	tcase_add_test(tc, test_help_and_version);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(cli_suite)
