"""Gradient magnitude against layer depth at the newest step: the picture of vanishing and exploding
gradients. A plain deep net's curve falls towards the input; its residual twin's stays level with BatchNorm
(without it, a residual net's rises towards the input unless its branches start small: zero-γ, SkipInit, Fixup).

One curve per visible run (the focus run and the ticked ones), log y; the highlighted node's layers are
marked on the focus run's curve with one scatter item. With ``same_step`` every run is read at the last
step all of them reached (``explorer.runs.verdict.gradient_at``), so a finished plain twin and its network
are compared at the same moment of training, not the plain twin's end against the network's start.
"""
from __future__ import annotations

import math
from typing import Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QWidget

from explorer.runs.feed import LAYER_QUANTITIES, node_of_key
from explorer.runs.verdict import common_step, gradient_at
from explorer.ui.training.plots.frozen_marks import FrozenBands, frozen_rows
from explorer.ui.training.plots.plot_base import TrainingPlot
from explorer.ui.training.plots.style import (LINE, QUANTITY_SYMBOLS, fit_axis_label, fmt_value, pen, run_color,
                                              set_title)
from explorer.ui.training.throttle import GRADIENT_HZ, Throttle

MAX_TICKS = 12
SYMBOLS_UP_TO = 64


class DepthProfile(TrainingPlot):
    """``runs()`` says which runs to draw (default: the focus run and the visible ones)."""

    def __init__(self, controller, parent: QWidget | None = None, throttle: Throttle | None = None,
                 runs: Callable[[], list[str]] | None = None, same_step: bool = False):
        super().__init__(controller, parent, throttle, bottom="layer depth (input → output)", hz=GRADIENT_HZ,
                         log_y=True)
        self.runs = runs or self._visible_ids
        self.same_step = same_step
        self.step: float | None = None   # with same_step: the step shown
        self.quantity = "grad_norm"
        set_title(self.plot, self._title())
        self.label_fit = fit_axis_label(self.plot, "left", self._labels())
        self.frozen = FrozenBands(self.plot, "x")   # the focus run's frozen layers, greyed and labelled
        self.marks = pg.ScatterPlotItem(size=11, pen=pg.mkPen("#ff5252", width=2), brush=None)
        self.marks.setZValue(10)
        self.plot.addItem(self.marks)
        self.curves: dict[str, pg.PlotDataItem] = {}
        self._names: dict[str, str] = {}
        self._highlight = ""
        self._tick_keys: list[str] | None = None
        controller.dataArrived.connect(self._on_data)
        for sig in (controller.overlayChanged, controller.focusChanged, controller.runRemoved,
                    controller.runChanged, controller.trainingChanged):
            sig.connect(lambda *_: self._sync())

    def _labels(self) -> list[str]:
        return [LAYER_QUANTITIES[self.quantity], QUANTITY_SYMBOLS.get(self.quantity, "")]

    def _title(self) -> str:
        if not self.same_step:
            return "By depth, newest step"
        return f"By depth at step {self.step:,.0f} (both runs)" if self.step is not None else "By depth"

    def set_quantity(self, quantity: str) -> None:
        self.quantity = quantity
        self.label_fit.set_texts(self._labels())
        self.ranges.reset()

    def refresh(self) -> None:
        self._sync()

    def highlight_node(self, node_id: str) -> None:
        self._highlight = node_id or ""
        self.throttle.request()

    def _visible_ids(self) -> list[str]:
        ids = self.controller.visible_ids()
        focus = self.controller.focus
        return ([focus] if focus and focus not in ids else []) + ids

    def _on_data(self, run_id: str) -> None:
        if run_id in self.curves:
            self.throttle.request()

    def _sync(self) -> None:
        want = [r for r in self.runs() if self.controller.record(r) is not None]
        for rid in [r for r in self.curves if r not in want]:
            self.plot.removeItem(self.curves.pop(rid))
            self._names.pop(rid, None)
        for rid in want:
            rec = self.controller.record(rid)
            if rid not in self.curves:
                i = self.controller.color_index(rid)
                self.curves[rid] = pg.PlotDataItem(pen=pen(i, 1.0), symbolSize=5, symbolBrush=run_color(i),
                                                   symbolPen=None)
                self.plot.addItem(self.curves[rid])
            self._names[rid] = rec.name
        self.legend.set_entries([(run_color(self.controller.color_index(r)), LINE, self._names[r])
                                 for r in self.curves])
        self.throttle.request()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._tick_keys = None  # how many layer names fit depends on the width
        self.throttle.request()

    def _common_step(self) -> float | None:
        feeds = [self.controller.feed(r) for r in self.curves]
        return common_step(*[f.layers.get(self.quantity) if f else None for f in feeds]) if feeds else None

    def profile(self, run_id: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
        feed = self.controller.feed(run_id)
        if self.same_step:
            got = gradient_at(feed.layers.get(self.quantity), self.step) if feed else None
            v = got[1] if got else None
        else:
            v = feed.latest_values(self.quantity) if feed else None
        if v is None:
            return np.empty(0), np.empty(0), []
        keep = np.isfinite(v) & (v > 0)   # a log axis cannot show 0; NaN = no gradient reached the layer
        depth = np.arange(len(v), dtype=float)
        return depth[keep], v[keep], [k for k, ok in zip(feed.keys, keep) if ok]

    def redraw(self) -> None:
        if self.same_step:
            step = self._common_step()
            if step != self.step:
                self.step = step
                set_title(self.plot, self._title())
        focus_keys = None
        n, lo, hi = 0, math.inf, -math.inf
        for rid, curve in self.curves.items():
            x, y, keys = self.profile(rid)
            if len(y):
                n = max(n, int(x[-1]) + 1)
                lo, hi = min(lo, float(y.min())), max(hi, float(y.max()))
            # Dots mark the layers of shallow nets; on deep ones 1,000 symbols cost more than they show.
            symbol = "o" if len(x) <= SYMBOLS_UP_TO else None
            if curve.opts["symbol"] != symbol:
                curve.setSymbol(symbol)
            curve.setData(x, y)
            if rid == self.controller.focus or focus_keys is None:
                focus_keys, fx, fy = keys, x, y
        if hi >= lo:
            self.ranges.update(-0.5, n - 0.5, math.log10(lo), math.log10(hi))
            feed = self.controller.feed(self.controller.focus)
            rows = frozen_rows(self.controller, self.controller.focus, feed.keys)[0] if feed else []
            pad = max(0.5, (math.log10(hi) - math.log10(lo)) * 0.5)   # bands reach past the curves (log10 units)
            self.frozen.set(rows, (math.log10(lo) - pad, math.log10(hi) + pad))
        else:
            self.frozen.clear()
            self.ranges.empty()   # nothing to show: no stale axes or layer names from an earlier run
            focus_keys = None
        if focus_keys is None:
            self.marks.setData([], [])
            self._set_ticks([], np.empty(0))
            return
        self._set_ticks(focus_keys, fx)
        sel = [i for i, k in enumerate(focus_keys) if self._highlight and node_of_key(k) == self._highlight]
        if sel:  # a bare scatter item ignores the plot's log mode: give it log10 of the values
            self.marks.setData(fx[sel], np.log10(fy[sel]))
        else:
            self.marks.setData([], [])

    def _set_ticks(self, keys: list[str], x: np.ndarray) -> None:
        if keys == self._tick_keys:
            return
        self._tick_keys = list(keys)
        if not keys:
            self.plot.getAxis("bottom").setTicks(None)
            return
        fit = max(2, min(MAX_TICKS, self.widget.width() // 90))  # labels about 90 px apart
        every = max(1, -(-len(keys) // fit))
        self.plot.getAxis("bottom").setTicks([[(float(x[i]), keys[i]) for i in range(0, len(keys), every)], []])

    def csv_names(self) -> tuple[str, str]:
        return "x", self.quantity

    def curve_data(self):
        for rid in self.curves:
            x, y, keys = self.profile(rid)
            yield self.controller.record(rid).name, self.quantity, x, y

    def _hover(self, pos) -> None:
        if not self.plot.sceneBoundingRect().contains(pos) or not self.curves:
            return
        x = self.plot.getViewBox().mapSceneToView(pos).x()
        parts = []
        for rid in self.curves:
            xs, ys, keys = self.profile(rid)
            if not len(xs):
                continue
            i = int(np.argmin(np.abs(xs - x)))
            parts.append(f"<b style='color:{run_color(self.controller.color_index(rid)).name()}'>"
                         f"{self._names.get(rid, '')}</b> {keys[i]}: {fmt_value(float(ys[i]))}")
        self.readout.setText(" · ".join(parts) or " ")
