"""The File actions: New, Open, Save, Save As, recent files, presets, export picture, and the questions
they ask (unsaved changes, crash recovery).

Every question goes through a ``Dialogs`` object, so tests (and a future headless mode) answer them
without a modal box; the real one uses QMessageBox and QFileDialog.

A large file is read and validated in a worker thread (``GraphLoad`` on the global thread pool) behind a
progress dialog that can be cancelled; only the finished ``Graph`` crosses back, and the document is
changed in the GUI thread, after the whole file has been read, so a refused or cancelled file changes nothing.
"""
from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFileDialog, QMenu, QMessageBox, QProgressDialog

from explorer.graph.fileio import FileFormatError, load_graph
from explorer.network.inference import analyze
from explorer.ui.document import placed

GRAPH_FILTER = "Residual Explorer graph (*.json)"
CLOSING = "closing the window"   # how the unsaved-changes question names closing


class Dialogs:
    """The questions the window asks, as plain methods. Replace for tests."""

    def __init__(self, parent=None):
        self.parent = parent

    def save_changes(self, title: str, runs: int = 0, action: str = CLOSING) -> str:
        """"save", "discard" or "cancel". ``runs``: training runs that are kept only until the graph has a file;
        ``action``: what is about to happen, e.g. "opening resnet56"."""
        answer = save_changes_box(self.parent, title, runs, action).exec()
        return {QMessageBox.Save: "save", QMessageBox.Discard: "discard"}.get(answer, "cancel")

    def stop_training(self, title: str, verb: str) -> bool:
        """A run of ``title`` is training: True to stop it and go on (``verb``: "close" or "open")."""
        box, stop = stop_training_box(self.parent, title, verb)
        box.exec()
        return box.clickedButton() is stop

    def open_path(self, start: str) -> str:
        return QFileDialog.getOpenFileName(self.parent, "Open graph", start, GRAPH_FILTER)[0]

    def save_path(self, start: str, filters: str = GRAPH_FILTER) -> str:
        return QFileDialog.getSaveFileName(self.parent, "Save as", start, filters)[0]

    def error(self, title: str, text: str) -> None:
        QMessageBox.critical(self.parent, title, text)

    def recover(self, found: list) -> "Recovery | None":
        """Offer every recovery (newest first); the one to open, or None. Deletes only what the user deletes."""
        from explorer.ui.recovery_prompt import RecoveryPrompt

        prompt = RecoveryPrompt(found, self.parent)
        prompt.exec()
        return prompt.chosen


def save_changes_box(parent, title: str, runs: int, action: str) -> QMessageBox:
    """The unsaved-changes question, worded by what is about to happen (``action``)."""
    box = QMessageBox(QMessageBox.Warning, "Unsaved changes", unsaved_text(title, runs),
                      QMessageBox.Save | QMessageBox.Discard | QMessageBox.Cancel, parent)
    box.setInformativeText(f"Save before {action}? Saving keeps the runs in a folder beside the file."
                           if runs else f"Save them before {action}?")
    box.setDefaultButton(QMessageBox.Save)
    return box


def stop_training_box(parent, title: str, verb: str):
    """(box, its stop button). Closing the window defaults to stopping (what closing means); opening
    another document defaults to Cancel: an Enter meant for a file dialog must not end a run."""
    box = QMessageBox(QMessageBox.Question, "Training is running",
                      f"A run of “{title}” is still training.", QMessageBox.Cancel, parent)
    box.setInformativeText(f"Stop it and {verb}? What it has trained so far is kept with the run.")
    stop = box.addButton(f"Stop and {verb}", QMessageBox.AcceptRole)
    box.setDefaultButton(stop if verb == "close" else box.button(QMessageBox.Cancel))
    return box, stop


def unsaved_text(title: str, runs: int) -> str:
    if not runs:
        return f"“{title}” has changes that are not saved."
    return (f"“{title}” has {runs} training run{'s' * (runs != 1)} that {'are' if runs != 1 else 'is'} kept only "
            "until the graph is saved.")


class _LoadSignals(QObject):
    finished = Signal(object, object)  # (GraphLoad, Graph | Exception)


class GraphLoad(QRunnable):
    """Reads and validates one graph file off the GUI thread. ``signals.finished`` carries the Graph, or
    the exception that refused it, back through a queued connection; the job touches no model or widget."""

    def __init__(self, path: str, aspect: float | None = None):
        super().__init__()
        self.setAutoDelete(False)  # FileActions keeps it (``_jobs``) until its result has arrived
        self.path = path
        self.aspect = aspect       # the view's, for a file without positions (see ``placed``)
        self.cancelled = False     # set in the GUI thread; the result is then dropped
        self.signals = _LoadSignals()

    def run(self) -> None:
        try:
            graph = placed(load_graph(self.path), self.aspect)
            analyze(graph)  # validation belongs to the wait too: the window's own pass then hits the cache
        except Exception as e:  # noqa: BLE001 - handed to the GUI thread, which shows or re-raises it
            self._tell(e)
            return
        self._tell(graph)

    def _tell(self, result) -> None:
        try:
            self.signals.finished.emit(self, result)
        except RuntimeError:   # the window closed while the file was read: nobody is left to tell
            pass


class FileActions(QObject):
    message = Signal(str)
    openFinished = Signal(str, bool)  # path, opened: after every open_path, also one done in the background
    background_bytes = 1_000_000      # files above this size load in a worker behind a progress dialog

    def __init__(self, document, scene, dialogs: Dialogs, parent=None):
        super().__init__(parent)
        self.doc, self.scene, self.dialogs = document, scene, dialogs
        self.layout_hint = lambda: ("LR", 1.35)  # (direction, view aspect): the window supplies the real one
        self.runs = None   # the run controller, once the training panel is installed: runs belong to the document
        self.new = self._action("&New", self.new_graph, QKeySequence.New, "start a new graph (Input and Output)")
        self.open = self._action("&Open…", self.open_dialog, QKeySequence.Open, "open a graph file")
        self.save = self._action("&Save", self.save_graph, QKeySequence.Save, "save the graph")
        self.save_as = self._action("Save &As…", self.save_graph_as, QKeySequence("Ctrl+Shift+S"),
                                    "save the graph under a new name")
        self.export_png = self._action("Export Picture as &PNG…", lambda: self.export("png"), None,
                                       "write the graph picture as a PNG image")
        self.export_svg = self._action("Export Picture as S&VG…", lambda: self.export("svg"), None,
                                       "write the graph picture as an SVG drawing")
        self._load: GraphLoad | None = None  # the one background load the progress dialog shows
        self._jobs: set[GraphLoad] = set()     # every job still running, cancelled ones too
        self.progress: QProgressDialog | None = None
        self.recent_menu = QMenu("Open &Recent")
        self.presets_menu = QMenu("Open &Preset")
        self._fill_presets()
        document.recentChanged.connect(lambda _: self._fill_recent())
        self._fill_recent()

    def _action(self, text, slot, keys, tip) -> QAction:
        a = QAction(text, self)
        if keys is not None:
            a.setShortcut(QKeySequence(keys))
        a.setStatusTip(tip)
        a.triggered.connect(slot)
        return a

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        files = self.doc.recent_files()
        for f in files:
            a = self.recent_menu.addAction(Path(f).name)
            a.setToolTip(f)
            a.setStatusTip(f)
            a.triggered.connect(lambda _=False, f=f: self.open_path(f))
        if files:
            self.recent_menu.addSeparator()
            self.recent_menu.addAction("Clear Menu").triggered.connect(self.doc.clear_recent)
        self.recent_menu.setEnabled(bool(files))

    def _fill_presets(self) -> None:
        try:
            from explorer.presets import list_presets
            presets = list_presets()
        except Exception:
            presets = []
        families: dict[str, QMenu] = {}
        for info in presets:
            menu = families.get(info.family)
            if menu is None:
                menu = families[info.family] = self.presets_menu.addMenu(info.family)
            a = menu.addAction(info.name)
            a.setStatusTip(info.description)
            a.triggered.connect(lambda _=False, n=info.name: self.open_preset(n))

    # -- unsaved changes ------------------------------------------------------------------------
    def maybe_save(self, verb: str = "open", keep_runs: bool = False, action: str = "") -> bool:
        """True when it is fine to let the current document go (``verb``: "open" another, or "close";
        ``action`` words the question, e.g. "opening resnet56").

        A run that trains is asked about first and stopped (so it ends recorded where it belongs); then
        unsaved edits and runs that exist only in memory (a graph without a file keeps them nowhere else)
        are saved or discarded. ``keep_runs``: the run list stays (a run's own graph is being opened)."""
        runs = None if keep_runs else self.runs
        if runs is not None and runs.is_training():
            if not self.dialogs.stop_training(self.doc.title, verb):
                return False
            runs.stop_and_wait()
        in_memory = runs.unsaved_runs() if runs is not None else 0
        if not self.doc.dirty and not in_memory:
            return True
        action = action or (CLOSING if verb == "close" else "opening another graph")
        answer = self.dialogs.save_changes(self.doc.title, in_memory, action)
        if answer == "save":
            return self.save_graph()
        return answer == "discard"

    # -- actions --------------------------------------------------------------------------------
    def new_graph(self) -> None:
        if self.maybe_save(action="starting a new graph"):
            self.doc.new()
            self.message.emit("new graph: drag blocks from the palette between Input and Output")

    def open_dialog(self) -> None:
        if not self.maybe_save():
            return
        start = str(self.doc.path.parent) if self.doc.path else os.getcwd()
        path = self.dialogs.open_path(start)
        if path:
            self.open_path(path, ask=False)

    def open_path(self, path: str, ask: bool = True) -> bool | None:
        """Open a graph file: True when opened, False when refused or not wanted, None when a large file goes
        on loading in the background (``openFinished`` says how it ended)."""
        if ask and not self.maybe_save(action=f"opening {Path(path).name}"):
            return False
        if self._load is not None:
            self.message.emit("still opening another file; wait or cancel it first")
            return False
        try:
            size = os.stat(path).st_size
        except OSError:
            size = 0  # the reader reports it, with the same words as for every other problem
        if size <= self.background_bytes:
            try:
                graph = placed(load_graph(path), self.layout_hint()[1])
            except FileFormatError as e:
                return self._finish(path, e)
            return self._finish(path, graph)
        self._load = job = GraphLoad(path, self.layout_hint()[1])
        self._jobs.add(job)
        job.signals.finished.connect(self._background_done, Qt.QueuedConnection)
        self.progress = QProgressDialog(f"Opening {Path(path).name} ({size / 1e6:.0f} MB)…", "Cancel", 0, 0,
                                        self._dialog_parent())
        self.progress.setWindowTitle("Opening graph")
        self.progress.setWindowModality(Qt.WindowModal)  # no edits to a graph that is about to be replaced
        self.progress.setMinimumDuration(0)
        self.progress.canceled.connect(self._cancel_load)
        self.progress.show()
        QThreadPool.globalInstance().start(job)
        return None

    def _dialog_parent(self):
        parent = self.parent()
        return parent if parent is not None and parent.isWidgetType() else None

    def _cancel_load(self) -> None:
        """The file goes on being read in its thread (a parser cannot be interrupted); its result is dropped."""
        job, self._load = self._load, None
        if job is not None:
            job.cancelled = True
            self._close_progress()
            self.message.emit(f"stopped opening {Path(job.path).name}; nothing changed")

    def _background_done(self, job: GraphLoad, result) -> None:
        self._jobs.discard(job)
        if job.cancelled:
            self.openFinished.emit(job.path, False)
            return
        self._load = None
        self._close_progress()
        if isinstance(result, Exception) and not isinstance(result, FileFormatError):
            self._finish(job.path, FileFormatError(f"{job.path}: could not be read ({result})"))
            raise result  # a bug, not a bad file: after the dialog, let it be seen
        self._finish(job.path, result)

    def _close_progress(self) -> None:
        if self.progress is not None:
            self.progress.canceled.disconnect(self._cancel_load)
            self.progress.close()
            self.progress.deleteLater()
            self.progress = None

    def _finish(self, path: str, result) -> bool:
        """Adopt a loaded graph, or show why it was refused; the open document changes only on success."""
        if isinstance(result, FileFormatError):
            self.dialogs.error("Cannot open graph",
                               f"{result}\n\nThe graph you have open was not changed. Check that the file is a "
                               "Residual Explorer graph (.json) saved by this program, or open another one.")
            self.message.emit(f"could not open {Path(path).name}; nothing changed")
            self.openFinished.emit(path, False)
            return False
        self.doc.set_graph(result, Path(path).resolve())
        self.doc.add_recent(path)
        self.message.emit(f"opened {path}")
        self.openFinished.emit(path, True)
        return True

    def open_preset(self, name: str) -> bool:
        if not self.maybe_save(action=f"opening {name}"):
            return False
        try:
            self.doc.open_preset(name, *self.layout_hint())
        except Exception as e:  # a broken preset must not take the window down
            self.dialogs.error("Cannot open preset", f"{name}: {e}")
            return False
        self.message.emit(f"opened preset {name}")
        return True

    def save_graph(self) -> bool:
        if self.doc.path is None:
            return self.save_graph_as()
        return self._save_to(self.doc.path)

    def save_graph_as(self) -> bool:
        start = str(self.doc.path) if self.doc.path else str(Path(os.getcwd()) / f"{self.doc.graph.name}.json")
        path = self.dialogs.save_path(start)
        return bool(path) and self._save_to(Path(path))

    def _save_to(self, path: Path) -> bool:
        try:
            written = self.doc.save(path)
        except OSError as e:
            self.dialogs.error("Cannot save", f"{path}: {e.strerror or e}\n\nNothing was overwritten. "
                                              "Choose another folder with Save As, or free some space.")
            return False
        self.message.emit(f"saved {written}")
        return True

    def export(self, kind: str) -> bool:
        from explorer.ui.export_image import export_png, export_svg

        start = str((self.doc.path.with_suffix(f".{kind}") if self.doc.path else
                     Path(os.getcwd()) / f"{self.doc.graph.name}.{kind}"))
        path = self.dialogs.save_path(start, f"{kind.upper()} image (*.{kind})")
        if not path:
            return False
        try:
            out = (export_png if kind == "png" else export_svg)(self.scene, path)
        except OSError as e:
            self.dialogs.error("Cannot export", f"{path}: {e}")
            return False
        self.message.emit(f"exported {out}")
        return True

    def offer_recovery(self, env_skip: str = "RESIDUAL_EXPLORER_NO_AUTOSAVE_PROMPT") -> bool:
        """After a crash: offer every recovery file, newest first. Returns True when one was opened; the
        others stay for the next start unless the user deleted them."""
        if os.environ.get(env_skip):
            return False
        from explorer.ui.document import pending_recoveries

        found = pending_recoveries(report=lambda line: self.message.emit(line))
        if not found:
            return False
        chosen = self.dialogs.recover(found)
        if chosen is None:
            return False
        try:
            graph = chosen.load()
        except (FileFormatError, OSError) as e:
            chosen.set_aside()
            self.dialogs.error("Cannot recover", f"{e}\n\nThe recovery file is damaged; it was moved to "
                                                 f"{chosen.graph_file.parent / 'damaged'}.")
            return False
        self.doc.set_graph(graph, chosen.original, dirty=True)
        chosen.discard()  # its work is in this window now, and autosaved under this instance
        self.message.emit("recovered unsaved work: save it to keep it")
        return True
