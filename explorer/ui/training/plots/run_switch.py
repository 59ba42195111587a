"""Which run the gradient views show, chosen where they are: a list of the runs (the one shown is the run
list's selection) and, for a run of a Plain vs residual pair, one button that shows the other run of it.

The views follow the run controller's focus, so switching here selects the run in the run list too. The
list never widens the window: a long run name is elided, whole in its tooltip.
"""
from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QHBoxLayout, QPushButton, QSizePolicy, QWidget

from explorer.runs.verdict import find_pairs, is_plain_twin


class RunSwitch(QWidget):
    def __init__(self, controller, parent: QWidget | None = None):
        super().__init__(parent)
        self.c = controller
        self.box = QComboBox()
        self.box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.box.setMinimumContentsLength(10)
        self.box.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.box.setToolTip("The run the heatmap, the by-depth plot and the layer curves show")
        self.other = QPushButton()
        self.other.setToolTip("Show the other run of this Plain vs residual comparison")
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.box, 1)
        lay.addWidget(self.other)
        self.partner = ""
        self.box.activated.connect(lambda i: self.c.set_focus(self.box.itemData(i) or ""))
        self.other.clicked.connect(lambda: self.c.set_focus(self.partner))
        for sig in (controller.runAdded, controller.runRemoved, controller.runChanged, controller.focusChanged):
            sig.connect(lambda _id: self.refresh())
        self.refresh()

    def refresh(self) -> None:
        c = self.c
        self.box.blockSignals(True)
        self.box.clear()
        for rid in c.run_ids():
            rec = c.record(rid)
            self.box.addItem(rec.name if rec.status == "finished" else f"{rec.name} ({rec.status})", rid)
        self.box.setCurrentIndex(self.box.findData(c.focus) if c.focus else -1)
        self.box.setToolTip(self.box.currentText() or "no run selected")
        self.box.blockSignals(False)
        self.partner = self._partner(c.focus)
        rec = c.record(self.partner) if self.partner else None
        self.other.setVisible(rec is not None)
        if rec is not None:
            self.other.setText("⇄ plain twin" if is_plain_twin(rec) else "⇄ network")

    def _partner(self, run_id: str) -> str:
        if not run_id:
            return ""
        records = [r for r in (self.c.record(i) for i in self.c.run_ids()) if r is not None]
        for pair in find_pairs(records):
            if run_id == pair.plain:
                return pair.residual
            if run_id == pair.residual:
                return pair.plain
        return ""
