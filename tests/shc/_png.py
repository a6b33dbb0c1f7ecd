"""A minimal PNG reader (greyscale, non-interlaced): enough to hand segno's PNGs to zxing-cpp.

Neither Pillow nor numpy is a dependency; zxing-cpp accepts a 2-D memoryview of 8-bit grey.
"""

from __future__ import annotations

import struct
import zlib


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def read_grey_png(data: bytes) -> tuple[int, int, bytes]:
    """(width, height, 8-bit grey pixels) of a greyscale PNG of bit depth 1 or 8."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat = 8, b""
    width = height = depth = 0
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert colour == 0, "greyscale only"
            assert depth in (1, 8)
            assert interlace == 0
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = (width * depth + 7) // 8
    prev = bytearray(stride)
    pixels = bytearray()
    for row in range(height):
        start = row * (stride + 1)
        method, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        for i in range(stride):
            left = line[i - 1] if i else 0
            up, corner = prev[i], prev[i - 1] if i else 0
            line[i] = (
                line[i] + (0, left, up, (left + up) // 2, _paeth(left, up, corner))[method]
            ) & 0xFF
        prev = line
        if depth == 8:
            pixels += line
        else:
            pixels += bytes(255 if line[x // 8] >> (7 - x % 8) & 1 else 0 for x in range(width))
    return width, height, bytes(pixels)
