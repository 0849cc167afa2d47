/* The control socket's request parser: one line of bytes to a checked struct control_request. */
#include "vmm/control.h"

#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static const struct {
	const char *name;
	enum control_cmd cmd;
} commands[] = {
    {"status", CONTROL_STATUS},		{"pause", CONTROL_PAUSE}, {"resume", CONTROL_RESUME},
    {"screenshot", CONTROL_SCREENSHOT}, {"quit", CONTROL_QUIT},	  {"snapshot", CONTROL_SNAPSHOT},
    {"reconnect", CONTROL_RECONNECT},
};

/*
 * Fills req->error and returns -EINVAL. The text may quote the line (jansson
 * names the token it choked on): anything but printable ASCII becomes '?', so
 * the reply can always carry it as a JSON string.
 */
static int refuse(struct control_request *req, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int refuse(struct control_request *req, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(req->error, sizeof(req->error), fmt, ap);
	va_end(ap);
	for (char *p = req->error; *p; p++)
		if (*p < 0x20 || *p > 0x7e)
			*p = '?';
	return -EINVAL;
}

/* Copies a string member into out; false when it does not fit. */
static bool copy_string(char *out, size_t size, const json_t *s)
{
	if (json_string_length(s) >= size)
		return false;
	memcpy(out, json_string_value(s), json_string_length(s) + 1);
	return true;
}

/* {"cmd":"screenshot","path":P[,"device":D][,"scanout":N]}. */
static int parse_screenshot(const json_t *root, struct control_request *req)
{
	const json_t *path = json_object_get(root, "path");
	const json_t *device = json_object_get(root, "device");
	const json_t *scanout = json_object_get(root, "scanout");

	if (!json_is_string(path) || !json_string_length(path) ||
	    (device && !json_is_string(device)) || (scanout && !json_is_integer(scanout)))
		return refuse(req, "want path, optional device and scanout");
	if (scanout &&
	    (json_integer_value(scanout) < 0 || json_integer_value(scanout) > UINT32_MAX))
		return refuse(req, "no such scanout");
	if (!copy_string(req->path, sizeof(req->path), path))
		return refuse(req, "path too long");
	if (device && !copy_string(req->device, sizeof(req->device), device))
		return refuse(req, "no such device");
	req->scanout = scanout ? (uint32_t)json_integer_value(scanout) : 0;
	return 0;
}

/* {"cmd":"snapshot","path":DIR[,"resume":BOOL]}. */
static int parse_snapshot(const json_t *root, struct control_request *req)
{
	const json_t *path = json_object_get(root, "path");
	const json_t *resume = json_object_get(root, "resume");

	if (!json_is_string(path) || !json_string_length(path) ||
	    (resume && !json_is_boolean(resume)))
		return refuse(req, "want path, optional boolean resume");
	if (!copy_string(req->path, sizeof(req->path), path))
		return refuse(req, "path too long");
	req->resume = resume && json_is_true(resume);
	return 0;
}

/* {"cmd":"reconnect","device":D}. */
static int parse_reconnect(const json_t *root, struct control_request *req)
{
	const json_t *device = json_object_get(root, "device");

	if (!json_is_string(device) || !json_string_length(device))
		return refuse(req, "want device");
	if (!copy_string(req->device, sizeof(req->device), device))
		return refuse(req, "no such device");
	return 0;
}

/* The protocol is flat: a nested value is a client bug, refused as before jansson. */
static bool is_flat(const json_t *root)
{
	const char *key;
	json_t *value;

	json_object_foreach((json_t *)root, key,
			    value) if (json_is_object(value) || json_is_array(value)) return false;
	return true;
}

static int parse_object(const json_t *root, struct control_request *req)
{
	const json_t *cmd = json_object_get(root, "cmd");

	if (!json_is_object(root))
		return refuse(req, "want one JSON object per line");
	if (!is_flat(root))
		return refuse(req, "nested values are not part of the protocol");
	if (!json_is_string(cmd))
		return refuse(req, "missing string member \"cmd\"");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(json_string_value(cmd), commands[i].name))
			continue;
		req->cmd = commands[i].cmd;
		if (req->cmd == CONTROL_SNAPSHOT)
			return parse_snapshot(root, req);
		if (req->cmd == CONTROL_RECONNECT)
			return parse_reconnect(root, req);
		return req->cmd == CONTROL_SCREENSHOT ? parse_screenshot(root, req) : 0;
	}
	return refuse(req, "unknown command");
}

int control_parse_request(const char *line, size_t len, struct control_request *req)
{
	json_error_t jerr;
	json_t *root;
	int err;

	memset(req, 0, sizeof(*req));
	if (len > CONTROL_LINE_MAX)
		return refuse(req, "line too long");
	/*
	 * Bounded by len, so a NUL byte is a parse error, not the line's end;
	 * without JSON_ALLOW_NUL a "\u0000" escape is refused too, so every
	 * string is a C string. Duplicate keys are refused: which one counts
	 * would be the parser's choice, not the client's. Any value decodes, so
	 * that a scalar gets the same answer as an array.
	 */
	root = json_loadb(line, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
	if (!root)
		return refuse(req, "malformed JSON at column %d: %s", jerr.column, jerr.text);
	err = parse_object(root, req);
	json_decref(root);
	return err;
}
