"""Builders of small data files that declare far more than they hold (shared by the hostile-data tests
and the manual memory check ``tests/measure_hostile_data.py``).

Each builder writes into a folder and returns the data-set spec to load.  They write pickles opcode by
opcode, because pickle.dumps cannot produce what an attacker writes by hand.
"""

from __future__ import annotations

import gzip
import io
import os
import pickle
import struct
import zlib
from pathlib import Path

import numpy as np

# --- pickles by hand -----------------------------------------------------------

PROTO2 = b"\x80\x02"


def glob(module: str, name: str) -> bytes:
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"


def text(s: str) -> bytes:
    raw = s.encode()
    return b"X" + struct.pack("<I", len(raw)) + raw


def short_bytes(b: bytes) -> bytes:
    return b"C" + bytes([len(b)]) + b


def integer(n: int) -> bytes:
    return b"J" + struct.pack("<i", n)


def dtype_u1() -> bytes:
    return glob("numpy", "dtype") + text("u1") + b"\x89\x88\x87R"   # dtype("u1", False, True)


def array_from_count(shape: tuple[int, ...]) -> bytes:
    """An ndarray of ``shape`` whose data is bytes(n): n is only a number in the file."""
    n = int(np.prod(shape))
    out = glob("numpy._core.multiarray", "_reconstruct") + glob("numpy", "ndarray")
    out += integer(0) + b"\x85" + short_bytes(b"b") + b"\x87R"
    out += b"(" + integer(1) + b"(" + b"".join(integer(d) for d in shape) + b"t" + dtype_u1() + b"\x89"
    out += glob("builtins", "bytes") + integer(n) + b"\x85R" + b"tb"
    return out


def array_by_calling_ndarray(shape: tuple[int, ...]) -> bytes:
    """numpy.ndarray(shape, "u1") called straight from the pickle: uninitialised memory of any size."""
    return glob("numpy", "ndarray") + b"(" + b"".join(integer(d) for d in shape) + b"t" + text("u1") + b"\x86R"


def batch_pickle(data: bytes, labels: bytes) -> bytes:
    return PROTO2 + b"}(" + text("data") + data + text("labels") + labels + b"u."


def tiny_bomb_batch(n: int = 300_000) -> bytes:
    """The 'safe' CIFAR batch of a few hundred bytes that declares ``n`` images."""
    return batch_pickle(array_from_count((n, 3072)), array_from_count((n,)))


def object_array_with_short_state() -> bytes:
    """An object array whose state lists fewer items than its shape: numpy 2.4 crashes on it."""
    out = glob("numpy._core.multiarray", "_reconstruct") + glob("numpy", "ndarray")
    out += integer(0) + b"\x85" + short_bytes(b"b") + b"\x87R"
    out += b"(" + integer(1) + integer(5) + b"\x85" + glob("numpy", "dtype") + text("O") + b"\x89\x88\x87R"
    out += b"\x89" + b"]" + integer(1) + b"a" + b"tb"
    return batch_pickle(out, b"]")


def shared_nested_labels(n: int = 2_000) -> bytes:
    """Labels as n references to one list of n ints: tiny in a pickle, n×n once numpy sees it."""
    inner = b"](" + b"K\x01" * n + b"e" + b"q\x01"          # memoised as 1
    outer = b"](" + inner + b"h\x01" * (n - 1) + b"e"
    data = pickle.dumps(np.zeros((n, 3072), np.uint8), protocol=2)[2:-1]
    return PROTO2 + b"}(" + text("data") + data + text("labels") + outer + b"u."


def repeated_encode(copies: int, size: int) -> bytes:
    """One memoised str turned into bytes again and again: every copy is new memory."""
    big = b"X" + struct.pack("<I", size) + b"a" * size + b"q\x02"
    one = glob("_codecs", "encode") + b"q\x03" + b"(" + big + text("latin1") + b"tR"
    again = b"h\x03(h\x02" + text("latin1") + b"tR"
    return PROTO2 + b"(" + one + again * (copies - 1) + b"l."


def many_opcodes(count: int) -> bytes:
    """A list of ``count`` empty lists: two bytes of pickle each, 64 bytes of memory each."""
    return PROTO2 + b"]" + b"]a" * count + b"."


# --- CIFAR folders -----------------------------------------------------------------


def cifar_folder(root: Path, batch: bytes) -> str:
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True, exist_ok=True)
    ok = pickle.dumps({b"data": np.zeros((2, 3072), np.uint8), b"labels": [0, 1]}, protocol=2)
    (folder / "data_batch_1").write_bytes(batch)
    (folder / "test_batch").write_bytes(ok)
    return f"cifar10:{folder}"


# --- IDX -------------------------------------------------------------------------

def idx_header(dims: tuple[int, ...], code: int = 0x08) -> bytes:
    return struct.pack(">HBB", 0, code, len(dims)) + struct.pack(f">{len(dims)}I", *dims)


def write_idx_folder(folder: Path, images: bytes | None = None, gz_images: bool = False) -> None:
    """A tiny valid MNIST folder, with ``images`` replacing the training images when given."""
    folder.mkdir(parents=True, exist_ok=True)
    parts = {
        "train-images-idx3-ubyte": idx_header((2, 4, 4)) + bytes(32),
        "train-labels-idx1-ubyte": idx_header((2,)) + b"\x00\x01",
        "t10k-images-idx3-ubyte": idx_header((2, 4, 4)) + bytes(32),
        "t10k-labels-idx1-ubyte": idx_header((2,)) + b"\x00\x01",
    }
    for name, raw in parts.items():
        if name == "train-images-idx3-ubyte" and images is not None:
            if gz_images:
                (folder / (name + ".gz")).write_bytes(images)
            else:
                (folder / name).write_bytes(images)
            continue
        (folder / name).write_bytes(raw)


def gz_idx_bomb(path: Path, side: int = 30_000, count: int = 30_000, full: bool = False) -> None:
    """A gzip IDX of ``count`` side×side zero images; ``full`` writes every byte (1.7 MB at 30000²),
    otherwise only the header and a few bytes of payload."""
    with gzip.open(path, "wb", compresslevel=9) as f:
        f.write(idx_header((count, side, side)))
        if not full:
            f.write(bytes(1024))
            return
        chunk = bytes(1 << 24)
        left = count * side * side
        while left:
            f.write(chunk[:min(left, len(chunk))])
            left -= min(left, len(chunk))


def sparse_file(path: Path, size: int, head: bytes = b"") -> None:
    """A file of ``size`` bytes that occupies no disk: ``head`` then a hole."""
    with open(path, "wb") as f:
        f.write(head)
        f.truncate(size)


def fifo(path: Path) -> Path:
    os.mkfifo(path)
    return path


# --- images ------------------------------------------------------------------------

def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_declaring(width: int, height: int, colour: int = 2, depth: int = 8,
                  idat: bytes | None = None, extra: tuple[int, int, int] = (0, 0, 0)) -> bytes:
    """A PNG whose IHDR declares width×height; the image data is a small zlib stream unless given."""
    ihdr = struct.pack(">IIBBBBB", width, height, depth, colour, *extra)
    if idat is None:
        idat = zlib.compress(bytes(4096))
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b""))


def jpeg_declaring(width: int, height: int) -> bytes:
    """A small real JPEG whose frame header (SOF0) is patched to declare width×height."""
    from PIL import Image
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (10, 20, 30)).save(buf, "JPEG")
    data = bytearray(buf.getvalue())
    sof = data.index(b"\xff\xc0")
    data[sof + 5:sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def image_folder(root: Path, files: dict[str, bytes]) -> str:
    """A folder data set with two classes: ``a`` holds ``files``, ``b`` a valid tiny PNG."""
    from PIL import Image
    for cls in ("a", "b"):
        (root / cls).mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    Image.new("RGB", (4, 4), (1, 2, 3)).save(buf, "PNG")
    (root / "b" / "ok.png").write_bytes(buf.getvalue())
    for name, data in files.items():
        (root / "a" / name).write_bytes(data)
    return f"folder:{root}"
