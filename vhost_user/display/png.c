/* PNG encoding of XRGB framebuffers with zlib: signature, IHDR, deflated IDAT chunks, IEND. */
#include "vhost_user/display/png.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define IDAT_CHUNK_BYTES (64u * 1024u)

/* Where the encoded stream goes, plus the first error met (sticky). */
struct png_out {
	FILE *file;
	int err;
};

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void out_bytes(struct png_out *out, const void *data, size_t len)
{
	if (out->err == 0 && len && fwrite(data, 1, len, out->file) != len)
		out->err = -EIO;
}

/* One chunk: length, type, data, CRC-32 over type and data. */
static void out_chunk(struct png_out *out, const char type[4], const uint8_t *data, uint32_t len)
{
	uint8_t be[4];
	uLong crc = crc32(0L, (const Bytef *)type, 4);

	if (len)
		crc = crc32(crc, data, len);
	put_be32(be, len);
	out_bytes(out, be, 4);
	out_bytes(out, type, 4);
	out_bytes(out, data, len);
	put_be32(be, (uint32_t)crc);
	out_bytes(out, be, 4);
}

static void out_header(struct png_out *out, uint32_t width, uint32_t height)
{
	static const uint8_t signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
	uint8_t ihdr[13];

	put_be32(ihdr, width);
	put_be32(ihdr + 4, height);
	ihdr[8] = 8;  /* bits per sample */
	ihdr[9] = 2;  /* colour type: truecolour RGB */
	ihdr[10] = 0; /* deflate */
	ihdr[11] = 0; /* adaptive filtering; every row uses filter 0 (none) */
	ihdr[12] = 0; /* no interlace */
	out_bytes(out, signature, sizeof(signature));
	out_chunk(out, "IHDR", ihdr, sizeof(ihdr));
}

/* Feeds input to deflate and emits an IDAT chunk whenever the buffer fills. */
static int deflate_feed(struct png_out *out, z_stream *zs, uint8_t *chunk, const uint8_t *in,
			size_t len, int flush)
{
	int rc;

	zs->next_in = (Bytef *)in;
	zs->avail_in = (uInt)len;
	do {
		rc = deflate(zs, flush);
		if (rc == Z_STREAM_ERROR)
			return -EIO;
		if (zs->avail_out == 0 || (flush == Z_FINISH && zs->avail_out < IDAT_CHUNK_BYTES)) {
			out_chunk(out, "IDAT", chunk, IDAT_CHUNK_BYTES - zs->avail_out);
			zs->next_out = chunk;
			zs->avail_out = IDAT_CHUNK_BYTES;
		}
	} while (zs->avail_in > 0 || (flush == Z_FINISH && rc != Z_STREAM_END));
	return out->err;
}

/* Converts each row to filter byte + RGB triplets and deflates it. */
static int out_image(struct png_out *out, const uint32_t *pixels, uint32_t width, uint32_t height,
		     size_t stride_bytes)
{
	size_t row_bytes = 1 + (size_t)width * 3;
	uint8_t *row = malloc(row_bytes);
	uint8_t *chunk = malloc(IDAT_CHUNK_BYTES);
	z_stream zs = {0};
	int err = -ENOMEM;
	uint32_t x, y;

	if (!row || !chunk || deflateInit(&zs, 6) != Z_OK)
		goto out_free;
	zs.next_out = chunk;
	zs.avail_out = IDAT_CHUNK_BYTES;
	err = 0;
	for (y = 0; y < height && !err; y++) {
		const uint32_t *src =
		    (const uint32_t *)((const uint8_t *)pixels + y * stride_bytes);

		row[0] = 0;
		for (x = 0; x < width; x++) {
			row[1 + 3 * x] = (uint8_t)(src[x] >> 16);
			row[2 + 3 * x] = (uint8_t)(src[x] >> 8);
			row[3 + 3 * x] = (uint8_t)src[x];
		}
		err = deflate_feed(out, &zs, chunk, row, row_bytes, Z_NO_FLUSH);
	}
	if (!err)
		err = deflate_feed(out, &zs, chunk, NULL, 0, Z_FINISH);
	deflateEnd(&zs);
out_free:
	free(row);
	free(chunk);
	return err;
}

/*
 * Moves the finished temporary file to path without ever replacing a file
 * there: renameat2's RENAME_NOREPLACE, or link(2) where the filesystem has
 * no such rename. Either way an existing path makes it fail with -EEXIST.
 */
static int publish_new(const char *tmp, const char *path)
{
	if (renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -errno;
	if (link(tmp, path) < 0)
		return -errno;
	unlink(tmp);
	return 0;
}

/* Encodes the image into the open temporary file (closed here, whatever happens). */
static int write_stream(int fd, const uint32_t *pixels, uint32_t width, uint32_t height,
			size_t stride_bytes)
{
	struct png_out out = {.file = fdopen(fd, "wb")};
	int err;

	if (!out.file) {
		err = -errno;
		close(fd);
		return err;
	}
	out_header(&out, width, height);
	err = out_image(&out, pixels, width, height, stride_bytes);
	out_chunk(&out, "IEND", NULL, 0);
	if (!err)
		err = out.err;
	if (fclose(out.file) != 0 && !err)
		err = -errno;
	return err;
}

int png_write_xrgb(const char *path, const uint32_t *pixels, uint32_t width, uint32_t height,
		   size_t stride_bytes)
{
	struct stat st;
	char *tmp = NULL;
	int fd, err;

	if (width == 0 || height == 0 || width > PNG_MAX_DIMENSION || height > PNG_MAX_DIMENSION ||
	    stride_bytes < (size_t)width * 4)
		return -EINVAL;
	/* Checked first so a doomed encode is not paid for; publish_new decides for good. */
	if (lstat(path, &st) == 0)
		return -EEXIST;
	if (asprintf(&tmp, "%s.XXXXXX", path) < 0)
		return -ENOMEM;
	/* mkstemp: O_EXCL and mode 0600, so a screenshot is the user's alone. */
	fd = mkstemp(tmp);
	if (fd < 0) {
		err = -errno;
		free(tmp);
		return err;
	}
	err = write_stream(fd, pixels, width, height, stride_bytes);
	if (!err)
		err = publish_new(tmp, path);
	if (err)
		unlink(tmp);
	free(tmp);
	return err;
}
