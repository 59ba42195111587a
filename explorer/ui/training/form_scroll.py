"""The training form in its scroll area: up and down only, at least as wide as its labels and fields (Tab
never scrolls it sideways), the wheel scrolling it without changing a field the user has not clicked into,
and the note that training works on a copy of the graph above it while a run trains."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QScrollArea, QVBoxLayout, QWidget

from explorer.ui.wheel_guard import guard_wheel

FROZEN_NOTE = "Training works on a copy of the graph taken when you press Train: edits apply to the next run."


class FormScroll(QScrollArea):
    def __init__(self, form: QWidget, parent: QWidget | None = None):
        super().__init__(parent)
        self.note = QLabel(FROZEN_NOTE)
        self.note.setWordWrap(True)
        self.note.setStyleSheet("color: palette(placeholder-text);")
        self.note.setVisible(False)
        column = QWidget()
        lay = QVBoxLayout(column)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.note)
        lay.addWidget(form)
        lay.addStretch(1)
        guard_wheel(form)
        self.setWidgetResizable(True)
        self.setFrameShape(QScrollArea.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setWidget(column)
        self.setMinimumHeight(60)

    def needed_width(self) -> int:
        """The form's own width and the vertical scroll bar's."""
        return self.widget().minimumSizeHint().width() + self.verticalScrollBar().sizeHint().width()
