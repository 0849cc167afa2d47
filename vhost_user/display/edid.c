/* The EDID 1.4 base block describing our virtual monitor's one preferred mode. */
#include <string.h>

#include "vhost_user/display/display.h"

/* Reduced-blanking style timings at 60 Hz: plenty for a monitor that does not exist. */
#define H_BLANK 160u
#define H_FRONT 48u
#define H_SYNC 32u
#define V_BLANK 30u
#define V_FRONT 3u
#define V_SYNC 5u
#define REFRESH_HZ 60u
#define MIN_DIM 16u
#define MAX_DIM 4095u /* 12-bit fields in the detailed timing descriptor */
#define DPI 96u

static uint32_t pixel_clock_10khz(uint32_t width, uint32_t height)
{
	uint64_t hz = (uint64_t)(width + H_BLANK) * (height + V_BLANK) * REFRESH_HZ;

	return (uint32_t)((hz + 9999) / 10000);
}

bool gpu_display_mode_valid(uint32_t width, uint32_t height)
{
	return width >= MIN_DIM && width <= MAX_DIM && height >= MIN_DIM && height <= MAX_DIM &&
	       pixel_clock_10khz(width, height) <= 0xffff;
}

/* Manufacturer id: three letters, five bits each, big-endian. */
static void put_vendor(uint8_t *p, const char id[3])
{
	unsigned v = ((unsigned)(id[0] - 'A' + 1) << 10) | ((unsigned)(id[1] - 'A' + 1) << 5) |
		     (unsigned)(id[2] - 'A' + 1);

	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* sRGB primaries and D65 white point, as 10-bit CIE xy fractions of 1024. */
static void put_chromaticity(uint8_t *p)
{
	static const unsigned xy[8] = {655, 338, 307, 614, 154, 61, 320, 337};
	unsigned i;

	p[0] = (uint8_t)((xy[0] & 3) << 6 | (xy[1] & 3) << 4 | (xy[2] & 3) << 2 | (xy[3] & 3));
	p[1] = (uint8_t)((xy[4] & 3) << 6 | (xy[5] & 3) << 4 | (xy[6] & 3) << 2 | (xy[7] & 3));
	for (i = 0; i < 8; i++)
		p[2 + i] = (uint8_t)(xy[i] >> 2);
}

static void put_detailed_timing(uint8_t *p, uint32_t w, uint32_t h)
{
	uint32_t clock = pixel_clock_10khz(w, h);
	uint32_t w_mm = w * 254 / (DPI * 10), h_mm = h * 254 / (DPI * 10);

	p[0] = (uint8_t)clock;
	p[1] = (uint8_t)(clock >> 8);
	p[2] = (uint8_t)w;
	p[3] = (uint8_t)H_BLANK;
	p[4] = (uint8_t)((w >> 8) << 4 | (H_BLANK >> 8));
	p[5] = (uint8_t)h;
	p[6] = (uint8_t)V_BLANK;
	p[7] = (uint8_t)((h >> 8) << 4 | (V_BLANK >> 8));
	p[8] = (uint8_t)H_FRONT;
	p[9] = (uint8_t)H_SYNC;
	p[10] = (uint8_t)((V_FRONT & 0xf) << 4 | (V_SYNC & 0xf));
	p[11] = (uint8_t)((H_FRONT >> 8) << 6 | (H_SYNC >> 8) << 4 | (V_FRONT >> 4) << 2 |
			  (V_SYNC >> 4));
	p[12] = (uint8_t)w_mm;
	p[13] = (uint8_t)h_mm;
	p[14] = (uint8_t)((w_mm >> 8) << 4 | (h_mm >> 8));
	p[15] = 0; /* no borders */
	p[16] = 0;
	p[17] = 0x1e; /* digital separate sync, both polarities positive */
}

/* A display descriptor: tag, then 13 bytes of text ended by a newline and padded. */
static void put_text_descriptor(uint8_t *p, uint8_t tag, const char *text)
{
	size_t len = strlen(text);

	memset(p, 0, 18);
	p[3] = tag;
	memset(p + 5, ' ', 13);
	memcpy(p + 5, text, len);
	p[5 + len] = '\n';
}

void gpu_display_build_edid(uint8_t edid[GPU_DISPLAY_EDID_SIZE], uint32_t width, uint32_t height)
{
	static const uint8_t header[8] = {0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00};
	uint32_t w_cm = width * 254 / (DPI * 100), h_cm = height * 254 / (DPI * 100);
	unsigned i, sum = 0;

	memset(edid, 0, GPU_DISPLAY_EDID_SIZE);
	memcpy(edid, header, sizeof(header));
	put_vendor(edid + 8, "VMM");
	edid[10] = 0x01; /* product code 1, serial 0, week 0 */
	edid[17] = 34;	 /* 2024 */
	edid[18] = 1;	 /* EDID 1.4 */
	edid[19] = 4;
	edid[20] = 0xa0; /* digital input, 8 bits per colour */
	edid[21] = (uint8_t)(w_cm ? (w_cm > 255 ? 255 : w_cm) : 1);
	edid[22] = (uint8_t)(h_cm ? (h_cm > 255 ? 255 : h_cm) : 1);
	edid[23] = 120;	 /* gamma 2.2 */
	edid[24] = 0x06; /* sRGB default, preferred timing is native; RGB 4:4:4 */
	put_chromaticity(edid + 25);
	for (i = 38; i < 54; i++)
		edid[i] = 0x01; /* standard timings unused */
	put_detailed_timing(edid + 54, width, height);
	put_text_descriptor(edid + 72, 0xfc, "VMM display");
	put_text_descriptor(edid + 90, 0xfe, "vhost-user");
	edid[108 + 3] = 0x10; /* dummy descriptor */
	for (i = 0; i < GPU_DISPLAY_EDID_SIZE - 1; i++)
		sum += edid[i];
	edid[127] = (uint8_t)(256 - (sum & 0xff));
}
