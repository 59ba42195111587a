"""The "Analyse:" row: the current graph, any run of this document's run list, or a run folder on disk.

The runs are picked here, without going to the Training panel; the pick follows the run selected in the
run list, and without one it is the latest finished run. The current graph is offered only to tools that
can use it (``set_graph_allowed``): a tool that needs trained weights starts on a trained run. Run folders
chosen here are remembered in the document's analysis file, so they are offered again (with their saved
results) when the document reopens. ``current()`` takes the snapshot a job runs on; a run of a Plain vs
residual pair brings its partner, so the tools can show both side by side.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QFileDialog, QHBoxLayout, QPushButton, QSizePolicy, QWidget

from explorer.runs.verdict import find_pairs
from explorer.ui.analysis.targets import GRAPH_KEY, Target, folder_target, graph_label, graph_target, listed_run_target

RUN_PREFIX = "run:"
DONE = ("finished", "stopped")


class TargetPicker(QWidget):
    targetChanged = Signal()
    folderAdded = Signal(str)

    def __init__(self, document, controller=None, parent=None):
        super().__init__(parent)
        self.doc, self.controller = document, controller
        self.graph_allowed = True
        self.combo = QComboBox()
        self.combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.combo.setMinimumContentsLength(10)
        self.combo.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.combo.setToolTip("What the tool runs on: the current graph, one of this document's runs (the one "
                              "selected in the run list at first), or a run folder with trained weights")
        self.browse = QPushButton("Run folder…")
        self.browse.setToolTip("Choose a run folder with trained weights (last.pt or best.pt) from disk")
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.combo, 1)
        row.addWidget(self.browse)
        self.browse.clicked.connect(self._browse)
        self.combo.currentIndexChanged.connect(lambda _i: self.targetChanged.emit())
        if controller is not None:
            controller.runAdded.connect(lambda _id: self._fill(self.key()))
            controller.runRemoved.connect(lambda _id: self._fill(self.key()))
            controller.runChanged.connect(self._run_changed)
            controller.focusChanged.connect(self._follow)
        self.folders: list[str] = []
        self.rebuild([])

    # -- entries --------------------------------------------------------------------------------------
    def rebuild(self, folders: list[str], select: str = "") -> None:
        """The entries for a (re)opened document: its graph, its runs, its remembered folders."""
        self.folders = list(dict.fromkeys(folders))
        self._fill(select, announce=True)

    def set_graph_allowed(self, allowed: bool) -> None:
        """Offer the current graph (tools that can run on it) or not (tools that need trained weights)."""
        if allowed != self.graph_allowed:
            self.graph_allowed = allowed
            self._fill(self.key())

    def _fill(self, select: str, announce: bool = False) -> None:
        before = self.key()
        self.combo.blockSignals(True)
        self.combo.clear()
        if self.graph_allowed:
            self.combo.addItem(self._graph_label(), GRAPH_KEY)
        for rid in reversed(self._run_ids()):   # newest first
            self.combo.addItem(self._run_label(rid), RUN_PREFIX + rid)
        for f in self.folders:
            self.combo.addItem(folder_target(f, self._dataset()).label, f"folder:{f}")
            self.combo.setItemData(self.combo.count() - 1, f, Qt.ItemDataRole.ToolTipRole)   # the full path
        i = self.combo.findData(select) if select else -1
        if i < 0:
            i = self.combo.findData(self._default_key())
        self.combo.setCurrentIndex(max(0, i) if self.combo.count() else -1)
        self.combo.blockSignals(False)
        if announce or self.key() != before:
            self.targetChanged.emit()

    def _default_key(self) -> str:
        """The run selected in the run list, else the latest finished run, else the current graph."""
        c = self.controller
        if c is not None and c.focus and self._done(c.focus):
            return RUN_PREFIX + c.focus
        done = [rid for rid in self._run_ids() if self._done(rid)]
        if done:
            return RUN_PREFIX + done[-1]
        return GRAPH_KEY if self.graph_allowed else ""

    def add_folder(self, folder: str) -> None:
        """Offer ``folder`` (first among the folders) and select it."""
        key = f"folder:{folder}"
        if self.combo.findData(key) < 0:
            self.folders.insert(0, folder)
            self.combo.addItem(folder_target(folder, self._dataset()).label, key)
            self.combo.setItemData(self.combo.count() - 1, folder, Qt.ItemDataRole.ToolTipRole)
            self.folderAdded.emit(folder)
        self.combo.setCurrentIndex(self.combo.findData(key))

    def select(self, key: str) -> None:
        i = self.combo.findData(key)
        if i >= 0:
            self.combo.setCurrentIndex(i)

    def key(self) -> str:
        return self.combo.currentData() or ""

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Choose a run folder with trained weights")
        if folder:
            self.add_folder(folder)

    def _dataset(self) -> str:
        return getattr(self.doc, "dataset", "digits")

    def _graph_label(self) -> str:
        return graph_label(self.doc.graph, getattr(self.doc, "path", None))

    def _run_ids(self) -> list[str]:
        return self.controller.run_ids() if self.controller is not None else []

    def _done(self, run_id: str) -> bool:
        rec = self.controller.record(run_id)
        return rec is not None and rec.status in DONE

    def _run_label(self, run_id: str) -> str:
        rec = self.controller.record(run_id)
        return rec.name if rec.status in DONE else f"{rec.name} ({rec.status})"

    def _follow(self, run_id: str) -> None:
        """The run list selected ``run_id``: analyse that run (once it has weights)."""
        if run_id and self._done(run_id):
            self.select(RUN_PREFIX + run_id)

    def _run_changed(self, run_id: str) -> None:
        i = self.combo.findData(RUN_PREFIX + run_id)
        if i < 0:
            return
        self.combo.setItemText(i, self._run_label(run_id))
        if self.key() == RUN_PREFIX + run_id:
            self.targetChanged.emit()   # its weights arrived, or it was renamed
        elif self._done(run_id) and (not self.key() or run_id == self.controller.focus):
            self.select(RUN_PREFIX + run_id)   # the latest finished run, for a tool that had none

    def refresh_graph_label(self) -> None:
        i = self.combo.findData(GRAPH_KEY)
        if i >= 0:
            self.combo.setItemText(i, self._graph_label())

    # -- the snapshot ---------------------------------------------------------------------------------
    def current(self) -> Target | None:
        """The target as it is now (None: nothing to analyse, no run yet for a tool that needs one)."""
        key, dataset = self.key(), self._dataset()
        if not key:
            return None
        if key == GRAPH_KEY:
            return graph_target(self.doc.graph, dataset, getattr(self.doc, "path", None))
        if key.startswith(RUN_PREFIX):
            return self._run_target(key[len(RUN_PREFIX):])
        return folder_target(Path(key.split(":", 1)[1]), dataset)

    def _run_target(self, run_id: str) -> Target | None:
        c = self.controller
        rec = c.record(run_id) if c is not None else None
        if rec is None:
            return None
        twin = None
        # Either run of a Plain vs residual pair: the network's run, with its plain twin's beside it.
        for pair in find_pairs(r for r in (c.record(i) for i in c.run_ids()) if r is not None):
            if run_id in (pair.plain, pair.residual):
                rec, twin = c.record(pair.residual), c.record(pair.plain)
                break
        store = c.store.folder if c.store is not None else None
        return listed_run_target(rec, getattr(c.feed(rec.id), "checkpoint", None), store, twin,
                                 getattr(c.feed(twin.id), "checkpoint", None) if twin is not None else None)
