/* The picture the GPU test draws, shared with check_png.py (keep the two in step). */
#ifndef TESTS_GPU_PATTERN_H
#define TESTS_GPU_PATTERN_H

#include <stdint.h>

#define PATTERN_W 1024u
#define PATTERN_H 768u
/* The backing store is handed over in four equal, scattered pieces. */
#define PATTERN_CHUNK (PATTERN_W * PATTERN_H * 4u / 4u)
/* The rectangle redrawn and flushed on its own after the first full frame. */
#define RECT_X 100u
#define RECT_Y 50u
#define RECT_W 200u
#define RECT_H 100u

/* 0x00RRGGBB: every channel varies, so swapped channels or rows show up. */
static inline uint32_t pattern_base(uint32_t x, uint32_t y)
{
	uint32_t r = (x * 3 + y) & 0xff, g = (y * 5) & 0xff, b = (x ^ y) & 0xff;

	return r << 16 | g << 8 | b;
}

static inline uint32_t pattern_final(uint32_t x, uint32_t y)
{
	if (x >= RECT_X && x < RECT_X + RECT_W && y >= RECT_Y && y < RECT_Y + RECT_H)
		return 0xff0000u | ((x + y) & 0xff) << 8 | 0x10;
	return pattern_base(x, y);
}

#endif
