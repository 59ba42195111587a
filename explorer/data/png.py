"""A small pure-Python PNG decoder, used when Pillow is not installed.

Supports every non-interlaced PNG of the core colour types (grey, RGB,
palette, grey+alpha, RGBA) at bit depths 1..16.  Output is H×W×C uint8 with
C = 1 (grey) or 3 (colour); alpha is composited over black because the
networks see no transparency.  Scanline filters Sub and Up are vectorised;
Average and Paeth depend on the byte just decoded, so they run a Python loop
(a few ms for a 64×64 image, which is the size this app trains on).
"""

from __future__ import annotations

import struct
import zlib

import numpy as np

from .errors import DatasetError
from .limits import MAX_IMAGE_PIXELS

SIGNATURE = b"\x89PNG\r\n\x1a\n"
_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
_DEPTHS = {0: (1, 2, 4, 8, 16), 2: (8, 16), 3: (1, 2, 4, 8), 4: (8, 16), 6: (8, 16)}


def _chunks(data: bytes, where: str):
    pos = len(SIGNATURE)
    while True:
        if pos + 8 > len(data):
            raise DatasetError(f"{where}: PNG is truncated (no IEND chunk)")
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        end = pos + 8 + length
        if end + 4 > len(data):
            raise DatasetError(f"{where}: PNG chunk {kind!r} is truncated")
        body = data[pos + 8:end]
        (crc,) = struct.unpack(">I", data[end:end + 4])
        if zlib.crc32(kind + body) & 0xFFFFFFFF != crc:
            raise DatasetError(f"{where}: PNG chunk {kind!r} fails its CRC check (corrupt file)")
        yield kind, body
        if kind == b"IEND":
            return
        pos = end + 4


def _unfilter(raw: bytes, height: int, stride: int, bpp: int, where: str) -> np.ndarray:
    rows = np.frombuffer(raw, dtype=np.uint8, count=height * (stride + 1)).reshape(height, stride + 1)
    out = np.empty((height, stride), dtype=np.uint8)
    prev = np.zeros(stride, dtype=np.uint8)
    for y in range(height):
        kind, line = rows[y, 0], rows[y, 1:]
        if kind == 0:
            cur = line.copy()
        elif kind == 1:
            # Sub adds the byte bpp to the left: a running sum per byte lane,
            # and uint8 arithmetic wraps exactly like the PNG spec's mod 256.
            cur = line.reshape(-1, bpp).cumsum(axis=0, dtype=np.uint8).ravel()
        elif kind == 2:
            cur = line + prev
        elif kind in (3, 4):
            cur = np.frombuffer(_unfilter_slow(kind, line.tolist(), prev.tolist(), bpp),
                                dtype=np.uint8)
        else:
            raise DatasetError(f"{where}: PNG row {y} has unknown filter type {kind}")
        out[y] = cur
        prev = out[y]
    return out


def _unfilter_slow(kind: int, line: list[int], prev: list[int], bpp: int) -> bytearray:
    cur = bytearray(len(line))
    for i, value in enumerate(line):
        a = cur[i - bpp] if i >= bpp else 0
        b = prev[i]
        if kind == 3:
            cur[i] = (value + ((a + b) >> 1)) & 0xFF
            continue
        c = prev[i - bpp] if i >= bpp else 0
        p = a + b - c
        pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
        if pa <= pb and pa <= pc:
            predictor = a
        elif pb <= pc:
            predictor = b
        else:
            predictor = c
        cur[i] = (value + predictor) & 0xFF
    return cur


def _samples(rows: np.ndarray, width: int, channels: int, depth: int) -> np.ndarray:
    """Unpack scanline bytes into an H×W×channels array of sample values."""
    height = rows.shape[0]
    if depth == 16:
        # The high byte is the 8-bit value PNG's own scaling rule asks for.
        return rows.reshape(height, width * channels, 2)[:, :, 0].reshape(height, width, channels)
    if depth == 8:
        return rows.reshape(height, width, channels)
    bits = np.unpackbits(rows, axis=1).reshape(height, -1, depth)
    weights = (1 << np.arange(depth - 1, -1, -1)).astype(np.uint8)
    values = (bits * weights).sum(axis=2, dtype=np.uint8)
    return values[:, :width].reshape(height, width, 1)


def decode_png(data: bytes, where: str) -> np.ndarray:
    """Decode PNG bytes to H×W×C uint8 (C is 1 or 3); ``where`` names the file in errors."""
    if not data.startswith(SIGNATURE):
        raise DatasetError(f"{where}: not a PNG file (bad signature)")
    header = None
    palette = None
    idat = []
    for kind, body in _chunks(data, where):
        if kind == b"IHDR":
            if len(body) != 13:
                raise DatasetError(f"{where}: PNG IHDR has the wrong length")
            header = struct.unpack(">IIBBBBB", body)
            # Checked at once, before any image data is gathered or inflated.
            width, height = header[:2]
            if not width or not height or width * height > MAX_IMAGE_PIXELS:
                raise DatasetError(f"{where}: PNG declares {width}×{height} pixels, empty or more than "
                                   f"the {MAX_IMAGE_PIXELS:,} one image may have")
        elif header is None:
            raise DatasetError(f"{where}: PNG does not start with an IHDR chunk")
        elif kind == b"PLTE":
            if len(body) % 3 or not 0 < len(body) <= 768:
                raise DatasetError(f"{where}: PNG palette has a bad length")
            palette = np.frombuffer(body, dtype=np.uint8).reshape(-1, 3)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind != b"IEND" and kind[:1].isupper():
            # Critical chunks change how pixels decode; guessing would be wrong.
            raise DatasetError(f"{where}: PNG uses unsupported critical chunk {kind!r}")
    width, height, depth, colour, compression, filtering, interlace = header
    if colour not in _CHANNELS or depth not in _DEPTHS[colour]:
        raise DatasetError(f"{where}: PNG colour type {colour} with bit depth {depth} is invalid")
    if compression or filtering:
        raise DatasetError(f"{where}: PNG uses unknown compression/filter method")
    if interlace:
        raise DatasetError(f"{where}: interlaced PNG needs Pillow (pip install Pillow) "
                           "or re-save the image without interlacing")
    if colour == 3 and palette is None:
        raise DatasetError(f"{where}: palette PNG has no PLTE chunk")

    channels = _CHANNELS[colour]
    bits_per_pixel = channels * depth
    bpp = max(1, bits_per_pixel // 8)
    stride = (width * bits_per_pixel + 7) // 8
    expected = height * (stride + 1)
    try:
        inflater = zlib.decompressobj()
        # Bounded inflate: a bomb stops at the size the header promised.
        raw = inflater.decompress(b"".join(idat), expected)
    except zlib.error as exc:
        raise DatasetError(f"{where}: PNG image data is corrupt ({exc})") from None
    if len(raw) < expected:
        raise DatasetError(f"{where}: PNG image data is truncated")

    samples = _samples(_unfilter(raw, height, stride, bpp, where), width, channels, depth)
    if colour == 3:
        index = samples[:, :, 0]
        if int(index.max()) >= len(palette):
            raise DatasetError(f"{where}: PNG pixel refers past the end of its palette")
        return palette[index]
    if colour == 0 and depth < 8:
        return (samples.astype(np.uint16) * 255 // ((1 << depth) - 1)).astype(np.uint8)
    if colour in (4, 6):
        colour_part = samples[:, :, :-1].astype(np.uint16)
        alpha = samples[:, :, -1:].astype(np.uint16)
        return ((colour_part * alpha + 127) // 255).astype(np.uint8)
    return np.ascontiguousarray(samples)
