"""Atomic file writes: a crash, a full disk or a second Ctrl-C mid-save leaves the old file, never half of one.

The temporary file sits beside the target (same file system, so the rename is atomic) and carries the writer's
pid (``.NAME.<pid>-XXXX.tmp``), so clean-up removes only leftovers of processes that are gone, never the
temporary another live process is writing (two trainings into one folder once deleted each other's). Saving through a
symlink writes the file it points to; an existing file keeps its permission bits, and a new one gets the
mode the umask allows (``mkstemp`` alone would make every saved file 0600).
"""
from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import BinaryIO, Callable

from explorer.util.process import alive


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_atomic_with(path: str | os.PathLike, write: Callable[[BinaryIO], None]) -> None:
    """Call ``write(binary_file)`` on a temporary file beside ``path``, then rename it over ``path``."""
    target = Path(os.path.realpath(path))
    try:
        mode = target.stat().st_mode & 0o7777
    except FileNotFoundError:
        mode = 0o666 & ~_umask()
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.{os.getpid()}-", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def write_atomic(path: str | os.PathLike, data: str | bytes) -> None:
    """Write text (UTF-8) or bytes atomically."""
    payload = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    write_atomic_with(path, lambda f: f.write(payload))


def remove_stale_temporaries(path: str | os.PathLike) -> list[Path]:
    """Delete leftovers of atomic writes to ``path`` that a process now gone never renamed; returns them.
    A temporary of a live process, or one whose name carries no pid, is not ours to delete."""
    target = Path(os.path.realpath(path))
    removed = []
    for tmp in target.parent.glob(f".{target.name}.*.tmp"):
        m = _WRITER.fullmatch(tmp.name[len(target.name) + 2:])
        if m is None or alive(int(m.group(1))):
            continue
        try:
            tmp.unlink()
            removed.append(tmp)
        except OSError:
            pass
    return removed


_WRITER = re.compile(r"([0-9]{1,19})-[^.]*\.tmp")
