/* A small AML encoder: names, integers, strings, packages, devices and resource templates. */
#include "arch/x86_64/aml.h"

#include <errno.h>
#include <string.h>

#include "vmm/util.h"

/* Opcodes and prefixes from the ACPI specification, chapter 20 (AML grammar). */
enum {
	AML_ZERO_OP = 0x00,
	AML_ONE_OP = 0x01,
	AML_NAME_OP = 0x08,
	AML_BYTE_PREFIX = 0x0a,
	AML_WORD_PREFIX = 0x0b,
	AML_DWORD_PREFIX = 0x0c,
	AML_STRING_PREFIX = 0x0d,
	AML_QWORD_PREFIX = 0x0e,
	AML_SCOPE_OP = 0x10,
	AML_BUFFER_OP = 0x11,
	AML_PACKAGE_OP = 0x12,
	AML_DUAL_NAME_PREFIX = 0x2e,
	AML_MULTI_NAME_PREFIX = 0x2f,
	AML_EXT_OP_PREFIX = 0x5b,
	AML_DEVICE_OP = 0x82, /* after AML_EXT_OP_PREFIX */
	AML_ROOT_CHAR = 0x5c,
	AML_PARENT_PREFIX = 0x5e,
	AML_NULL_NAME = 0x00,
};

/* Resource descriptor tags (ACPI 6.x section 6.4). */
enum {
	RES_IRQ_NOFLAGS = 0x22, /* small item 0x4, length 2 */
	RES_IO = 0x47,		/* small item 0x8, length 7 */
	RES_END_TAG = 0x79,	/* small item 0xf, length 1 */
	RES_DWORD_ADDRESS = 0x87,
	RES_WORD_ADDRESS = 0x88,
	RES_QWORD_ADDRESS = 0x8a,
};

enum { RES_SPACE_MEMORY = 0, RES_SPACE_IO = 1, RES_SPACE_BUS = 2 };

/* Address descriptor general flags: consumer, min fixed, max fixed (positive decode). */
#define RES_GFLAG_CONSUMER 0x01
#define RES_GFLAG_MIN_FIXED 0x04
#define RES_GFLAG_MAX_FIXED 0x08
/* Type-specific flags: memory read-write non-cacheable; I/O entire range. */
#define RES_MEM_RW_NONCACHEABLE 0x01
#define RES_IO_ENTIRE_RANGE 0x03

void aml_buf_init(struct aml_buf *b, void *data, size_t cap)
{
	b->data = data;
	b->cap = cap;
	b->len = 0;
	b->err = 0;
}

static void set_error(struct aml_buf *b, int err)
{
	if (!b->err)
		b->err = err;
}

/* Reserves n bytes at the end; NULL (and -ENOSPC) when they do not fit. */
static uint8_t *reserve(struct aml_buf *b, size_t n)
{
	uint8_t *p;

	if (b->err)
		return NULL;
	if (n > b->cap - b->len) {
		set_error(b, -ENOSPC);
		return NULL;
	}
	p = b->data + b->len;
	b->len += n;
	return p;
}

static void put_le(struct aml_buf *b, uint64_t v, unsigned nbytes)
{
	uint8_t *p = reserve(b, nbytes);

	if (p)
		put_le_n(p, v, nbytes);
}

void aml_put8(struct aml_buf *b, uint8_t v)
{
	put_le(b, v, 1);
}

void aml_put16(struct aml_buf *b, uint16_t v)
{
	put_le(b, v, 2);
}

void aml_put32(struct aml_buf *b, uint32_t v)
{
	put_le(b, v, 4);
}

void aml_put64(struct aml_buf *b, uint64_t v)
{
	put_le(b, v, 8);
}

void aml_put_bytes(struct aml_buf *b, const void *src, size_t n)
{
	uint8_t *p = reserve(b, n);

	if (p && n)
		memcpy(p, src, n);
}

void aml_put_zeros(struct aml_buf *b, size_t n)
{
	uint8_t *p = reserve(b, n);

	if (p && n)
		memset(p, 0, n);
}

void aml_align(struct aml_buf *b, size_t align)
{
	aml_put_zeros(b, (align - (b->len & (align - 1))) & (align - 1));
}

static void patch_le(struct aml_buf *b, size_t off, uint64_t v, unsigned nbytes)
{
	if (b->err)
		return;
	if (off > b->len || nbytes > b->len - off) {
		set_error(b, -EINVAL);
		return;
	}
	put_le_n(b->data + off, v, nbytes);
}

void aml_patch8(struct aml_buf *b, size_t off, uint8_t v)
{
	patch_le(b, off, v, 1);
}

void aml_patch16(struct aml_buf *b, size_t off, uint16_t v)
{
	patch_le(b, off, v, 2);
}

void aml_patch32(struct aml_buf *b, size_t off, uint32_t v)
{
	patch_le(b, off, v, 4);
}

void aml_patch64(struct aml_buf *b, size_t off, uint64_t v)
{
	patch_le(b, off, v, 8);
}

/* Inserts n bytes at pos, moving what follows up; the capacity check comes first. */
static void insert(struct aml_buf *b, size_t pos, const uint8_t *src, size_t n)
{
	if (b->err)
		return;
	if (pos > b->len) {
		set_error(b, -EINVAL);
		return;
	}
	if (n > b->cap - b->len) {
		set_error(b, -ENOSPC);
		return;
	}
	memmove(b->data + pos + n, b->data + pos, b->len - pos);
	memcpy(b->data + pos, src, n);
	b->len += n;
}

unsigned aml_pkglen_encode(uint32_t value, uint8_t out[4])
{
	unsigned nbytes;

	if (value <= 0x3f) {
		out[0] = (uint8_t)value;
		return 1;
	}
	if (value <= 0xfff)
		nbytes = 2;
	else if (value <= 0xfffff)
		nbytes = 3;
	else if (value <= AML_PKGLEN_MAX)
		nbytes = 4;
	else
		return 0;
	/* Lead byte: bits 7-6 = following byte count, bits 3-0 = low nibble. */
	out[0] = (uint8_t)(((nbytes - 1) << 6) | (value & 0x0f));
	for (unsigned i = 1; i < nbytes; i++)
		out[i] = (uint8_t)(value >> (4 + 8 * (i - 1)));
	return nbytes;
}

unsigned aml_pkglen_for_body(size_t body_len, uint8_t out[4])
{
	/* The field counts itself, so try each size until the total fits it. */
	for (unsigned nbytes = 1; nbytes <= 4; nbytes++) {
		if (body_len > AML_PKGLEN_MAX - nbytes)
			return 0;
		if (aml_pkglen_encode((uint32_t)(body_len + nbytes), out) == nbytes)
			return nbytes;
	}
	return 0;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int aml_eisaid_encode(const char *id, uint32_t *out)
{
	uint32_t vendor = 0, product = 0;

	if (strlen(id) != 7)
		return -EINVAL;
	for (int i = 0; i < 3; i++) {
		if (id[i] < 'A' || id[i] > 'Z')
			return -EINVAL;
		vendor = (vendor << 5) | (uint32_t)(id[i] - '@'); /* 'A' = 1 */
	}
	for (int i = 3; i < 7; i++) {
		int d = hex_digit(id[i]);

		if (d < 0)
			return -EINVAL;
		product = (product << 4) | (uint32_t)d;
	}
	/* Both 16-bit halves are stored big-endian inside a little-endian DWord. */
	*out = (vendor >> 8) | ((vendor & 0xff) << 8) | ((product >> 8) << 16) |
	       ((product & 0xff) << 24);
	return 0;
}

static bool nameseg_char_ok(char c, bool first)
{
	return (c >= 'A' && c <= 'Z') || c == '_' || (!first && c >= '0' && c <= '9');
}

/* Counts the dot-separated segments of path, or returns -1 if one is malformed. */
static int count_namesegs(const char *path)
{
	int nsegs = 0;
	size_t seglen = 0;

	if (!*path)
		return 0;
	for (const char *p = path;; p++) {
		if (*p == '.' || *p == '\0') {
			if (seglen == 0)
				return -1;
			nsegs++;
			seglen = 0;
			if (*p == '\0')
				return nsegs;
			continue;
		}
		if (seglen == 4 || !nameseg_char_ok(*p, seglen == 0))
			return -1;
		seglen++;
	}
}

static void put_namesegs(struct aml_buf *b, const char *path)
{
	while (*path) {
		size_t seglen = strcspn(path, ".");
		uint8_t seg[4] = {'_', '_', '_', '_'};

		memcpy(seg, path, seglen);
		aml_put_bytes(b, seg, 4);
		path += seglen;
		if (*path == '.')
			path++;
	}
}

void aml_namestring(struct aml_buf *b, const char *path)
{
	size_t nprefix = 0;
	int nsegs;

	if (path[0] == '\\')
		nprefix = 1;
	else
		while (path[nprefix] == '^')
			nprefix++;
	nsegs = count_namesegs(path + nprefix);
	if (nsegs < 0 || nsegs > 255 || (nsegs == 0 && nprefix == 0)) {
		set_error(b, -EINVAL);
		return;
	}
	aml_put_bytes(b, path, nprefix); /* '\\' and '^' are their own AML bytes */
	if (nsegs == 0)
		aml_put8(b, AML_NULL_NAME);
	else if (nsegs == 2)
		aml_put8(b, AML_DUAL_NAME_PREFIX);
	else if (nsegs > 2) {
		aml_put8(b, AML_MULTI_NAME_PREFIX);
		aml_put8(b, (uint8_t)nsegs);
	}
	put_namesegs(b, path + nprefix);
}

void aml_integer(struct aml_buf *b, uint64_t v)
{
	if (v == 0) {
		aml_put8(b, AML_ZERO_OP);
	} else if (v == 1) {
		aml_put8(b, AML_ONE_OP);
	} else if (v <= UINT8_MAX) {
		aml_put8(b, AML_BYTE_PREFIX);
		aml_put8(b, (uint8_t)v);
	} else if (v <= UINT16_MAX) {
		aml_put8(b, AML_WORD_PREFIX);
		aml_put16(b, (uint16_t)v);
	} else if (v <= UINT32_MAX) {
		aml_put8(b, AML_DWORD_PREFIX);
		aml_put32(b, (uint32_t)v);
	} else {
		aml_put8(b, AML_QWORD_PREFIX);
		aml_put64(b, v);
	}
}

void aml_string(struct aml_buf *b, const char *s)
{
	for (const char *p = s; *p; p++) {
		if ((unsigned char)*p > 0x7f) {
			set_error(b, -EINVAL);
			return;
		}
	}
	aml_put8(b, AML_STRING_PREFIX);
	aml_put_bytes(b, s, strlen(s) + 1); /* with its NUL terminator */
}

void aml_eisaid(struct aml_buf *b, const char *id)
{
	uint32_t v;

	if (aml_eisaid_encode(id, &v) < 0) {
		set_error(b, -EINVAL);
		return;
	}
	aml_integer(b, v);
}

void aml_name(struct aml_buf *b, const char *path)
{
	aml_put8(b, AML_NAME_OP);
	aml_namestring(b, path);
}

size_t aml_pkg_begin(struct aml_buf *b)
{
	return b->len;
}

void aml_pkg_end(struct aml_buf *b, size_t mark)
{
	uint8_t enc[4];
	unsigned n;

	if (b->err)
		return;
	if (mark > b->len) {
		set_error(b, -EINVAL);
		return;
	}
	n = aml_pkglen_for_body(b->len - mark, enc);
	if (!n) {
		set_error(b, -EINVAL);
		return;
	}
	insert(b, mark, enc, n);
}

size_t aml_scope_begin(struct aml_buf *b, const char *path)
{
	size_t mark;

	aml_put8(b, AML_SCOPE_OP);
	mark = aml_pkg_begin(b);
	aml_namestring(b, path);
	return mark;
}

size_t aml_device_begin(struct aml_buf *b, const char *path)
{
	size_t mark;

	aml_put8(b, AML_EXT_OP_PREFIX);
	aml_put8(b, AML_DEVICE_OP);
	mark = aml_pkg_begin(b);
	aml_namestring(b, path);
	return mark;
}

size_t aml_package_begin(struct aml_buf *b, uint8_t nelems)
{
	size_t mark;

	aml_put8(b, AML_PACKAGE_OP);
	mark = aml_pkg_begin(b);
	aml_put8(b, nelems);
	return mark;
}

size_t aml_buffer_begin(struct aml_buf *b)
{
	aml_put8(b, AML_BUFFER_OP);
	return aml_pkg_begin(b);
}

void aml_buffer_end(struct aml_buf *b, size_t mark)
{
	uint8_t size_bytes[9];
	struct aml_buf size_enc;

	if (b->err)
		return;
	if (mark > b->len) {
		set_error(b, -EINVAL);
		return;
	}
	aml_buf_init(&size_enc, size_bytes, sizeof(size_bytes));
	aml_integer(&size_enc, b->len - mark);
	insert(b, mark, size_bytes, size_enc.len);
	aml_pkg_end(b, mark);
}

size_t aml_restemplate_begin(struct aml_buf *b)
{
	return aml_buffer_begin(b);
}

void aml_restemplate_end(struct aml_buf *b, size_t mark)
{
	aml_put8(b, RES_END_TAG);
	aml_put8(b, 0); /* checksum 0: "treat as valid", as iasl emits */
	aml_buffer_end(b, mark);
}

void aml_res_io(struct aml_buf *b, uint16_t min, uint16_t max, uint8_t align, uint8_t len)
{
	if (min > max) {
		set_error(b, -EINVAL);
		return;
	}
	aml_put8(b, RES_IO);
	aml_put8(b, 0x01); /* Decode16: all 16 address bits decoded */
	aml_put16(b, min);
	aml_put16(b, max);
	aml_put8(b, align);
	aml_put8(b, len);
}

void aml_res_irq_noflags(struct aml_buf *b, unsigned irq)
{
	if (irq > 15) {
		set_error(b, -EINVAL);
		return;
	}
	aml_put8(b, RES_IRQ_NOFLAGS);
	aml_put16(b, (uint16_t)(1u << irq));
}

/*
 * Word/DWord/QWord address space descriptor: granularity, min, max,
 * translation offset and length, each "width" bytes wide.
 */
static void put_address(struct aml_buf *b, uint8_t tag, unsigned width, uint8_t space,
			uint8_t gflags, uint8_t tflags, uint64_t min, uint64_t max)
{
	uint64_t len = max - min + 1;

	/* The length field has the same width: 0..0xffff has no 16-bit length. */
	if (min > max || len == 0 || (width < 8 && (len >> (8 * width)) != 0)) {
		set_error(b, -EINVAL);
		return;
	}
	aml_put8(b, tag);
	aml_put16(b, (uint16_t)(3 + 5 * width)); /* bytes after this length field */
	aml_put8(b, space);
	aml_put8(b, gflags | RES_GFLAG_MIN_FIXED | RES_GFLAG_MAX_FIXED);
	aml_put8(b, tflags);
	put_le(b, 0, width); /* granularity */
	put_le(b, min, width);
	put_le(b, max, width);
	put_le(b, 0, width); /* translation offset */
	put_le(b, len, width);
}

void aml_res_word_bus_number(struct aml_buf *b, uint16_t min, uint16_t max)
{
	put_address(b, RES_WORD_ADDRESS, 2, RES_SPACE_BUS, 0, 0, min, max);
}

void aml_res_word_io(struct aml_buf *b, uint16_t min, uint16_t max)
{
	put_address(b, RES_WORD_ADDRESS, 2, RES_SPACE_IO, 0, RES_IO_ENTIRE_RANGE, min, max);
}

void aml_res_dword_memory(struct aml_buf *b, bool producer, uint32_t min, uint32_t max)
{
	put_address(b, RES_DWORD_ADDRESS, 4, RES_SPACE_MEMORY, producer ? 0 : RES_GFLAG_CONSUMER,
		    RES_MEM_RW_NONCACHEABLE, min, max);
}

void aml_res_qword_memory(struct aml_buf *b, bool producer, uint64_t min, uint64_t max)
{
	put_address(b, RES_QWORD_ADDRESS, 8, RES_SPACE_MEMORY, producer ? 0 : RES_GFLAG_CONSUMER,
		    RES_MEM_RW_NONCACHEABLE, min, max);
}
