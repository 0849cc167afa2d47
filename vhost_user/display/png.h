/* PNG encoding of 32-bit XRGB framebuffers (8-bit RGB, no alpha), for screenshots. */
#ifndef VMM_PNG_H
#define VMM_PNG_H

#include <stddef.h>
#include <stdint.h>

/* Largest image accepted, per side; PNG itself allows 2^31 - 1. */
#define PNG_MAX_DIMENSION 32768u

/*
 * Writes pixels (height rows of width uint32_t 0x00RRGGBB values, rows
 * stride_bytes apart) to path as a new PNG file, mode 0600. The file
 * appears atomically: it is written beside path (O_EXCL) and moved into
 * place only if nothing is there, so a reader never sees half an image and
 * an existing file (or symlink) at path is never replaced. Returns 0,
 * -EEXIST (path exists), -EINVAL (zero or oversized dimensions, stride too
 * small), -ENOMEM, or the -errno of the failed file operation.
 */
int png_write_xrgb(const char *path, const uint32_t *pixels, uint32_t width, uint32_t height,
		   size_t stride_bytes);

#endif
