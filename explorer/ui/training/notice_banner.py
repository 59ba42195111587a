"""A message strip at the top of the training panel: what went wrong and what to do, or a notice.

Not a modal box: a run failing in the background must not stop the person mid-edit, and the window
keeps working. The newest message replaces the previous one; ✕ hides it.
"""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QToolButton

STYLES = {"error": "background:#fdecea; color:#8a1c12; border:1px solid #f5c2bd; border-radius:4px;",
          "info": "background:#e8f0fe; color:#174ea6; border:1px solid #c6dafc; border-radius:4px;"}


class NoticeBanner(QFrame):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.level = ""
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        close = QToolButton()
        close.setText("✕")
        close.setAutoRaise(True)
        close.clicked.connect(self.hide)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(6, 3, 3, 3)
        lay.addWidget(self.label, 1)
        lay.addWidget(close, 0, Qt.AlignmentFlag.AlignTop)
        self.hide()

    def show_message(self, text: str, level: str = "info") -> None:
        self.level = level
        self.setStyleSheet(f"NoticeBanner {{{STYLES.get(level, STYLES['info'])}}} QLabel {{border:none;}}")
        self.label.setText(text)
        self.show()

    def text(self) -> str:
        return self.label.text() if self.isVisible() else ""
