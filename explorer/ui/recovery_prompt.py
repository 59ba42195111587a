"""The question after a crash: every recovery file left by instances that are no longer running, newest
first, each with its document and the time it was saved. Open one (it is deleted once its work is in the
window), delete the ones the user picks, or keep them all for the next start; nothing is deleted without
the user saying so. The files themselves are ``explorer.graph.recovery``'s."""
from __future__ import annotations

import time

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QListWidget, QListWidgetItem, QVBoxLayout

from explorer.graph.recovery import Recovery


def describe(r: Recovery) -> str:
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(r.saved_at))
    return f"{r.document} — saved {when}"


class RecoveryPrompt(QDialog):
    """``exec()`` then ``chosen``: the recovery to open, or None. ``deleted`` lists what the user deleted."""

    def __init__(self, found: list[Recovery], parent=None):
        super().__init__(parent)
        self.setWindowTitle("Recover unsaved work?")
        self.chosen: Recovery | None = None
        self.deleted: list[Recovery] = []
        text = QLabel("Residual Explorer did not close properly. This unsaved work was kept (newest first):")
        text.setWordWrap(True)
        self.list = QListWidget()
        for r in found:
            item = QListWidgetItem(describe(r))
            item.setData(Qt.ItemDataRole.UserRole, r)
            item.setToolTip(str(r.original or r.graph_file))
            self.list.addItem(item)
        self.list.setCurrentRow(0)
        self.list.itemDoubleClicked.connect(lambda _item: self._open())
        buttons = QDialogButtonBox()
        self.open_button = buttons.addButton("Open", QDialogButtonBox.ButtonRole.AcceptRole)
        self.delete_button = buttons.addButton("Delete", QDialogButtonBox.ButtonRole.DestructiveRole)
        self.keep_button = buttons.addButton("Keep for Later", QDialogButtonBox.ButtonRole.RejectRole)
        self.open_button.setDefault(True)
        self.open_button.clicked.connect(self._open)
        self.delete_button.clicked.connect(self._delete)
        self.keep_button.clicked.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(text)
        layout.addWidget(self.list)
        layout.addWidget(buttons)
        self.resize(560, 260)

    def _current(self) -> Recovery | None:
        item = self.list.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item is not None else None

    def _open(self) -> None:
        self.chosen = self._current()
        if self.chosen is not None:
            self.accept()

    def _delete(self) -> None:
        r = self._current()
        if r is None:
            return
        r.discard()
        self.deleted.append(r)
        self.list.takeItem(self.list.currentRow())
        if self.list.count() == 0:
            self.reject()
