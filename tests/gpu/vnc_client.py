#!/usr/bin/env python3
"""A minimal RFB 3.8 client (stdlib only) that checks the GPU display's VNC
view: the picture must be the GPU test's pattern (check_png.expected),
pixel-exact, in two pixel formats; a second (non-shared) client must not
disconnect the first; clients that give up mid-handshake must leave the
server serving. Prints one "ok"/"not ok" line per check and exits 1 when
any failed. With --tile, one client checks a screen of any size for
guest/tests/gpu.sh's tile pattern instead (the boot test's view).
Usage: vnc_client.py [--tile] HOST PORT"""
import os
import socket
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check_png import TILE, H, W, expected  # noqa: E402

TIMEOUT_S = 10
RAW = 0
# (bits per pixel, depth, big endian, true colour, maxima, shifts): 32-bit little-endian.
BGRX = (32, 24, 0, 1, 255, 255, 255, 16, 8, 0)  # bytes B, G, R, X: the VMM's own layout
RGBX = (32, 24, 0, 1, 255, 255, 255, 0, 8, 16)  # bytes R, G, B, X: the server must convert


class Failed(Exception):
    pass


def recv_exact(sock, n):
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise Failed("server closed the connection after %d of %d bytes" % (len(buf), n))
        buf += chunk
    return bytes(buf)


def connect(host, port):
    return socket.create_connection((host, port), timeout=TIMEOUT_S)


def handshake(sock, shared):
    """Version 3.8, security None, ClientInit; returns (width, height, name)."""
    version = recv_exact(sock, 12)
    if version != b"RFB 003.008\n":
        raise Failed("server version %r" % version)
    sock.sendall(b"RFB 003.008\n")
    (count,) = struct.unpack("B", recv_exact(sock, 1))
    if count == 0:
        (length,) = struct.unpack(">I", recv_exact(sock, 4))
        raise Failed("server refused: %r" % recv_exact(sock, length))
    types = recv_exact(sock, count)
    if 1 not in types:
        raise Failed("security type None not offered (%r)" % types)
    sock.sendall(b"\x01")
    (result,) = struct.unpack(">I", recv_exact(sock, 4))
    if result != 0:
        raise Failed("SecurityResult %d" % result)
    sock.sendall(struct.pack("B", 1 if shared else 0))
    width, height = struct.unpack(">HH", recv_exact(sock, 4))
    recv_exact(sock, 16)  # the server's pixel format: we set our own
    (length,) = struct.unpack(">I", recv_exact(sock, 4))
    return width, height, recv_exact(sock, length).decode("latin-1")


def set_format(sock, fmt):
    sock.sendall(struct.pack(">B3xBBBBHHHBBB3x", 0, *fmt))
    sock.sendall(struct.pack(">BxHi", 2, 1, RAW))


def read_frame(sock, width, height):
    """Requests the whole screen and assembles the Raw rectangles that come back."""
    sock.sendall(struct.pack(">BBHHHH", 3, 0, 0, 0, width, height))
    frame = bytearray(width * height * 4)
    left = width * height
    while left > 0:
        (kind,) = struct.unpack("B", recv_exact(sock, 1))
        if kind != 0:
            raise Failed("unexpected server message type %d" % kind)
        (nrects,) = struct.unpack(">xH", recv_exact(sock, 3))
        for _ in range(nrects):
            x, y, w, h, enc = struct.unpack(">HHHHi", recv_exact(sock, 12))
            if enc != RAW or x + w > width or y + h > height:
                raise Failed("rectangle %dx%d+%d+%d encoding %d" % (w, h, x, y, enc))
            data = recv_exact(sock, w * h * 4)
            for row in range(h):
                start = (y + row) * width + x
                frame[start * 4:(start + w) * 4] = data[row * w * 4:(row + 1) * w * 4]
            # Rectangles do not overlap; if one did, the frame would come up
            # short of the picture and fail the comparison, never pass it.
            left -= w * h
    return frame


def pattern_bytes(order):
    """The expected frame in a format's byte order, the unused byte zero."""
    out = bytearray(W * H * 4)
    pos = 0
    for y in range(H):
        for x in range(W):
            r, g, b = expected(x, y)
            out[pos:pos + 3] = bytes((b, g, r)) if order == "bgr" else bytes((r, g, b))
            pos += 4
    return out


def compare(frame, want):
    frame = bytearray(frame)
    frame[3::4] = bytes(len(frame) // 4)  # padding byte: not part of the picture
    if frame == want:
        return 0, None
    bad = [i for i in range(0, len(want), 4) if frame[i:i + 3] != want[i:i + 3]]
    first = bad[0] // 4
    return len(bad), (first % W, first // W)


class Checks:
    def __init__(self):
        self.failed = 0

    def report(self, ok, what):
        print("%s - vnc: %s" % ("ok" if ok else "not ok", what), flush=True)
        if not ok:
            self.failed += 1

    def frame(self, sock, width, height, want, what):
        try:
            bad, first = compare(read_frame(sock, width, height), want)
            self.report(bad == 0, "%s: %d bad pixels%s"
                        % (what, bad, " (first at %d,%d)" % first if first else ""))
        except (OSError, Failed) as e:
            self.report(False, "%s: %s" % (what, e))

    def client(self, host, port, shared, fmt, what):
        """Connects and checks ServerInit; returns (socket, width, height) or None."""
        try:
            sock = connect(host, port)
            width, height, name = handshake(sock, shared)
        except (OSError, Failed) as e:
            self.report(False, "%s: handshake: %s" % (what, e))
            return None
        self.report((width, height) == (W, H),
                    "%s: RFB 3.8, security None, ServerInit %dx%d '%s'"
                    % (what, width, height, name))
        set_format(sock, fmt)
        return sock, width, height


def abort_clients(host, port):
    """Clients that give up at each step of the handshake; none may hurt the server."""
    steps = [b"", b"RFB 003.008\n", b"RFB 003", b"garbage!garbage!\n"]
    for sent in steps:
        sock = connect(host, port)
        if sent:
            recv_exact(sock, 12)
            sock.sendall(sent)
        sock.close()
    # One that chooses None and vanishes before ClientInit.
    sock = connect(host, port)
    recv_exact(sock, 12)
    sock.sendall(b"RFB 003.008\n")
    recv_exact(sock, 1)
    sock.sendall(b"\x01")
    sock.close()
    return len(steps) + 1


def tile_bytes(width, height):
    """The guest's tile pattern as B,G,R,X bytes, the unused byte zero."""
    row = b"".join(bytes((b, g, r, 0)) for r, g, b in TILE) * (width // 4)
    row += b"".join(bytes((b, g, r, 0)) for r, g, b in TILE[:width % 4])
    return bytearray(row * height)


def main_tile(host, port):
    checks = Checks()
    try:
        sock = connect(host, port)
        width, height, _ = handshake(sock, True)
    except (OSError, Failed) as e:
        checks.report(False, "handshake: %s" % e)
        return 1
    set_format(sock, BGRX)
    try:
        frame = bytearray(read_frame(sock, width, height))
        frame[3::4] = bytes(len(frame) // 4)
        want = tile_bytes(width, height)
        bad = sum(1 for i in range(0, len(want), 4096) if frame[i:i + 4096] != want[i:i + 4096])
        checks.report(bad == 0, "%dx%d view shows the guest's tile pattern "
                      "(%d bad 4 KiB blocks)" % (width, height, bad))
    except (OSError, Failed) as e:
        checks.report(False, "frame: %s" % e)
    sock.close()
    return 1 if checks.failed else 0


def main():
    if sys.argv[1] == "--tile":
        return main_tile(sys.argv[2], int(sys.argv[3]))
    host, port = sys.argv[1], int(sys.argv[2])
    checks = Checks()
    bgrx, rgbx = pattern_bytes("bgr"), pattern_bytes("rgb")
    first = checks.client(host, port, True, BGRX, "first client")
    if first:
        checks.frame(*first, bgrx, "first client: 32bpp B,G,R,X frame is the pattern")
    second = checks.client(host, port, False, RGBX, "second (non-shared) client")
    if second:
        checks.frame(*second, rgbx, "second client: 32bpp R,G,B,X frame is the pattern")
        second[0].close()
    try:
        n = abort_clients(host, port)
        checks.report(True, "%d clients gave up mid-handshake" % n)
    except (OSError, Failed) as e:
        checks.report(False, "clients giving up mid-handshake: %s" % e)
    if first:
        checks.frame(*first, bgrx, "first client still served after the others")
        first[0].close()
    third = checks.client(host, port, True, BGRX, "client after the aborted ones")
    if third:
        checks.frame(*third, bgrx, "client after the aborted ones: frame is the pattern")
        third[0].close()
    return 1 if checks.failed else 0


if __name__ == "__main__":
    sys.exit(main())
