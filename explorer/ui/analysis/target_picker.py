"""The "Analyse:" row: the current graph, the run selected in the run list, or a run folder on disk.

Run folders chosen here are remembered in the document's analysis file, so they are offered again (with
their saved results) when the document reopens. ``current()`` takes the snapshot a job runs on.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QFileDialog, QHBoxLayout, QPushButton, QSizePolicy, QWidget

from explorer.ui.analysis.targets import GRAPH_KEY, Target, folder_target, graph_target, listed_run_target

SELECTED_RUN = "run"


class TargetPicker(QWidget):
    targetChanged = Signal()
    folderAdded = Signal(str)

    def __init__(self, document, controller=None, parent=None):
        super().__init__(parent)
        self.doc, self.controller = document, controller
        self.combo = QComboBox()
        self.combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.combo.setMinimumContentsLength(10)
        self.combo.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.combo.setToolTip("What the tool runs on: the current graph, the run selected in the run list, or a "
                              "run folder with trained weights")
        self.browse = QPushButton("Run folder…")
        self.browse.setToolTip("Choose a folder written by `python main.py train ARCH --out DIR` or "
                               "`compare ARCH --out DIR` (its trained weights)")
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.combo, 1)
        row.addWidget(self.browse)
        self.browse.clicked.connect(self._browse)
        self.combo.currentIndexChanged.connect(lambda _i: self.targetChanged.emit())
        if controller is not None:
            controller.focusChanged.connect(lambda _id: self._refresh_run())
            controller.runChanged.connect(lambda rid: rid == controller.focus and self._refresh_run())
        self.folders: list[str] = []
        self.rebuild([])

    # -- entries --------------------------------------------------------------------------------------
    def rebuild(self, folders: list[str], select: str = GRAPH_KEY) -> None:
        """The entries for a (re)opened document: its graph, the selected run, its remembered folders."""
        self.folders = list(dict.fromkeys(folders))
        self.combo.blockSignals(True)
        self.combo.clear()
        self.combo.addItem(self._graph_label(), GRAPH_KEY)
        self.combo.addItem(self._run_label(), SELECTED_RUN)
        for f in self.folders:
            self.combo.addItem(folder_target(f, self._dataset()).label, f"folder:{f}")
            self.combo.setItemData(self.combo.count() - 1, f, Qt.ItemDataRole.ToolTipRole)   # the full path
        i = self.combo.findData(select)
        self.combo.setCurrentIndex(max(0, i))
        self.combo.blockSignals(False)
        self.targetChanged.emit()

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
        return self.combo.currentData() or GRAPH_KEY

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Choose a run folder (train --out or compare --out)")
        if folder:
            self.add_folder(folder)

    def _dataset(self) -> str:
        return getattr(self.doc, "dataset", "digits")

    def _graph_label(self) -> str:
        return graph_target(self.doc.graph, self._dataset(), getattr(self.doc, "path", None)).label

    def _run_label(self) -> str:
        rec = self._selected_record()
        return f"{rec.name} (selected run)" if rec is not None else "selected run (none selected)"

    def _selected_record(self):
        c = self.controller
        return c.record(c.focus) if c is not None and c.focus else None

    def _refresh_run(self) -> None:
        i = self.combo.findData(SELECTED_RUN)
        if i >= 0:
            self.combo.setItemText(i, self._run_label())
        if self.key() == SELECTED_RUN:
            self.targetChanged.emit()

    def refresh_graph_label(self) -> None:
        self.combo.setItemText(self.combo.findData(GRAPH_KEY), self._graph_label())

    # -- the snapshot ---------------------------------------------------------------------------------
    def current(self) -> Target | None:
        """The target as it is now (None: "selected run" with no run selected)."""
        key, dataset = self.key(), self._dataset()
        if key == GRAPH_KEY:
            return graph_target(self.doc.graph, dataset, getattr(self.doc, "path", None))
        if key == SELECTED_RUN:
            rec = self._selected_record()
            if rec is None:
                return None
            c = self.controller
            feed = c.feed(rec.id)
            store = c.store.folder if c.store is not None else None
            return listed_run_target(rec, getattr(feed, "checkpoint", None), store)
        return folder_target(Path(key.split(":", 1)[1]), dataset)
