#!/usr/bin/env python3
"""Decodes a screenshot PNG with zlib alone (every chunk CRC checked) and
compares its pixels with the GPU test's pattern (tests/gpu/pattern.h), or
with --tile, any size, with guest/tests/gpu.sh's red/green/blue/white tile.
Usage: check_png.py [--tile] FILE.png"""
import struct
import sys
import zlib

W, H = 1024, 768
RECT = (100, 50, 200, 100)


TILE = [(0xFF, 0, 0), (0, 0xFF, 0), (0, 0, 0xFF), (0xFF, 0xFF, 0xFF)]


def expected_tile(x, y):
    return TILE[x % 4]


def expected(x, y):
    rx, ry, rw, rh = RECT
    if rx <= x < rx + rw and ry <= y < ry + rh:
        return (0xFF, (x + y) & 0xFF, 0x10)
    return ((x * 3 + y) & 0xFF, (y * 5) & 0xFF, (x ^ y) & 0xFF)


def read_png(path):
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("bad signature")
    pos, idat, ihdr, chunks = 8, b"", None, []
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        ctype = data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])
        if zlib.crc32(ctype + body) & 0xFFFFFFFF != crc:
            raise ValueError("CRC mismatch in %r" % ctype)
        chunks.append(ctype)
        if ctype == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif ctype == b"IDAT":
            idat += body
        pos += 12 + length
    if chunks[0] != b"IHDR" or chunks[-1] != b"IEND":
        raise ValueError("chunk order %r" % chunks)
    return ihdr, zlib.decompress(idat)


def main():
    tile = sys.argv[1] == "--tile"
    path = sys.argv[-1]
    ihdr, raw = read_png(path)
    width, height, depth, colour, _, _, interlace = ihdr
    want = expected_tile if tile else expected
    w, h = (width, height) if tile else (W, H)
    if (width, height, depth, colour, interlace) != (w, h, 8, 2, 0):
        print("not ok - png: header %r" % (ihdr,))
        return 1
    stride = 1 + 3 * w
    if len(raw) != stride * h:
        print("not ok - png: %d bytes of image data, expected %d" % (len(raw), stride * h))
        return 1
    bad = 0
    for y in range(h):
        row = raw[y * stride:(y + 1) * stride]
        if row[0] != 0:
            print("not ok - png: row %d uses filter %d" % (y, row[0]))
            return 1
        for x in range(w):
            if tuple(row[1 + 3 * x:4 + 3 * x]) != want(x, y):
                bad += 1
    print("%s - png: %s decodes to the %dx%d pattern (%d bad pixels)"
          % ("ok" if bad == 0 else "not ok", path, w, h, bad))
    return 0 if bad == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
