"""One way to read what comes from outside (files, JSON fields, checkpoint entries): numbers and files
are checked before anything is allocated or trusted, and every refusal is an ``UntrustedInputError``
whose message names the field and what would be acceptable.

Used by the graph file reader, the data loaders, checkpoints, run records and recovery files, so that
"1e400", NaN, a FIFO or a 6 GB file get the same clean answer everywhere.
"""
from __future__ import annotations

import math
import os
import stat
from pathlib import Path
from typing import Any, BinaryIO


class UntrustedInputError(ValueError):
    """A value or file from outside that we refuse; the message says which and why."""


def whole_number(value: Any, what: str, lo: int | None = None, hi: int | None = None) -> int:
    """``value`` as an int if it is a finite whole number (``3`` or ``3.0``) within [lo, hi]."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise UntrustedInputError(f"{what} must be a whole number, got {_show(value)}")
    if isinstance(value, float) and (not math.isfinite(value) or not value.is_integer()):
        raise UntrustedInputError(f"{what} must be a whole number, got {_show(value)}")
    n = int(value)
    if lo is not None and n < lo:
        raise UntrustedInputError(f"{what} must be at least {lo}, got {n}")
    if hi is not None and n > hi:
        raise UntrustedInputError(f"{what} must be at most {hi}, got {_show(n)}")
    return n


def finite_number(value: Any, what: str, lo: float | None = None, hi: float | None = None) -> float:
    """``value`` as a float if it is a finite number within [lo, hi]."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise UntrustedInputError(f"{what} must be a number, got {_show(value)}")
    try:
        x = float(value)
    except OverflowError:
        raise UntrustedInputError(f"{what} must be a finite number, got {_show(value)}") from None
    if not math.isfinite(x):
        raise UntrustedInputError(f"{what} must be a finite number, got {_show(value)}")
    if lo is not None and x < lo:
        raise UntrustedInputError(f"{what} must be at least {lo:g}, got {x:g}")
    if hi is not None and x > hi:
        raise UntrustedInputError(f"{what} must be at most {hi:g}, got {x:g}")
    return x


def text(value: Any, what: str, max_len: int = 10_000) -> str:
    if not isinstance(value, str):
        raise UntrustedInputError(f"{what} must be text, got {_show(value)}")
    if len(value) > max_len:
        raise UntrustedInputError(f"{what} is {len(value)} characters long (at most {max_len})")
    return value


def _show(value: Any) -> str:
    r = repr(value)
    return r if len(r) <= 40 else r[:37] + "..."


def regular_file_size(path: str | os.PathLike, what: str = "file") -> int:
    """The size of ``path`` if it is a regular file (not a FIFO, device or folder), else refuse."""
    try:
        st = os.stat(path)
    except OSError as e:
        raise UntrustedInputError(f"{path}: cannot read {what} ({e.strerror or e})") from None
    if not stat.S_ISREG(st.st_mode):
        kind = "a folder" if stat.S_ISDIR(st.st_mode) else "not a regular file (a device, FIFO or socket)"
        raise UntrustedInputError(f"{path}: {kind}; give the path of a {what}")
    return st.st_size


def read_capped(f: BinaryIO, limit: int, what: str) -> bytes:
    """Read all of ``f`` but refuse beyond ``limit`` bytes (streams: gzip members, pipes)."""
    data = f.read(limit + 1)
    if len(data) > limit:
        raise UntrustedInputError(f"{what} is larger than {limit / 2**20:.0f} MiB, more than it can justify")
    return data


def read_regular_file(path: str | os.PathLike, limit: int, what: str = "file") -> bytes:
    """The bytes of a regular file no larger than ``limit``; the size is checked before reading."""
    size = regular_file_size(path, what)
    if size > limit:
        raise UntrustedInputError(f"{path}: {size / 2**20:.1f} MiB is too large for a {what} "
                                  f"(limit {limit / 2**20:.0f} MiB)")
    try:
        with open(Path(path), "rb") as f:
            return read_capped(f, limit, f"{path}")
    except OSError as e:
        raise UntrustedInputError(f"{path}: cannot read {what} ({e.strerror or e})") from None
