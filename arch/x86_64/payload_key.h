/*
 * The cache key of a bzImage's compressed payload, without reading all of
 * it on every boot. The key is a hash of the payload's content. Computing
 * it reads the whole payload, so a small index entry remembers it per file
 * identity: device, inode, size, mtime and ctime of the bzImage, plus a
 * hash of its first block (boot sector and setup header) and of sampled
 * payload blocks. Any write to the file, and any utimensat() that puts its
 * mtime back, sets ctime to the current time, which no caller can choose;
 * a file replaced by rename has another inode. So an unchanged identity
 * means unchanged content, and a changed kernel at the same path never
 * finds a stale entry. One gap remains, a change within the clock tick of
 * the identity being read: like git's "racily clean" entries, an identity
 * whose ctime is younger than a safety window is never trusted (the
 * payload is hashed in full and no index entry is written).
 */
#ifndef ARCH_X86_64_PAYLOAD_KEY_H
#define ARCH_X86_64_PAYLOAD_KEY_H

#include <stdint.h>
#include <sys/stat.h>

/* How old a ctime must be before the identity is trusted, in production. */
#define PAYLOAD_KEY_TRUST_AGE_NS (2ull * 1000000000ull)
#define PAYLOAD_SAMPLE_SIZE 4096u
#define PAYLOAD_SAMPLES 16u /* evenly spaced over the payload, plus its last block */

/*
 * Hashes the identity of the file fd (st: its fstat) whose payload is
 * [offset, offset + len): st's device, inode, size, mtime and ctime, the
 * file's first PAYLOAD_SAMPLE_SIZE bytes and the sampled payload blocks.
 * A change of content outside those blocks leaves it unchanged unless st
 * changes (its ctime does, on a real file). 0 or -errno.
 */
int payload_identity(int fd, const struct stat *st, uint64_t offset, uint64_t len, uint64_t *out);

/* Hashes every byte of [offset, offset + len) of fd. 0 or -errno (-EIO when short). */
int payload_content_hash(int fd, uint64_t offset, uint64_t len, uint64_t *out);

/*
 * The payload's content hash, taken from the index entry "DIR/id-IDENTITY"
 * when fd's ctime is at least min_age_ns old and the entry exists, else
 * computed (and then recorded in the index when the identity is trusted
 * and dir is writable). dir may be NULL (no index). 0 or -errno.
 */
int payload_cache_key(int fd, uint64_t offset, uint64_t len, const char *dir, uint64_t min_age_ns,
		      uint64_t *key);

#endif
