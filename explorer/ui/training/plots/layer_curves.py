"""Gradient magnitude against step for chosen layers of the focus run.

The layers are those of the node selected on the canvas or in the heatmap (a repeated stage has one
layer per repetition; at most ``MAX_CURVES`` of them, evenly spread); with nothing selected, the first,
middle and last layer, which already tells whether gradients reach the input. A fixed pool of curve
items is made once and reused: selecting another node only changes their data and names.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QWidget

from explorer.runs.feed import LAYER_QUANTITIES, node_of_key
from explorer.ui.training.plots.frozen_marks import frozen_rows
from explorer.ui.training.plots.plot_base import TrainingPlot
from explorer.ui.training.plots.style import (LINE, QUANTITY_SYMBOLS, fast_curve, fit_axis_label, fmt_value, pen,
                                              run_color)
from explorer.ui.training.throttle import GRADIENT_HZ, Throttle

MAX_CURVES = 6


def pick_rows(keys: list[str], node_id: str) -> list[int]:
    """Rows to draw: the node's layers (evenly thinned to MAX_CURVES), else first, middle, last."""
    rows = [i for i, k in enumerate(keys) if node_id and node_of_key(k) == node_id]
    if not rows:
        n = len(keys)
        rows = sorted({0, n // 2, n - 1}) if n else []
    if len(rows) > MAX_CURVES:
        idx = np.linspace(0, len(rows) - 1, MAX_CURVES).round().astype(int)
        rows = [rows[i] for i in sorted(set(idx))]
    return rows


class LayerCurves(TrainingPlot):
    def __init__(self, controller, parent: QWidget | None = None, throttle: Throttle | None = None):
        super().__init__(controller, parent, throttle, bottom="step", title="Selected layers", hz=GRADIENT_HZ,
                         log_y=True)
        self.quantity = "grad_norm"
        self.node = ""
        self.rows: list[int] = []
        self.label_fit = fit_axis_label(self.plot, "left", self._labels())
        self.pool = []
        for i in range(MAX_CURVES):
            c = fast_curve(pg.PlotDataItem(pen=pen(i + 3, 1.0)))  # colours apart from the first runs'
            c.setVisible(False)
            self.plot.addItem(c)
            self.pool.append(c)
        self._legend_names: list[str] = []
        controller.dataArrived.connect(lambda rid: self.throttle.request() if rid == controller.focus else None)
        controller.focusChanged.connect(lambda _id: self._restart())

    def _labels(self) -> list[str]:
        return [LAYER_QUANTITIES[self.quantity], QUANTITY_SYMBOLS.get(self.quantity, "")]

    def set_quantity(self, quantity: str) -> None:
        self.quantity = quantity
        self.label_fit.set_texts(self._labels())
        self._restart()

    def highlight_node(self, node_id: str) -> None:
        self.node = node_id or ""
        self._restart()

    def _restart(self) -> None:
        self.ranges.reset()

    def _series(self):
        feed = self.controller.feed(self.controller.focus)
        return feed.layers.get(self.quantity) if feed else None

    def redraw(self) -> None:
        s = self._series()
        keys = s.keys if s is not None else []
        self.rows = pick_rows(keys, self.node)
        frozen = set(frozen_rows(self.controller, self.controller.focus, keys)[0])
        names = [f"{keys[r]} (frozen)" if r in frozen else keys[r] for r in self.rows]   # its zero is no vanishing
        if names != self._legend_names:
            self.legend.set_entries([(run_color(i + 3), LINE, name) for i, name in enumerate(names)])
            self._legend_names = names
        steps = s.steps if s is not None and len(s) else np.empty(0)
        for i, c in enumerate(self.pool):
            if i < len(self.rows) and len(steps):
                c.setData(steps, 10.0 ** s.log10[:, self.rows[i]].astype(np.float64))
                c.setVisible(True)
            else:
                c.setVisible(False)
        if len(steps) and self.rows:
            logs = s.log10[:, self.rows]
            logs = logs[np.isfinite(logs) & (logs > -12)]  # -30: an exact zero, not part of the scale
            if logs.size:
                feed = self.controller.feed(self.controller.focus)
                end = float(steps[-1])
                if feed.active and feed.record.final.get("total_steps"):
                    end = max(end, float(feed.record.final["total_steps"]))
                self.ranges.update(0.0, end, float(logs.min()), float(logs.max()))
                return
        self.ranges.empty()   # nothing to show: no stale axes from an earlier run

    def csv_names(self) -> tuple[str, str]:
        return "x", self.quantity

    def curve_data(self):
        s = self._series()
        if s is None or not len(s):
            return
        for r in self.rows:
            yield s.keys[r], self.quantity, s.steps, 10.0 ** s.log10[:, r].astype(np.float64)

    def _hover(self, pos) -> None:
        s = self._series()
        if s is None or not len(s) or not self.plot.sceneBoundingRect().contains(pos):
            return
        x = self.plot.getViewBox().mapSceneToView(pos).x()
        i = int(np.argmin(np.abs(s.steps - x)))
        parts = [f"<b style='color:{run_color(k + 3).name()}'>{s.keys[r]}</b> {fmt_value(10.0 ** float(s.log10[i, r]))}"
                 for k, r in enumerate(self.rows)]
        self.readout.setText(f"step {s.steps[i]:,.0f}: " + " · ".join(parts))
