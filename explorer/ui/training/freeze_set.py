"""The nodes a run keeps fixed (``TrainConfig.freeze``), as one shared object: the training settings own
it, and the canvas context menu and the inspector toggle it through ``action(node_id)``. ``changed`` tells
every view (the form's field, the lock on the canvas, a menu's tick) to follow."""
from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction

FREEZE_TIP = "keep this node's weights fixed while training (fine-tuning); its BatchNorm statistics too"


class FreezeSet(QObject):
    changed = Signal()

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._ids: list[str] = []

    def ids(self) -> list[str]:
        return list(self._ids)

    def is_frozen(self, node_id: str) -> bool:
        return node_id in self._ids

    def set_ids(self, ids) -> None:
        fresh = list(dict.fromkeys(i.strip() for i in ids if i and i.strip()))
        if fresh != self._ids:
            self._ids = fresh
            self.changed.emit()

    def set_frozen(self, node_id: str, on: bool) -> None:
        if on != self.is_frozen(node_id):
            self.set_ids(self._ids + [node_id] if on else [i for i in self._ids if i != node_id])

    def toggle(self, node_id: str) -> None:
        self.set_frozen(node_id, not self.is_frozen(node_id))

    def action(self, node_id: str, parent: QObject | None = None) -> QAction:
        """A checkable "Freeze for Training" for ``node_id`` that stays in step with the set."""
        return FreezeAction(self, node_id, parent)


class FreezeAction(QAction):
    def __init__(self, freeze: FreezeSet, node_id: str, parent: QObject | None = None):
        super().__init__("Freeze for Training", parent)
        self.freeze, self.node_id = freeze, node_id
        self.setCheckable(True)
        self.setToolTip(FREEZE_TIP)
        self.setStatusTip(FREEZE_TIP)
        self._sync()
        self.toggled.connect(self._toggled)
        freeze.changed.connect(self._sync)   # a bound method: Qt drops the connection with the action

    def _toggled(self, on: bool) -> None:
        self.freeze.set_frozen(self.node_id, on)

    def _sync(self) -> None:
        on = self.freeze.is_frozen(self.node_id)
        if self.isChecked() != on:
            self.blockSignals(True)
            self.setChecked(on)
            self.blockSignals(False)
