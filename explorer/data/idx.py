"""Reader for the IDX format used by MNIST and Fashion-MNIST (optionally gzipped).

Layout: two zero bytes, a type code, the number of dimensions d, then d
big-endian uint32 sizes, then the values (big-endian) in row-major order.

The header is read and checked first: the declared payload must match the
file size (plain files) and fit the data set's budget, and a gzip stream is
inflated only up to the size its header declares, so a small crafted file
cannot make the reader allocate more than the header justifies.
"""

from __future__ import annotations

import gzip
import math
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

from explorer.util.untrusted import UntrustedInputError, read_capped

from .errors import DatasetError
from .files import file_size, open_file
from .limits import Budget

_TYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_GZIP_MAGIC = b"\x1f\x8b"
# Real MNIST-style files compress 2-5×; deflate can reach 1000× on constant data, which is what a
# crafted file declaring a large blank set would be.  Beyond a small floor a gzip file may declare at
# most this many times its own size.
MAX_GZIP_RATIO = 100
_GZIP_FLOOR = 16 << 20


@dataclass(frozen=True)
class IdxHeader:
    dims: tuple[int, ...]
    dtype: np.dtype

    @property
    def size(self) -> int:
        return 4 + 4 * len(self.dims)

    @property
    def count(self) -> int:
        return math.prod(self.dims)

    @property
    def payload(self) -> int:
        return self.count * self.dtype.itemsize


def _parse_header(read, where: str) -> IdxHeader:
    """Header from ``read(n)`` (a file's read or a slice of bytes), checked before any payload."""
    start = read(4)
    if len(start) < 4:
        raise DatasetError(f"{where} is too short for an IDX header")
    zero, code, ndim = struct.unpack(">HBB", start)
    if zero != 0 or code not in _TYPES or ndim == 0:
        raise DatasetError(f"{where} has bad IDX magic {start.hex()} "
                           "(expected 0000, a type code 08/09/0b/0c/0d/0e, and a dimension count)")
    raw_dims = read(4 * ndim)
    if len(raw_dims) < 4 * ndim:
        raise DatasetError(f"{where} is truncated inside its IDX header")
    dims = struct.unpack(f">{ndim}I", raw_dims)
    if ndim >= 2 and 0 in dims[1:]:
        raise DatasetError(f"{where} has an empty item shape {list(dims)}")
    return IdxHeader(dims, _TYPES[code])


def _check_kind(header: IdxHeader, where: str, ndim: int | None, dtype: np.dtype | None) -> None:
    if ndim is not None and len(header.dims) != ndim or dtype is not None and header.dtype != dtype:
        want = f"{ndim}-d {np.dtype(dtype).name if dtype is not None else ''}".strip()
        raise DatasetError(f"{where} must be a {want} IDX array, "
                           f"got {len(header.dims)}-d {header.dtype.name} {list(header.dims)}")


def _to_array(header: IdxHeader, payload: bytes) -> np.ndarray:
    values = np.frombuffer(payload, dtype=header.dtype).reshape(header.dims)
    return values.astype(header.dtype.newbyteorder("="), copy=True)


def parse_idx(raw: bytes, where: str) -> np.ndarray:
    """Parse IDX bytes into a native-endian numpy array, validating the size."""
    pos = 0

    def read(n: int) -> bytes:
        nonlocal pos
        pos += n
        return raw[pos - n:pos]

    header = _parse_header(read, where)
    expected = header.size + header.payload
    if expected != len(raw):
        raise DatasetError(f"{where} holds {len(raw)} bytes but its IDX header "
                           f"{list(header.dims)} of {header.dtype.name} needs {expected}")
    return _to_array(header, raw[header.size:])


def _read_payload(stream: BinaryIO, header: IdxHeader, where: str) -> bytes:
    # Never more than declared (plus one byte that shows trailing data): a gzip stream that goes
    # on inflating is stopped at the size its header justified.
    declared = f"the {header.payload} bytes its IDX header {list(header.dims)} of {header.dtype.name} declares"
    try:
        body = read_capped(stream, header.payload, where)
    except UntrustedInputError:
        raise DatasetError(f"{where} has data after {declared}") from None
    if len(body) < header.payload:
        raise DatasetError(f"{where} is truncated before {declared}")
    return body


def read_idx(path: Path, budget: Budget, ndim: int | None = None,
             dtype: np.dtype | None = None) -> np.ndarray:
    """Read an IDX file (plain or gzip), refusing before allocation what its header cannot justify.

    ``ndim``/``dtype`` are what the caller needs; ``budget`` is charged for the values.
    """
    where = str(path)
    size = file_size(path, "MNIST IDX file")
    try:
        with open_file(path, "MNIST IDX file") as raw_stream:
            # Sniff rather than trust the suffix: IDX starts 00 00, gzip 1f 8b.
            gz = raw_stream.read(2) == _GZIP_MAGIC
            raw_stream.seek(0)
            stream = gzip.GzipFile(fileobj=raw_stream, mode="rb") if gz else raw_stream
            header = _parse_header(stream.read, where)
            if not gz and header.size + header.payload != size:
                raise DatasetError(f"{where} holds {size} bytes but its IDX header "
                                   f"{list(header.dims)} of {header.dtype.name} needs "
                                   f"{header.size + header.payload}")
            _check_kind(header, where, ndim, dtype)
            if gz and header.payload > max(_GZIP_FLOOR, MAX_GZIP_RATIO * size):
                raise DatasetError(f"{where} is {size:,} bytes of gzip but its IDX header declares "
                                   f"{header.payload:,} bytes, more than {MAX_GZIP_RATIO}× its size; "
                                   "the file is damaged or crafted")
            budget.charge(header.count, where)
            return _to_array(header, _read_payload(stream, header, where))
    except (OSError, EOFError, zlib.error) as exc:
        # gzip reports truncation as EOFError and bad headers as BadGzipFile (an OSError).
        raise DatasetError(f"{where} cannot be read ({type(exc).__name__}: {exc})") from None
