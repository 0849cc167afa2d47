/*
 * libFuzzer target: the control socket's request parser on one line of
 * bytes. The input is copied into an exact-size buffer, so reading past the
 * line is an ASan report. A refusal must carry a printable-ASCII reason that
 * fits in a reply; an accepted request must be one the VMM can run.
 */
#include <assert.h>
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/control.h"

static void check_refusal(const struct control_request *req)
{
	json_t *reply;

	assert(req->error[0]);
	for (const char *p = req->error; *p; p++)
		assert(*p >= 0x20 && *p <= 0x7e);
	reply = json_pack("{s:b,s:s}", "ok", 0, "error", req->error);
	assert(reply);
	json_decref(reply);
}

static void check_request(const struct control_request *req)
{
	/* CONTROL_RECONNECT is the last command: a new one must be added here. */
	assert(req->cmd <= CONTROL_RECONNECT);
	if (req->cmd == CONTROL_SCREENSHOT || req->cmd == CONTROL_SNAPSHOT)
		assert(req->path[0] && strlen(req->path) < sizeof(req->path));
	if (req->cmd == CONTROL_RECONNECT)
		assert(req->device[0]);
	assert(memchr(req->device, '\0', sizeof(req->device)));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct control_request req;
	char *line = malloc(size ? size : 1);

	if (!line)
		return 0;
	if (size)
		memcpy(line, data, size);
	if (control_parse_request(line, size, &req))
		check_refusal(&req);
	else
		check_request(&req);
	free(line);
	return 0;
}
