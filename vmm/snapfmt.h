/*
 * The snapshot format (version 1) and the helpers every saved piece uses.
 *
 * A snapshot is a directory of parts, one file each, and a manifest:
 *
 *   manifest   "VMMSNAP\n", u32 version, u32 nparts, then per part
 *              { char name[32] (NUL-padded), u64 size, u32 crc32, u32 kind },
 *              then u32 crc32 (zlib) of every byte before it.
 *   <name>     kind SNAP_PART_STATE: size bytes of fields (below), crc32 over
 *              them. kind SNAP_PART_RAM: a sparse file of size bytes (one guest
 *              RAM region), holding data only where the part "memory" lists
 *              extents; crc32 over the bytes of those extents, in order.
 *
 * All integers are little-endian. A state part is a sequence of fields in
 * the order its writer put them (snap_put_*) and its reader takes them
 * (snap_get_*): fixed-width integers, and blobs as u32 length + bytes.
 * The manifest is written last, so a snapshot cut short has none and is
 * refused. Restoring only reads: a snapshot is never modified by the VMs
 * started from it. A snapshot of a newer version is refused.
 */
#ifndef VMM_SNAPFMT_H
#define VMM_SNAPFMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/memory.h"

#define SNAP_VERSION 1
#define SNAP_MAGIC "VMMSNAP\n"
#define SNAP_NAME_MAX 32
#define SNAP_MAX_PARTS 128
#define SNAP_ERR_MAX 256

enum snap_part_kind { SNAP_PART_STATE = 0, SNAP_PART_RAM = 1 };

/* A growing buffer a state part is written into; oom sticks once set. */
struct snap_buf {
	uint8_t *data;
	size_t len, cap;
	bool oom;
};

void snap_buf_free(struct snap_buf *b);
void snap_put_bytes(struct snap_buf *b, const void *p, size_t n);
void snap_put_u8(struct snap_buf *b, uint8_t v);
void snap_put_u16(struct snap_buf *b, uint16_t v);
void snap_put_u32(struct snap_buf *b, uint32_t v);
void snap_put_u64(struct snap_buf *b, uint64_t v);
/* u32 length, then the bytes. */
void snap_put_blob(struct snap_buf *b, const void *p, uint32_t n);

/*
 * Reads one state part. The first failure sticks: later gets return false
 * and leave err as it was, "part NAME: field FIELD: why".
 */
struct snap_reader {
	const uint8_t *p;
	size_t len, off;
	char part[SNAP_NAME_MAX];
	bool failed;
	char err[SNAP_ERR_MAX];
};

void snap_reader_init(struct snap_reader *rd, const char *part, const void *p, size_t len);
/* Records a failure naming field; returns false (for "return snap_fail(...)"). */
bool snap_fail(struct snap_reader *rd, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
bool snap_get_bytes(struct snap_reader *rd, const char *field, void *dst, size_t n);
bool snap_get_u8(struct snap_reader *rd, const char *field, uint8_t *v);
bool snap_get_u16(struct snap_reader *rd, const char *field, uint16_t *v);
bool snap_get_u32(struct snap_reader *rd, const char *field, uint32_t *v);
bool snap_get_u64(struct snap_reader *rd, const char *field, uint64_t *v);
/* A blob of exactly n bytes. */
bool snap_get_blob(struct snap_reader *rd, const char *field, void *dst, uint32_t n);
/* A blob of at most max bytes; its length in *n. */
bool snap_get_blob_max(struct snap_reader *rd, const char *field, void *dst, uint32_t max,
		       uint32_t *n);
/* A u32/u64 that must equal here (what this VM has): "is S in the snapshot, H here". */
bool snap_expect_u32(struct snap_reader *rd, const char *field, uint32_t here);
bool snap_expect_u64(struct snap_reader *rd, const char *field, uint64_t here);
/* True when every byte was taken and nothing failed; else fails naming the trailing bytes. */
bool snap_reader_done(struct snap_reader *rd);

struct snap_part {
	char name[SNAP_NAME_MAX];
	uint64_t size;
	uint32_t crc;
	uint32_t kind;
};

/* A snapshot directory being written or read; err holds one line on failure. */
struct snap_dir {
	int dirfd;
	struct snap_part parts[SNAP_MAX_PARTS];
	unsigned nparts;
	char err[SNAP_ERR_MAX];
};

/* Creates path (or takes an empty existing directory). Returns 0 or -errno. */
int snap_dir_create(struct snap_dir *d, const char *path);
/* Writes a state part. */
int snap_dir_put(struct snap_dir *d, const char *name, const struct snap_buf *b);
/*
 * Writes region r as a sparse RAM part: only the memfd's data extents
 * (SEEK_DATA/SEEK_HOLE), which are appended to extents as u64 offset and
 * length pairs after a u32 count. Returns 0 or -errno.
 */
int snap_dir_put_ram(struct snap_dir *d, const char *name, const struct mem_region *r,
		     struct snap_buf *extents);
/* Writes the manifest (last) and closes d. */
int snap_dir_finish(struct snap_dir *d);
void snap_dir_close(struct snap_dir *d);

/*
 * Opens a snapshot and checks its manifest (magic, version, checksum).
 * Returns 0, or -errno with d->err naming what is wrong.
 */
int snap_dir_open(struct snap_dir *d, const char *path);
const struct snap_part *snap_dir_find(const struct snap_dir *d, const char *name);
/* Reads a whole state part and checks its size and checksum; *data is malloc'd. */
int snap_dir_read(struct snap_dir *d, const char *name, uint8_t **data, size_t *len);
/*
 * Copies RAM part name into r (same size) at the extents rd yields (the
 * "memory" part's list for r), checking the checksum. Returns 0 or -errno.
 */
int snap_dir_load_ram(struct snap_dir *d, const char *name, const struct mem_region *r,
		      struct snap_reader *rd);

#endif
