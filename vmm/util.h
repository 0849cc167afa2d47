/* Small helpers every layer shares: bit masks, array length, little-endian byte access. */
#ifndef VMM_UTIL_H
#define VMM_UTIL_H

#include <stdint.h>

/* Bit n as a 64-bit mask (feature words are 64 bits wide). */
#define BIT(n) (1ull << (n))

/* Elements in an array (not a pointer). */
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Stores the low n bytes (n <= 8) of v at p, least significant first; p need not be aligned. */
static inline void put_le_n(uint8_t *p, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* Reads n bytes (n <= 8) at p as a little-endian number; p need not be aligned. */
static inline uint64_t get_le_n(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static inline void put_le16(uint8_t *p, uint16_t v)
{
	put_le_n(p, v, 2);
}

static inline void put_le32(uint8_t *p, uint32_t v)
{
	put_le_n(p, v, 4);
}

static inline void put_le64(uint8_t *p, uint64_t v)
{
	put_le_n(p, v, 8);
}

static inline uint16_t get_le16(const uint8_t *p)
{
	return (uint16_t)get_le_n(p, 2);
}

static inline uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)get_le_n(p, 4);
}

static inline uint64_t get_le64(const uint8_t *p)
{
	return get_le_n(p, 8);
}

#endif
