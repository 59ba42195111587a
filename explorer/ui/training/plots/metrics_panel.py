"""The "Loss & accuracy" tab: the two metric plots side by side and the options they share."""
from __future__ import annotations

from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QHBoxLayout, QLabel, QSplitter, QVBoxLayout,
                               QWidget)

from explorer.ui.training.plots.export import ExportButton
from explorer.ui.training.plots.metric_plot import MetricPlot
from explorer.ui.training.throttle import Throttle


class MetricsPanel(QWidget):
    def __init__(self, controller, on_error=None, parent: QWidget | None = None):
        super().__init__(parent)
        # One throttle for both plots: they change together, and redrawing both in one turn of the event
        # loop costs one window repaint instead of two.
        self.throttle = Throttle(None, parent=self, visible=self.isVisible)
        self.loss = MetricPlot(controller, "loss", throttle=self.throttle)
        self.acc = MetricPlot(controller, "acc", throttle=self.throttle)
        self.x_axis = QComboBox()
        self.x_axis.addItem("step", "step")
        self.x_axis.addItem("epoch", "epoch")
        self.x_axis.setToolTip("Plot against optimiser steps or epochs (runs with other batch sizes line up by epoch)")
        self.log_y = QCheckBox("log loss axis")
        self.log_y.setChecked(self.loss.log_y)   # on: a plain twin's loss spans many decades
        self.log_y.setToolTip("Logarithmic loss axis. Either way the range leaves out isolated spikes and "
                              "marks them with ▲ at the top edge")
        self.raw = QCheckBox("raw")
        self.raw.setChecked(True)
        self.raw.setToolTip("Show the unsmoothed training curve (faint) behind the smoothed one")
        self.smoothing = QDoubleSpinBox()
        self.smoothing.setRange(0.0, 0.99)
        self.smoothing.setSingleStep(0.05)
        self.smoothing.setValue(0.6)
        self.smoothing.setToolTip("Exponential moving average weight of the smoothed curve (0 = none)")
        bar = QHBoxLayout()
        bar.addWidget(QLabel("x axis"))
        bar.addWidget(self.x_axis)
        bar.addWidget(self.log_y)
        bar.addWidget(QLabel("smoothing"))
        bar.addWidget(self.smoothing)
        bar.addWidget(self.raw)
        bar.addStretch(1)
        self.exports = [ExportButton(self.loss, None, "loss", on_error),
                        ExportButton(self.acc, None, "accuracy", on_error)]
        for b in self.exports:
            bar.addWidget(b)
        split = QSplitter()
        split.addWidget(self.loss)
        split.addWidget(self.acc)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.addLayout(bar)
        lay.addWidget(split, 1)
        self.x_axis.currentIndexChanged.connect(self._x_mode)
        self.log_y.toggled.connect(self.loss.set_log_y)
        self.raw.toggled.connect(lambda on: [p.set_show_raw(on) for p in (self.loss, self.acc)])
        self.smoothing.valueChanged.connect(lambda w: [p.set_smoothing(w) for p in (self.loss, self.acc)])

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.throttle.shown()

    def draws(self, run_id: str) -> bool:
        """The run's curves are on screen: the next redraw pass (``throttle``) draws its newest points."""
        return self.isVisible() and run_id in self.loss.curves

    def _x_mode(self) -> None:
        mode = self.x_axis.currentData()
        for p in (self.loss, self.acc):
            p.set_x_mode(mode)
