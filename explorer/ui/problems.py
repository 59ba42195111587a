"""The problems list: every validation message with its fix; clicking one selects the node."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QListWidget, QListWidgetItem


def count_text(errors: int, warnings: int) -> str:
    """"2 errors, 1 warning": the words the status bar and this list share, so their counts agree."""
    parts = [f"{n} {word}{'s' * (n != 1)}" for n, word in ((errors, "error"), (warnings, "warning")) if n]
    return ", ".join(parts) or "no problems"


class ProblemsList(QListWidget):
    nodeActivated = Signal(str)
    countChanged = Signal(int, int)   # errors, warnings listed

    def __init__(self, analysis, parent=None):
        super().__init__(parent)
        self.setWordWrap(True)
        self.setAlternatingRowColors(True)
        self._shown: list | None = None
        analysis.updated.connect(self.show_analysis)
        self.itemClicked.connect(self._clicked)
        self.itemActivated.connect(self._clicked)
        self.show_analysis(analysis.result)

    def show_analysis(self, a) -> None:
        problems = sorted(a.problems, key=lambda p: (p.severity != "error", p.node_id or ""))
        if problems == self._shown:
            return  # the common case after an edit elsewhere: nothing to redraw
        self._shown = problems
        self.countChanged.emit(*self.counts())
        self.clear()
        if not problems:
            item = QListWidgetItem("No problems: the network is valid.")
            item.setFlags(Qt.ItemIsEnabled)
            self.addItem(item)
            return
        for p in problems:
            item = QListWidgetItem(("✗ " if p.severity == "error" else "⚠ ") + p.text)
            item.setData(Qt.UserRole, p.node_id or "")
            item.setForeground(QColor("#d93025" if p.severity == "error" else "#e37400"))
            item.setToolTip(p.text)
            self.addItem(item)

    def problem_count(self) -> int:
        return len(self._shown or [])

    def counts(self) -> tuple[int, int]:
        """(errors, warnings) listed."""
        errors = sum(p.severity == "error" for p in self._shown or [])
        return errors, self.problem_count() - errors

    def _clicked(self, item) -> None:
        nid = item.data(Qt.UserRole)
        if nid:
            self.nodeActivated.emit(nid)
