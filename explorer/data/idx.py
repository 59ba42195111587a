"""Reader for the IDX format used by MNIST and Fashion-MNIST (optionally gzipped).

Layout: two zero bytes, a type code, the number of dimensions d, then d
big-endian uint32 sizes, then the values (big-endian) in row-major order.
"""

from __future__ import annotations

import gzip
import math
import struct
import zlib
from pathlib import Path

import numpy as np

from .errors import DatasetError

_TYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
# Far above any real IDX file; stops a crafted .gz from inflating without end.
MAX_BYTES = 2 << 30


def _read_bytes(path: Path) -> bytes:
    try:
        with open(path, "rb") as stream:
            magic = stream.read(2)
        # Sniff rather than trust the suffix: IDX starts 00 00, gzip 1f 8b.
        if magic == b"\x1f\x8b":
            with gzip.open(path, "rb") as stream:
                raw = stream.read(MAX_BYTES + 1)
            if len(raw) > MAX_BYTES:
                raise DatasetError(f"{path} inflates to more than {MAX_BYTES} bytes")
            return raw
        return path.read_bytes()
    except DatasetError:
        raise
    except (OSError, EOFError, zlib.error) as exc:
        # gzip reports truncation as EOFError and bad headers as BadGzipFile.
        raise DatasetError(f"{path} cannot be read ({type(exc).__name__}: {exc})") from None


def parse_idx(raw: bytes, where: str) -> np.ndarray:
    """Parse IDX bytes into a native-endian numpy array, validating the size."""
    if len(raw) < 4:
        raise DatasetError(f"{where} is too short for an IDX header")
    zero, code, ndim = struct.unpack(">HBB", raw[:4])
    if zero != 0 or code not in _TYPES or ndim == 0:
        raise DatasetError(f"{where} has bad IDX magic {raw[:4].hex()} "
                           "(expected 0000, a type code 08/09/0b/0c/0d/0e, and a dimension count)")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DatasetError(f"{where} is truncated inside its IDX header")
    dims = struct.unpack(f">{ndim}I", raw[4:header])
    dtype = _TYPES[code]
    expected = header + math.prod(dims) * dtype.itemsize
    if expected != len(raw):
        raise DatasetError(f"{where} holds {len(raw)} bytes but its IDX header "
                           f"{list(dims)} of {dtype.name} needs {expected}")
    if ndim >= 2 and 0 in dims[1:]:
        raise DatasetError(f"{where} has an empty item shape {list(dims)}")
    values = np.frombuffer(raw, dtype=dtype, offset=header).reshape(dims)
    return values.astype(dtype.newbyteorder("="), copy=True)


def read_idx(path: Path) -> np.ndarray:
    return parse_idx(_read_bytes(path), str(path))
