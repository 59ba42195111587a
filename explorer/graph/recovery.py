"""Crash-recovery files: unsaved work autosaved beside a small record, offered back after a crash.

A recovery is a pair: ``autosave-<pid>.json`` (a graph file) and ``autosave-<pid>.meta`` (where the work
came from, when it was saved, and the SHA-256 of the graph file). The graph is written first and the
record last, so a pair whose hash does not match was half written and is never taken for a valid one.
A live instance holds an exclusive lock on ``autosave-<pid>.lock`` for as long as it runs, so another
instance never offers (or deletes) a file that a running process owns. Anything damaged is moved into
``damaged/`` and reported, never allowed to stop start-up. No Qt.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path

from explorer.graph.fileio import MAX_BYTES, loads_graph
from explorer.graph.model import Graph
from explorer.util.atomic import write_atomic
from explorer.util.process import alive, valid_pid
from explorer.util.untrusted import UntrustedInputError, finite_number, read_regular_file, text

try:
    import fcntl
except ImportError:  # Windows: fall back to asking whether the pid is alive
    fcntl = None

META_FORMAT = "residual-explorer-recovery"
_NAME = re.compile(r"autosave-([0-9]+)")  # a pid out of range is damage, found by scan, not a name to skip


@dataclass
class Recovery:
    graph_file: Path
    original: Path | None
    saved_at: float

    def load(self) -> Graph:
        return loads_graph(read_regular_file(self.graph_file, MAX_BYTES, "recovery file"), source="recovered work")

    @property
    def document(self) -> str:
        """What the work was: the file it came from, or an unsaved document."""
        return self.original.name if self.original else "an unsaved document"

    def discard(self) -> None:
        """Delete the pair: only when the user says so, or once its work is open in a window."""
        for f in (self.graph_file, self.graph_file.with_suffix(".meta")):
            try:
                f.unlink()
            except OSError:
                pass

    def set_aside(self) -> None:
        """Move the pair into ``damaged/`` (it could not be opened); never deleted without a word."""
        set_aside(self.graph_file.parent, self.graph_file)


def write_pair(graph_file: Path, graph_text: str, original: Path | None) -> None:
    data = graph_text.encode("utf-8")
    write_atomic(graph_file, data)
    meta = {"format": META_FORMAT, "version": 1, "path": str(original) if original else None,
            "saved_at": time.time(), "sha256": hashlib.sha256(data).hexdigest()}
    write_atomic(graph_file.with_suffix(".meta"), json.dumps(meta))


class OwnerLock:
    """Held by a running instance for its recovery file; released when the process ends, however it ends."""

    def __init__(self, folder: Path, pid: int | None = None):
        self.path = folder / f"autosave-{pid or os.getpid()}.lock"
        self._fd: int | None = None

    def acquire(self) -> None:
        if fcntl is None or self._fd is not None:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            self._fd = fd
        except OSError:
            pass  # a read-only or odd folder: the pid check below still protects the file

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
            try:
                self.path.unlink()
            except OSError:
                pass


def _owned_by_live_process(folder: Path, pid: int) -> bool:
    if pid == os.getpid():
        return True
    lock = folder / f"autosave-{pid}.lock"
    if fcntl is not None and lock.exists():
        try:
            fd = os.open(lock, os.O_RDWR)
        except OSError:
            return True
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return True  # someone holds it: a live instance
        finally:
            os.close(fd)
        return False
    return alive(pid)


def _read_pair(graph_file: Path) -> Recovery:
    data = read_regular_file(graph_file, MAX_BYTES, "recovery file")
    raw = read_regular_file(graph_file.with_suffix(".meta"), 64 * 1024, "recovery record")
    try:
        meta = json.loads(raw)
    except (ValueError, RecursionError):
        raise UntrustedInputError("its record is not valid JSON") from None
    if not isinstance(meta, dict) or meta.get("format") != META_FORMAT:
        raise UntrustedInputError("its record is not a recovery record")
    if meta.get("sha256") != hashlib.sha256(data).hexdigest():
        raise UntrustedInputError("the graph and its record do not match (the save was interrupted)")
    original = meta.get("path")
    original = Path(text(original, "'path'", 4096)) if original is not None else None
    return Recovery(graph_file, original, finite_number(meta.get("saved_at"), "'saved_at'", 0))


def set_aside(folder: Path, graph_file: Path) -> None:
    damaged = folder / "damaged"
    try:
        damaged.mkdir(exist_ok=True)
        for f in (graph_file, graph_file.with_suffix(".meta")):
            if f.exists():
                os.replace(f, damaged / f.name)
    except OSError:
        pass  # cannot move it: it is reported again next time, which is still better than failing


def scan(folder: Path) -> tuple[list[Recovery], list[str]]:
    """Recoveries left by instances that are no longer running (newest first), and one line per damaged
    pair that was set aside."""
    found, problems = [], []
    if not folder.is_dir():
        return found, problems
    for f in sorted(folder.glob("autosave-*.json")):
        m = _NAME.fullmatch(f.stem)
        if m is None:
            continue  # not one of ours
        try:
            pid = int(m.group(1))
            if not valid_pid(pid):
                raise UntrustedInputError(f"{m.group(1)} in its name is no process id")
            if _owned_by_live_process(folder, pid):
                continue
            found.append(_read_pair(f))
        except UntrustedInputError as e:
            set_aside(folder, f)
            problems.append(f"recovery file {f.name} is damaged ({e}); it was moved to {folder / 'damaged'}")
    return sorted(found, key=lambda r: -r.saved_at), problems
