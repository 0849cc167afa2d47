/* The command line: argv into a struct vm_config, with one line naming any mistake. */
#ifndef VMM_CLI_H
#define VMM_CLI_H

#include <stdint.h>

#include "vmm/config.h"

enum cli_result { CLI_RUN, CLI_EXIT_OK, CLI_EXIT_USAGE };

/*
 * Parses argv into cfg. On CLI_EXIT_USAGE, err holds one line naming the
 * offending option; on CLI_EXIT_OK (--help, --version) out holds the text to
 * print. The strings in cfg point into argv. Neither message has a trailing newline.
 */
enum cli_result cli_parse(int argc, char **argv, struct vm_config *cfg, char *msg,
			  unsigned msg_size);

/* Parses "512M", "2G", "65536K", "1048576" (bytes); -EINVAL when malformed. */
int cli_parse_size(const char *text, uint64_t *out);

#endif
