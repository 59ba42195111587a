"""The run list: a table model over the RunController and its view.

Tick a run to overlay its curves; select a run to show it in the gradient views; double-click a name
to rename it. The model only reads runs and forwards edits to the controller (``set_overlay``,
``rename``), which announces the change back through its signals.

The view shows what a person compares (name, status, validation accuracy, training loss) in the width of
the training panel without scrolling sideways: the name takes what the others leave and is shortened at
the end of its network part (``run_name``: "resnet56 (plain twin) #2" keeps its suffix); hovering shows it in full with the run's
architecture, data and settings. Those three have columns too, hidden until chosen from the header's menu.
"""
from __future__ import annotations

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QMenu, QStyle, QTableView

from explorer.ui.training.plots.style import run_color
from explorer.ui.training.run_name import RunNameDelegate
from explorer.ui.training.throttle import Throttle

MIN_ROWS = 3
COLUMNS = ("", "Name", "Status", "Val acc", "Loss", "Architecture", "Data", "Settings")
TICK, NAME, STATUS, VAL_ACC, TRAIN_LOSS, ARCH, DATA, SETTINGS = range(len(COLUMNS))
HIDDEN = (ARCH, DATA, SETTINGS)     # in every run's tooltip; shown on request from the header's menu
WIDEST = {STATUS: "finished", VAL_ACC: "100.0%", TRAIN_LOSS: "0.0000"}  # sizes the value columns
STATUS_TEXT = {"pending": "queued", "running": "training", "paused": "paused", "finished": "finished",
               "stopped": "stopped", "failed": "failed"}


def settings_text(config: dict) -> str:
    return (f"{config.get('epochs', '?')} ep · bs {config.get('batch_size', '?')} · {config.get('optimizer', '?')} "
            f"lr {config.get('lr', '?')} · {config.get('schedule', '?')} · seed {config.get('seed', '?')}")


def _pct(v) -> str:
    return f"{100 * v:.1f}%" if isinstance(v, (int, float)) else ""


def _num(v) -> str:
    return f"{v:.3g}" if isinstance(v, (int, float)) else ""   # 2.16, 0.0612, 5.5e+07: narrow either way


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
                self.dataChanged.emit(self.index(row, STATUS), self.index(row, STATUS))
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
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.ToolTipRole:
            return {TICK: "Tick to overlay this run's curves", VAL_ACC: "Validation accuracy after the last epoch",
                    TRAIN_LOSS: "Training loss of the last epoch"}.get(section, "Right-click to show or hide columns")
        return None

    def flags(self, index):
        f = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if index.column() == TICK:
            f |= Qt.ItemFlag.ItemIsUserCheckable
        if index.column() == NAME:
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
        if role == Qt.ItemDataRole.CheckStateRole and col == TICK:
            return Qt.CheckState.Checked if rid in self.c.overlay else Qt.CheckState.Unchecked
        if role == Qt.ItemDataRole.DecorationRole and col == TICK:
            return run_color(self.c.color_index(rid))
        if role == Qt.ItemDataRole.TextAlignmentRole and col in (VAL_ACC, TRAIN_LOSS):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            if col == NAME:
                return rec.name
            if col == ARCH:
                return rec.arch
            if col == DATA:
                return rec.dataset
            if col == STATUS:
                return STATUS_TEXT.get(rec.status, rec.status)   # one word: the tooltip has the steps
            if col == VAL_ACC:
                return _pct(rec.final.get("final_val_acc"))
            if col == TRAIN_LOSS:
                return _num(rec.final.get("final_train_loss"))
            if col == SETTINGS:
                return settings_text(rec.config)
        if role == Qt.ItemDataRole.ToolTipRole:
            tip = f"{rec.name}: {rec.arch} on {rec.dataset}\n{settings_text(rec.config)}"
            p = feed.progress
            if rec.status in ("running", "paused") and p is not None:
                tip += f"\nstep {p.step} of {p.total_steps}"
            if rec.message:
                tip += f"\n{rec.message}"
            return tip
        return None

    def setData(self, index, value, role=Qt.ItemDataRole.EditRole) -> bool:
        rid = self._ids[index.row()]
        if index.column() == TICK and role == Qt.ItemDataRole.CheckStateRole:
            self.c.set_overlay(rid, Qt.CheckState(value) == Qt.CheckState.Checked)
            return True
        if index.column() == NAME and role == Qt.ItemDataRole.EditRole:
            self.c.rename(rid, str(value))
            return True
        return False


class RunList(QTableView):
    settingsRequested = Signal(str)   # "train again with these settings"
    graphRequested = Signal(str)      # "open the graph this run trained"
    startFromRequested = Signal(str)  # "start the next runs from this run's weights"
    fineTuneRequested = Signal(str)   # "fine-tune this run on another data set…"

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
        self.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.setItemDelegateForColumn(NAME, RunNameDelegate(self))
        h = self.horizontalHeader()
        h.setStretchLastSection(False)
        h.setMinimumSectionSize(24)
        h.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        h.setSectionResizeMode(NAME, QHeaderView.ResizeMode.Stretch)   # the name takes what is left
        fm, pad = self.fontMetrics(), 2 * self.style().pixelMetric(QStyle.PixelMetric.PM_HeaderMargin) + 8
        indicator = self.style().pixelMetric(QStyle.PixelMetric.PM_IndicatorWidth)
        self.setColumnWidth(TICK, indicator + fm.height() + 10)   # check box and colour swatch
        for col, sample in WIDEST.items():
            self.setColumnWidth(col, max(fm.horizontalAdvance(sample), fm.horizontalAdvance(COLUMNS[col])) + pad)
        for col in HIDDEN:
            self.setColumnWidth(col, fm.horizontalAdvance("resnet56 (plain twin)") + pad)
            self.setColumnHidden(col, True)
        # A comparison adds two runs to the one before it: three rows stay in view however short the panel.
        self.setMinimumHeight(h.sizeHint().height() + MIN_ROWS * self.verticalHeader().defaultSectionSize()
                              + 2 * self.frameWidth() + self.horizontalScrollBar().sizeHint().height())
        h.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        h.customContextMenuRequested.connect(self._header_menu)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.customContextMenuRequested.connect(self._menu)
        self.selectionModel().currentRowChanged.connect(self._current)
        controller.focusChanged.connect(self._select)

    def _header_menu(self, pos) -> None:
        menu = QMenu(self)
        for col in HIDDEN:
            act = QAction(COLUMNS[col], menu, checkable=True, checked=not self.isColumnHidden(col))
            act.toggled.connect(lambda on, col=col: self.setColumnHidden(col, not on))
            menu.addAction(act)
        menu.exec(self.horizontalHeader().viewport().mapToGlobal(pos))

    def _current(self, current, _previous) -> None:
        if current.isValid():
            self.c.set_focus(self.model_.run_id(current.row()))

    def _select(self, run_id: str) -> None:
        row = self.model_.row_of(run_id)
        if row >= 0 and self.currentIndex().row() != row:
            self.setCurrentIndex(self.model_.index(row, NAME))

    def _menu(self, pos) -> None:
        index = self.indexAt(pos)
        if not index.isValid():
            return
        rid = self.model_.run_id(index.row())
        menu = QMenu(self)
        for text, fn in (("Train again with these settings", lambda: self.settingsRequested.emit(rid)),
                         ("Open the graph this run trained", lambda: self.graphRequested.emit(rid)),
                         ("Rename", lambda: self.edit(self.model_.index(index.row(), NAME)))):
            menu.addAction(QAction(text, menu, triggered=fn))
        menu.addSeparator()
        # fine-tuning needs the run's weights on disk: a run of this session that trained to its end
        rec = self.c.record(rid)
        weights = rec is not None and bool(rec.config.get("out_dir")) and rec.status in ("finished", "stopped")
        for text, signal in (("Start From This Run's Weights", self.startFromRequested),
                             ("Fine-tune This Run on Another Data Set…", self.fineTuneRequested)):
            act = QAction(text, menu, triggered=lambda _=False, s=signal: s.emit(rid))
            act.setEnabled(weights)
            if not weights:
                act.setToolTip("only a finished run of this session has its weights kept")
            menu.addAction(act)
        delete = QAction("Delete run", menu, triggered=lambda: self.c.delete(rid))
        delete.setEnabled(rid != self.c.training_id)
        menu.addSeparator()
        menu.addAction(delete)
        menu.exec(self.viewport().mapToGlobal(pos))
