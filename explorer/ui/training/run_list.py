"""The run list: a table model over the RunController and its view.

Tick a run to overlay its curves; select a run to show it in the gradient views; double-click a name
to rename it. The model only reads runs and forwards edits to the controller (``set_overlay``,
``rename``), which announces the change back through its signals.
"""
from __future__ import annotations

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QMenu, QTableView

from explorer.ui.training.plots.style import run_color
from explorer.ui.training.throttle import Throttle

COLUMNS = ("", "Name", "Architecture", "Data", "Status", "Val acc", "Train loss", "Settings")
STATUS_TEXT = {"pending": "queued", "running": "training", "paused": "paused", "finished": "finished",
               "stopped": "stopped", "failed": "failed"}


def settings_text(config: dict) -> str:
    return (f"{config.get('epochs', '?')} ep · bs {config.get('batch_size', '?')} · {config.get('optimizer', '?')} "
            f"lr {config.get('lr', '?')} · {config.get('schedule', '?')} · seed {config.get('seed', '?')}")


def _pct(v) -> str:
    return f"{100 * v:.1f} %" if isinstance(v, (int, float)) else ""


def _num(v) -> str:
    return f"{v:.4f}" if isinstance(v, (int, float)) else ""


class RunTableModel(QAbstractTableModel):
    def __init__(self, controller, parent=None):
        super().__init__(parent)
        self.c = controller
        self._ids: list[str] = controller.run_ids()
        controller.runAdded.connect(self._added)
        controller.runRemoved.connect(self._removed)
        controller.runChanged.connect(self._changed)
        controller.overlayChanged.connect(self._overlay)
        # Progress changes only the status text: refreshed twice a second, not per report.
        self._progressed: set[str] = set()
        self._progress_throttle = Throttle(self._flush_progress, 2.0, parent=self, duty=1.0)
        controller.progress.connect(self._progress)

    def run_id(self, row: int) -> str:
        return self._ids[row]

    def row_of(self, run_id: str) -> int:
        return self._ids.index(run_id) if run_id in self._ids else -1

    # -- controller -> rows -----------------------------------------------------------------------
    def _added(self, run_id: str) -> None:
        n = len(self._ids)
        self.beginInsertRows(QModelIndex(), n, n)
        self._ids.append(run_id)
        self.endInsertRows()

    def _removed(self, run_id: str) -> None:
        row = self.row_of(run_id)
        if row >= 0:
            self.beginRemoveRows(QModelIndex(), row, row)
            self._ids.pop(row)
            self.endRemoveRows()

    def _changed(self, run_id: str) -> None:
        row = self.row_of(run_id)
        if row >= 0:
            self.dataChanged.emit(self.index(row, 0), self.index(row, len(COLUMNS) - 1))

    def _progress(self, run_id: str, _report) -> None:
        self._progressed.add(run_id)
        self._progress_throttle.request()

    def _flush_progress(self) -> None:
        for rid in self._progressed:
            row = self.row_of(rid)
            if row >= 0:
                self.dataChanged.emit(self.index(row, 4), self.index(row, 4))
        self._progressed.clear()

    def _overlay(self) -> None:
        if self._ids:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._ids) - 1, 0))

    # -- Qt model interface -----------------------------------------------------------------------
    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._ids)

    def columnCount(self, parent=QModelIndex()) -> int:
        return len(COLUMNS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.ToolTipRole and section == 0:
            return "Tick to overlay this run's curves"
        return None

    def flags(self, index):
        f = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if index.column() == 0:
            f |= Qt.ItemFlag.ItemIsUserCheckable
        if index.column() == 1:
            f |= Qt.ItemFlag.ItemIsEditable
        return f

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        rid = self._ids[index.row()]
        feed = self.c.feed(rid)
        if feed is None:
            return None
        rec, col = feed.record, index.column()
        if role == Qt.ItemDataRole.CheckStateRole and col == 0:
            return Qt.CheckState.Checked if rid in self.c.overlay else Qt.CheckState.Unchecked
        if role == Qt.ItemDataRole.DecorationRole and col == 0:
            return run_color(self.c.color_index(rid))
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            if col == 1:
                return rec.name
            if col == 2:
                return rec.arch
            if col == 3:
                return rec.dataset
            if col == 4:
                text = STATUS_TEXT.get(rec.status, rec.status)
                p = feed.progress
                if rec.status in ("running", "paused") and p is not None:
                    text += f" {p.step}/{p.total_steps}"
                return text
            if col == 5:
                return _pct(rec.final.get("final_val_acc"))
            if col == 6:
                return _num(rec.final.get("final_train_loss"))
            if col == 7:
                return settings_text(rec.config)
        if role == Qt.ItemDataRole.ToolTipRole:
            tip = f"{rec.name}: {rec.arch} on {rec.dataset}\n{settings_text(rec.config)}"
            if rec.message:
                tip += f"\n{rec.message}"
            return tip
        return None

    def setData(self, index, value, role=Qt.ItemDataRole.EditRole) -> bool:
        rid = self._ids[index.row()]
        if index.column() == 0 and role == Qt.ItemDataRole.CheckStateRole:
            self.c.set_overlay(rid, Qt.CheckState(value) == Qt.CheckState.Checked)
            return True
        if index.column() == 1 and role == Qt.ItemDataRole.EditRole:
            self.c.rename(rid, str(value))
            return True
        return False


class RunList(QTableView):
    settingsRequested = Signal(str)   # "train again with these settings"
    graphRequested = Signal(str)      # "open the graph this run trained"

    def __init__(self, controller, parent=None):
        super().__init__(parent)
        self.c = controller
        self.model_ = RunTableModel(controller, self)
        self.setModel(self.model_)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked | QAbstractItemView.EditTrigger.EditKeyPressed)
        self.verticalHeader().setVisible(False)
        self.setAlternatingRowColors(True)
        self.setWordWrap(False)
        h = self.horizontalHeader()
        h.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        h.setStretchLastSection(True)
        for col, width in enumerate((48, 150, 130, 70, 110, 64, 76)):
            self.setColumnWidth(col, width)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.customContextMenuRequested.connect(self._menu)
        self.selectionModel().currentRowChanged.connect(self._current)
        controller.focusChanged.connect(self._select)

    def _current(self, current, _previous) -> None:
        if current.isValid():
            self.c.set_focus(self.model_.run_id(current.row()))

    def _select(self, run_id: str) -> None:
        row = self.model_.row_of(run_id)
        if row >= 0 and self.currentIndex().row() != row:
            self.setCurrentIndex(self.model_.index(row, 1))

    def _menu(self, pos) -> None:
        index = self.indexAt(pos)
        if not index.isValid():
            return
        rid = self.model_.run_id(index.row())
        menu = QMenu(self)
        for text, fn in (("Train again with these settings", lambda: self.settingsRequested.emit(rid)),
                         ("Open the graph this run trained", lambda: self.graphRequested.emit(rid)),
                         ("Rename", lambda: self.edit(self.model_.index(index.row(), 1)))):
            menu.addAction(QAction(text, menu, triggered=fn))
        delete = QAction("Delete run", menu, triggered=lambda: self.c.delete(rid))
        delete.setEnabled(rid != self.c.training_id)
        menu.addSeparator()
        menu.addAction(delete)
        menu.exec(self.viewport().mapToGlobal(pos))
