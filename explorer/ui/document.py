"""The open document: one graph model, its undo stack, file path, dirty state, recent files, autosave.

The ``Graph`` object lives as long as the window; opening a file swaps its content in with one
``reset`` event, so every view subscribed to it stays subscribed. Reading a file happens completely
before anything is swapped, so a file that fails to load leaves the open graph untouched.

Autosave writes the graph every minute while there are unsaved changes to a per-process recovery pair
(``explorer.graph.recovery``: atomic, hashed, locked by this process). A clean exit deletes it; after a
crash the next start finds it and offers it back (``pending_recoveries``).
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

from PySide6.QtCore import QObject, QSettings, QStandardPaths, QTimer, Signal
from PySide6.QtGui import QUndoStack

from explorer.arch import DEFAULT_ARCH
from explorer.graph import Graph, recovery
from explorer.graph.fileio import dumps_graph, load_graph, save_graph
from explorer.graph.recovery import Recovery

MAX_RECENT = 10
DEFAULT_PRESET = DEFAULT_ARCH   # a named preset, so the palette and Open Preset bring it back
DEFAULT_INPUT = (1, 8, 8)   # the built-in digits data: 1×8×8 images, 10 classes
DEFAULT_DATASET = "digits"


def arrange(graph: Graph, direction: str = "LR", aspect: float | None = 1.35) -> Graph:
    """Lay out a graph that has no positions of its own yet (a preset, the default): layered, and
    wrapped into bands so it fills a view of this ``aspect`` instead of a thin strip."""
    from explorer.graph.layout import layered_layout, suggest_wrap

    layered_layout(graph, direction, suggest_wrap(graph, aspect) if aspect else None)
    return graph


def placed(graph: Graph, aspect: float | None = 1.35) -> Graph:
    """``graph`` laid out when its file gave its nodes no positions (all at one point: written by a script),
    in its own direction: before its items exist, so the canvas builds each once where it belongs instead of
    a pile that is then moved node by node (and painted whole while it is one pile)."""
    from explorer.graph.layout import has_positions

    if not has_positions(graph):
        arrange(graph, graph.direction, aspect)
    return graph


def default_graph(aspect: float | None = 1.35) -> Graph:
    """The network the window opens on: CIFAR ResNet-20 on the built-in digits (preset ``resnet20_digits``)."""
    from explorer.presets import build_preset

    return arrange(build_preset(DEFAULT_PRESET), aspect=aspect)


def blank_graph() -> Graph:
    """What File ▸ New starts from: an Input for the digits data and an Output, ready to fill in."""
    g = Graph(name="untitled")
    g.add_node("input", {"shape": list(DEFAULT_INPUT)}, node_id="input", pos=(0.0, 0.0))
    g.add_node("output", node_id="output", pos=(460.0, 0.0))
    return g


def recovery_dir() -> Path:
    base = QStandardPaths.writableLocation(QStandardPaths.AppDataLocation) or str(Path.home() / ".residual-explorer")
    return Path(base) / "recovery"


def pending_recoveries(report=None) -> list[Recovery]:
    """Recovery files left by instances that are no longer running, newest first; damaged ones are set
    aside and each is passed to ``report`` as one line."""
    found, problems = recovery.scan(recovery_dir())
    for line in problems:
        (report or (lambda text: print(f"warning: {text}", file=sys.stderr)))(line)
    return found


class Autosave(QObject):
    def __init__(self, doc: "Document", interval_ms: int = 60_000):
        super().__init__(doc)
        self.doc = doc
        self.file = recovery_dir() / f"autosave-{os.getpid()}.json"
        self.lock = recovery.OwnerLock(self.file.parent)
        self.lock.acquire()
        self._written_revision = -1
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.write_now)
        self.timer.start()

    def write_now(self) -> bool:
        """Write the recovery file if there is unsaved work it does not hold yet."""
        if not self.doc.dirty:
            self.discard()
            return False
        if self.doc.graph.revision == self._written_revision and self.file.exists():
            return False
        try:
            self.file.parent.mkdir(parents=True, exist_ok=True)
            self.lock.acquire()
            recovery.write_pair(self.file, dumps_graph(self.doc.graph), self.doc.path)
        except OSError:
            return False  # a full disk must not interrupt editing; the next tick tries again
        self._written_revision = self.doc.graph.revision
        return True

    def discard(self) -> None:
        Recovery(self.file, None, 0).discard()
        self._written_revision = -1


class Document(QObject):
    pathChanged = Signal(object)      # Path | None
    dirtyChanged = Signal(bool)
    recentChanged = Signal(list)
    opened = Signal()                 # the whole graph was replaced (path already set): views re-fit
    saved = Signal(object)            # Path: the graph was written there (a new name carries its runs along)

    def __init__(self, graph: Graph | None = None, settings: QSettings | None = None,
                 parent: QObject | None = None, autosave_ms: int = 60_000):
        super().__init__(parent)
        self.graph = Graph()
        if graph is not None:
            self.graph.replace_with(graph)
        self.graph.revision = 0
        self.stack = QUndoStack(self)
        self.path: Path | None = None
        self.settings = settings or QSettings()
        self.dataset = DEFAULT_DATASET
        self.stack.cleanChanged.connect(self._clean_changed)
        self.autosave = Autosave(self, autosave_ms)

    def _clean_changed(self, clean: bool) -> None:
        self.dirtyChanged.emit(not clean)

    # -- state ----------------------------------------------------------------------------------
    @property
    def dirty(self) -> bool:
        return not self.stack.isClean()

    @property
    def title(self) -> str:
        return self.path.name if self.path else (self.graph.name or "untitled")

    # -- replacing the whole graph --------------------------------------------------------------
    def set_graph(self, graph: Graph, path: Path | None = None, dirty: bool = False) -> None:
        self.graph.replace_with(graph)
        self.stack.clear()
        self.stack.setClean()
        if dirty:
            # a recovered graph is unsaved work: make the window say so until it is saved
            self.stack.resetClean()
        self._set_path(path)
        self.opened.emit()

    def new(self) -> None:
        self.set_graph(blank_graph())

    def open(self, path: str | os.PathLike) -> None:
        """Open a graph file; raises FileFormatError (with a message for the user) and changes nothing."""
        path = Path(path)
        graph = placed(load_graph(path))
        self.set_graph(graph, path.resolve())
        self.add_recent(path)

    def open_preset(self, name: str, direction: str = "LR", aspect: float | None = 1.35) -> None:
        from explorer.presets import build_preset

        self.set_graph(arrange(build_preset(name), direction, aspect))

    def save(self, path: str | os.PathLike | None = None) -> Path:
        """Save (atomically) to ``path`` or the current file; raises OSError with the reason."""
        target = Path(path) if path else self.path
        if target is None:
            raise ValueError("no file name yet: use Save As")
        if target.suffix.lower() != ".json":
            target = target.with_suffix(".json")
        save_graph(self.graph, target)
        self.stack.setClean()
        self._set_path(target.resolve())
        self.add_recent(target)
        self.autosave.discard()
        self.saved.emit(self.path)
        return target

    def _set_path(self, path: Path | None) -> None:
        if path != self.path:
            self.path = path
            self.pathChanged.emit(path)

    # -- recent files ---------------------------------------------------------------------------
    def recent_files(self) -> list[str]:
        value = self.settings.value("recentFiles", [])
        if isinstance(value, str):  # QSettings returns a lone string for a one-item list
            value = [value]
        return [v for v in (value or []) if isinstance(v, str)]

    def add_recent(self, path: str | os.PathLike) -> None:
        p = str(Path(path).resolve())
        files = [p] + [f for f in self.recent_files() if f != p]
        self.settings.setValue("recentFiles", files[:MAX_RECENT])
        self.recentChanged.emit(files[:MAX_RECENT])

    def clear_recent(self) -> None:
        self.settings.setValue("recentFiles", [])
        self.recentChanged.emit([])

    def close(self) -> None:
        """A clean exit: no recovery file is left behind."""
        self.autosave.timer.stop()
        self.autosave.discard()
        self.autosave.lock.release()
