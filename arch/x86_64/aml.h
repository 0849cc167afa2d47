/* A small AML (ACPI Machine Language) encoder writing into a caller's bounded byte buffer. */
#ifndef ARCH_X86_64_AML_H
#define ARCH_X86_64_AML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The output buffer. Every writer checks the capacity first and never
 * writes past cap; the first failure is remembered in err and turns every
 * later call into a no-op, so a builder can emit a whole table and check
 * once at the end. No memory is ever allocated.
 */
struct aml_buf {
	uint8_t *data;
	size_t cap;
	size_t len;
	int err; /* 0, -ENOSPC (a write did not fit) or -EINVAL (bad argument) */
};

void aml_buf_init(struct aml_buf *b, void *data, size_t cap);

/* Little-endian raw writes, used for the fixed-layout tables too. */
void aml_put8(struct aml_buf *b, uint8_t v);
void aml_put16(struct aml_buf *b, uint16_t v);
void aml_put32(struct aml_buf *b, uint32_t v);
void aml_put64(struct aml_buf *b, uint64_t v);
void aml_put_bytes(struct aml_buf *b, const void *src, size_t n);
void aml_put_zeros(struct aml_buf *b, size_t n);
/* Pads with zeros until len is a multiple of align (a power of two). */
void aml_align(struct aml_buf *b, size_t align);

/* Overwrite bytes already written: [off, off + size) must lie below len. */
void aml_patch8(struct aml_buf *b, size_t off, uint8_t v);
void aml_patch16(struct aml_buf *b, size_t off, uint16_t v);
void aml_patch32(struct aml_buf *b, size_t off, uint32_t v);
void aml_patch64(struct aml_buf *b, size_t off, uint64_t v);

/* Largest PkgLength value: 28 bits in the 4-byte form. */
#define AML_PKGLEN_MAX 0x0fffffffu

/*
 * Shortest PkgLength encoding of value (the field counts its own bytes):
 * 1 byte up to 63, 2 up to 0xfff, 3 up to 0xfffff, 4 up to AML_PKGLEN_MAX.
 * Returns the byte count 1..4, or 0 when value is too large.
 */
unsigned aml_pkglen_encode(uint32_t value, uint8_t out[4]);

/*
 * PkgLength field for an object whose bytes after the field number
 * body_len: the encoded value is body_len plus the field's own size.
 * Returns the byte count 1..4, or 0 when it cannot be encoded.
 */
unsigned aml_pkglen_for_body(size_t body_len, uint8_t out[4]);

/*
 * Compressed EISA id ("PNP0A08" -> 0x080ad041): three upper-case letters and
 * four hex digits. Returns 0 or -EINVAL.
 */
int aml_eisaid_encode(const char *id, uint32_t *out);

/*
 * NameString from a path like "PCI0", "_SB.PCI0", "\\_SB_.PCI0" or "^FOO":
 * segments are 1..4 characters ([A-Z_] then [A-Z0-9_]) padded with '_'.
 * "\\" alone is the root. A bad path sets err to -EINVAL.
 */
void aml_namestring(struct aml_buf *b, const char *path);

/* Data objects. Integers use the shortest of Zero/One/Byte/Word/DWord/QWord. */
void aml_integer(struct aml_buf *b, uint64_t v);
void aml_string(struct aml_buf *b, const char *s); /* ASCII 0x01-0x7f, else -EINVAL */
void aml_eisaid(struct aml_buf *b, const char *id);

/* Name(path, ...): the caller emits exactly one data object next. */
void aml_name(struct aml_buf *b, const char *path);

/*
 * Objects with a PkgLength: *_begin writes the opcode and returns a mark,
 * the caller writes the contents, and aml_pkg_end(b, mark) inserts the
 * PkgLength in front of them (moving them up by 1..4 bytes), so a buffer
 * exactly as large as the final output always suffices.
 */
size_t aml_pkg_begin(struct aml_buf *b);
void aml_pkg_end(struct aml_buf *b, size_t mark);
size_t aml_scope_begin(struct aml_buf *b, const char *path);
size_t aml_device_begin(struct aml_buf *b, const char *path);
/* Package(nelems){...}: the caller emits exactly nelems data objects. */
size_t aml_package_begin(struct aml_buf *b, uint8_t nelems);

/* Buffer(){bytes}: the end inserts the BufferSize integer, then the PkgLength. */
size_t aml_buffer_begin(struct aml_buf *b);
void aml_buffer_end(struct aml_buf *b, size_t mark);

/* ResourceTemplate(){...}: a Buffer whose descriptors end with an EndTag. */
size_t aml_restemplate_begin(struct aml_buf *b);
void aml_restemplate_end(struct aml_buf *b, size_t mark);

/* Resource descriptors, written inside a resource template. */

/* IO(Decode16, min, max, align, len); min > max sets -EINVAL. */
void aml_res_io(struct aml_buf *b, uint16_t min, uint16_t max, uint8_t align, uint8_t len);
/* IRQNoFlags(){irq}: an ISA IRQ 0..15, edge-triggered, active-high. */
void aml_res_irq_noflags(struct aml_buf *b, unsigned irq);
/* WordBusNumber(ResourceProducer, MinFixed, MaxFixed, PosDecode, 0, min, max, 0, n). */
void aml_res_word_bus_number(struct aml_buf *b, uint16_t min, uint16_t max);
/* WordIO(ResourceProducer, MinFixed, MaxFixed, PosDecode, EntireRange, 0, min, max, 0, n). */
void aml_res_word_io(struct aml_buf *b, uint16_t min, uint16_t max);
/*
 * DWordMemory / QWordMemory(producer ? ResourceProducer : ResourceConsumer,
 * PosDecode, MinFixed, MaxFixed, NonCacheable, ReadWrite, 0, min, max, 0, n).
 * min > max sets -EINVAL.
 */
void aml_res_dword_memory(struct aml_buf *b, bool producer, uint32_t min, uint32_t max);
void aml_res_qword_memory(struct aml_buf *b, bool producer, uint64_t min, uint64_t max);

#endif
