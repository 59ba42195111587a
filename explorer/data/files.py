"""The data layer's way to open files: regular files only, sizes checked before reading.

Wraps :mod:`explorer.util.untrusted` so that a FIFO, ``/dev/zero``, a folder or an oversized file is
one :class:`DatasetError` naming the path, never a hang, an unbounded read or another error type.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import BinaryIO

from explorer.util.untrusted import UntrustedInputError, read_regular_file, regular_file_size

from .errors import DatasetError


def file_size(path: Path, what: str) -> int:
    """Size of ``path`` if it is a regular file."""
    try:
        return regular_file_size(path, what)
    except UntrustedInputError as exc:
        raise DatasetError(str(exc)) from None


def read_file(path: Path, limit: int, what: str) -> bytes:
    """All bytes of the regular file ``path``, refused unread when larger than ``limit``."""
    try:
        return read_regular_file(path, limit, what)
    except UntrustedInputError as exc:
        raise DatasetError(str(exc)) from None


def open_file(path: Path, what: str) -> BinaryIO:
    """Open a regular file for streaming; never blocks on a FIFO swapped in after the check."""
    file_size(path, what)
    try:
        # O_NONBLOCK: if the path became a FIFO since the check, opening it must not wait for a writer.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise DatasetError(f"{path}: cannot read {what} ({exc.strerror or exc})") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise DatasetError(f"{path}: not a regular file (a device, FIFO or socket); give the path of a {what}")
    return os.fdopen(fd, "rb")

