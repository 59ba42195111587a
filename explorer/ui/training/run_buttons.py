"""The training panel's one fixed row of run controls: Train, Pause, Stop and Plain vs residual. It stays in
view under the scrolling form, also while training (Stop is never to be found by scrolling), and knows which
of its buttons a state allows: nothing starts while a run trains or while the graph has an error (the
buttons' tooltips then say which)."""
from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QPushButton, QWidget

TRAIN_TIP = "Train the network on the canvas with these settings"
COMPARE_TIP = ("Train this network's plain twin (shortcuts removed) and then the network itself with the same "
               "settings and seed, overlaid")


class RunButtons(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.train = QPushButton("Train")
        self.train.setToolTip(TRAIN_TIP)
        self.pause = QPushButton("Pause")
        self.pause.setCheckable(True)
        self.pause.toggled.connect(lambda on: self.pause.setText("Resume" if on else "Pause"))
        self.stop = QPushButton("Stop")
        self.compare = QPushButton("Plain vs residual")
        self.compare.setToolTip(COMPARE_TIP)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(4)
        for b in (self.train, self.pause, self.stop, self.compare):
            row.addWidget(b, 3 if b is self.compare else 2)

    def set_blocker(self, problem: str) -> None:
        """The graph's first error ("" when valid): the start buttons' tooltips say why they wait."""
        for button, tip in ((self.train, TRAIN_TIP), (self.compare, COMPARE_TIP)):
            button.setToolTip(f"Fix the graph first: {problem}" if problem else tip)

    def set_training(self, on: bool, blocked: bool) -> None:
        self.train.setEnabled(not on and not blocked)
        self.compare.setEnabled(not on and not blocked)
        self.pause.setEnabled(on)
        self.stop.setEnabled(on)
        if not on and self.pause.isChecked():   # a run that ended paused: the next one starts unpaused
            self.pause.blockSignals(True)
            self.pause.setChecked(False)
            self.pause.setText("Pause")
            self.pause.blockSignals(False)
