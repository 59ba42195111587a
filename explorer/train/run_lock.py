"""The lock a training holds on its run folder for as long as it writes there: an OS file lock
(``fcntl.flock`` on ``RUN/.run.lock``) that the kernel drops when the process ends however it ends, so a
crash never leaves a folder locked. A second training, import or resume into a locked folder is refused
with one line naming the process that holds it (its pid is written into the lock file).

Without fcntl (Windows) the lock is a no-op.
"""
from __future__ import annotations

import os
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None

LOCK_NAME = ".run.lock"


class RunFolderInUse(OSError):
    """Another process holds the run folder's lock; the message names it and the fix."""


class RunLock:
    def __init__(self, folder: str | os.PathLike) -> None:
        self.folder = Path(folder)
        self.path = self.folder / LOCK_NAME
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> "RunLock":
        """Take the lock (creating the folder); raises RunFolderInUse, or OSError when the folder cannot be
        written. The lock file is never deleted: unlinking it while others wait would let two hold it."""
        if fcntl is None or self._fd is not None:
            return self
        self.folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(fd)
            os.close(fd)
            who = f"process {holder}" if holder else "another process"
            raise RunFolderInUse(f"{self.folder} is in use by {who}, which is training into it: wait for it "
                                 f"to end, or choose another folder") from None
        except OSError:
            os.close(fd)
            raise
        try:
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
        except OSError:
            pass  # the lock holds without the note; only the message to a second run is vaguer
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> "RunLock":
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


def _holder(fd: int) -> int | None:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None
