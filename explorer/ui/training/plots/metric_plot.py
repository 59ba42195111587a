"""Loss or accuracy of every visible run: training raw (faint) and smoothed, validation per epoch.

One set of three curve items per visible run, made when the run becomes visible and removed when it
is hidden; redraws only call ``setData``. The x axis is steps or epochs (steps ÷ steps per epoch, so
runs with different batch sizes line up by epoch).

The loss axis is logarithmic by default and its range leaves out isolated spikes (``spike_limit``): a
plain deep net's first validation loss can be 5.5e7 while every curve lies between 0.02 and 2.3, and a
range up to the spike would squash them all to the floor. A spike left out is marked with a triangle at
the top edge and its value. The legend is a row under the plot (runs by colour, then what solid and
dashed mean), so it never covers a curve.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QWidget

from explorer.runs.smoothing import ema
from explorer.ui.training.plots.plot_base import TrainingPlot
from explorer.ui.training.plots.ranges import spike_limit
from explorer.ui.training.plots.style import (DASHED, LINE, fast_curve, fit_axis_label, fmt_value, neutral_color, pen,
                                              run_color)
from explorer.ui.training.throttle import Throttle

METRICS = {  # metric -> (train series, validation series, y label, scale)
    "loss": ("train_loss", "val_loss", "loss", 1.0),
    "acc": ("train_acc", "val_acc", "accuracy (%)", 100.0),
}
SHORT_LABELS = {"acc": "%"}   # when the plot is too short for the whole label


class _RunCurves:
    def __init__(self, plot: pg.PlotItem, index: int, name: str):
        # One-pixel pens: Qt's raster engine draws wide lines several times slower.
        self.raw = fast_curve(pg.PlotDataItem(pen=pen(index, 1.0, alpha=70)))
        self.smooth = fast_curve(pg.PlotDataItem(pen=pen(index, 1.0)))
        self.val = pg.PlotDataItem(pen=pen(index, 1.0, dashed=True), symbol="o", symbolSize=6,
                                   symbolBrush=run_color(index), symbolPen=None)
        self.items = (self.raw, self.smooth, self.val)
        for it in self.items:
            plot.addItem(it)
        self.index, self.name = index, name

    def remove(self, plot: pg.PlotItem) -> None:
        for it in self.items:
            plot.removeItem(it)


def spike_text(name: str, tail: str, metrics: QFontMetrics, room: float) -> str:
    """"▲ off the scale: NAME TAIL" in ``room`` pixels: the run's name elided in its middle (its '#N' end
    kept), then "off the scale" dropped; the value in ``tail`` always shows whole."""
    for head in ("▲ off the scale: ", "▲ "):
        left = room - metrics.horizontalAdvance(head + tail)
        if left >= metrics.horizontalAdvance("m…m"):
            return head + metrics.elidedText(name, Qt.TextElideMode.ElideMiddle, int(left)) + tail
    return "▲" + tail


class MetricPlot(TrainingPlot):
    """``runs()`` says which runs to draw (default: the controller's visible runs); call ``refresh()``
    when its answer changes for a reason the controller does not announce."""

    def __init__(self, controller, metric: str, parent: QWidget | None = None, throttle: Throttle | None = None,
                 runs: Callable[[], list[str]] | None = None):
        super().__init__(controller, parent, throttle, bottom="step", title="Loss" if metric == "loss" else "Accuracy")
        self.runs = runs or controller.visible_ids
        self.metric_name = metric  # not "metric": that would hide QWidget.metric(), which painting calls
        self.train_key, self.val_key, ylabel, self.scale = METRICS[metric]
        self.x_mode = "step"
        self.smoothing = 0.6
        self.show_raw = True
        self.log_y = False
        self.label_fit = fit_axis_label(self.plot, "left", [ylabel, SHORT_LABELS.get(metric, "")])
        # Spikes above the view: one triangle each at the top edge, the largest one's value beside it.
        self.spike_marks = pg.ScatterPlotItem(symbol="t1", size=11, pen=None)
        self.spike_marks.setZValue(20)
        self.spike_label = pg.TextItem("", anchor=(1.0, 0.0), color=neutral_color())
        self.spike_label.setZValue(20)
        self.spikes: list[tuple[str, str, float, float]] = []   # (run name, series, x, y) left out of the range
        for it in (self.spike_marks, self.spike_label):
            self.plot.addItem(it, ignoreBounds=True)
        self.crosshair = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen((128, 128, 128, 120)))
        self.crosshair.setVisible(False)
        self.plot.addItem(self.crosshair, ignoreBounds=True)
        self.curves: dict[str, _RunCurves] = {}
        controller.dataArrived.connect(self._on_data)
        controller.overlayChanged.connect(self._sync)
        controller.runChanged.connect(self._on_run_changed)
        controller.runRemoved.connect(lambda _id: self._sync())
        controller.runStarted.connect(lambda _id: self._sync())
        controller.trainingChanged.connect(lambda _on: self._sync())
        controller.focusChanged.connect(lambda _id: self._sync())
        if metric == "loss":
            self.set_log_y(True)

    # -- options ----------------------------------------------------------------------------------
    def set_x_mode(self, mode: str) -> None:
        self.x_mode = mode
        self.plot.setLabel("bottom", mode)
        self.ranges.reset()

    def set_smoothing(self, weight: float) -> None:
        self.smoothing = weight
        self.throttle.request()

    def set_show_raw(self, on: bool) -> None:
        self.show_raw = on
        for c in self.curves.values():
            c.raw.setVisible(on)
        self._legend()
        self.throttle.request()

    def set_log_y(self, on: bool) -> None:
        self.log_y = on
        self.set_log_axis(on)
        self.ranges.reset()

    # -- keeping the curve set in step with the visible runs ----------------------------------------
    def _on_data(self, run_id: str) -> None:
        if run_id in self.curves or run_id in self.controller.visible_ids():
            self.throttle.request()

    def _on_run_changed(self, run_id: str) -> None:
        c = self.curves.get(run_id)
        rec = self.controller.record(run_id)
        if c is not None and rec is not None and rec.name != c.name:
            c.name = rec.name
        self._sync()

    def refresh(self) -> None:
        self._sync()

    def _sync(self) -> None:
        want = [r for r in self.runs() if self.controller.record(r) is not None]
        for rid in [r for r in self.curves if r not in want]:
            self.curves.pop(rid).remove(self.plot)
        for rid in want:
            if rid not in self.curves:
                rec = self.controller.record(rid)
                c = self.curves[rid] = _RunCurves(self.plot, self.controller.color_index(rid), rec.name)
                c.raw.setVisible(self.show_raw)
        self._legend()
        self.throttle.request()

    def _legend(self) -> None:
        runs = [(run_color(c.index), LINE, c.name) for c in self.curves.values()]
        key = [(neutral_color(), LINE, "training (smoothed" + (", raw faint)" if self.show_raw else ")")),
               (neutral_color(), DASHED, "validation (per epoch)")]
        self.legend.set_entries(runs + key if runs else [])

    # -- drawing ----------------------------------------------------------------------------------
    def _xy(self, run_id: str, key: str) -> tuple[np.ndarray, np.ndarray]:
        feed = self.controller.feed(run_id)
        s = feed.record.series.get(key) if feed else None
        if s is None or not len(s):
            return np.empty(0), np.empty(0)
        x = s.x / feed.steps_per_epoch if self.x_mode == "epoch" else s.x
        y = s.y * self.scale
        if self.log_y:  # a log axis cannot show 0 or less; such points are left out
            keep = y > 0
            x, y = x[keep], y[keep]
        return x, y

    def _planned_end(self, run_id: str, x: np.ndarray) -> float:
        """Where the x axis should end for this run: its planned last step while it trains."""
        feed = self.controller.feed(run_id)
        end = float(x[-1]) if len(x) else 0.0
        if feed is not None and feed.active and feed.record.final.get("total_steps"):
            total = float(feed.record.final["total_steps"])
            end = max(end, total / feed.steps_per_epoch if self.x_mode == "epoch" else total)
        return end

    def redraw(self) -> None:
        x_end, drawn = 0.0, []   # drawn: (run name, series, x, y) of every curve with points
        for rid, c in self.curves.items():
            x, y = self._xy(rid, self.train_key)
            sm = ema(y, self.smoothing) if len(y) else y
            if self.show_raw:
                c.raw.setData(x, y)
            c.smooth.setData(x, sm)
            xv, yv = self._xy(rid, self.val_key)
            c.val.setData(xv, yv)
            x_end = max(x_end, self._planned_end(rid, x))
            drawn += [(c.name, "training", x, y if self.show_raw else sm), (c.name, "training", x, sm),
                      (c.name, "validation", xv, yv)]
        drawn = [d for d in drawn if len(d[2])]
        if not drawn:
            # no stale axes from runs no longer shown (or a run that failed at once); accuracy in % on 0-100
            self.ranges.empty((0.0, 100.0) if self.metric_name == "acc" else (0.0, 1.0))
            self._mark_spikes([])
            return
        if self.metric_name == "acc":
            self.ranges.update(0.0, x_end, 0.0, 100.0)  # bounded: a fixed axis never needs re-rendering
            self._mark_spikes([])
            return
        view = [(n, s, x, np.log10(y) if self.log_y else y) for n, s, x, y in drawn]
        values = np.concatenate([v for *_, v in view])
        finite = values[np.isfinite(values)]
        if not len(finite):
            return
        lo, hi = float(finite.min()), spike_limit(finite)
        self.ranges.update(0.0, x_end, lo, hi)
        self._mark_spikes([(n, s, float(x[i]), float(y[i])) for n, s, x, y in view
                           for i in np.flatnonzero(np.isfinite(y) & (y > hi))])

    def _mark_spikes(self, spikes: list[tuple[str, str, float, float]]) -> None:
        """Mark points above the range: ``spikes`` are (run, series, x, y in view coordinates)."""
        (x0, x1), (y0, y1) = self.plot.getViewBox().viewRange()
        spikes = [s for s in spikes if s[3] > y1]   # only those the view really leaves out
        self.spikes = [(n, s, x, 10.0 ** y if self.log_y else y) for n, s, x, y in spikes]
        if not spikes:
            self.spike_marks.setData([], [])
            self.spike_label.setText("")
            return
        top = y1 - 0.04 * (y1 - y0)
        colors = {c.name: run_color(c.index) for c in self.curves.values()}
        self.spike_marks.setData([s[2] for s in spikes], [top] * len(spikes),
                                 brush=[colors.get(s[0], neutral_color()) for s in spikes])
        name, series, x, value = max(self.spikes, key=lambda s: s[3])
        more = f" (+{len(spikes) - 1} more)" if len(spikes) > 1 else ""
        whole = f"▲ off the scale: {name} {series} {fmt_value(value)}{more}"
        self.spike_label.setText(spike_text(name, f" {series} {fmt_value(value)}{more}",
                                            QFontMetrics(self.spike_label.textItem.font()),
                                            self.plot.getViewBox().width() - 12))
        self.spike_label.setToolTip(whole)
        self.spike_label.setPos(x1 - 0.01 * (x1 - x0), y1)

    def csv_names(self) -> tuple[str, str]:
        return self.x_mode, self.metric_name

    def curve_data(self):
        """(run name, series name, x, y) of everything drawn: the CSV export."""
        for rid, c in self.curves.items():
            x, y = self._xy(rid, self.train_key)
            yield c.name, self.train_key, x, y
            yield c.name, f"{self.train_key}_smoothed", x, ema(y, self.smoothing) if len(y) else y
            xv, yv = self._xy(rid, self.val_key)
            yield c.name, self.val_key, xv, yv

    # -- hover ------------------------------------------------------------------------------------
    def _hover(self, pos) -> None:
        vb = self.plot.getViewBox()
        if not self.plot.sceneBoundingRect().contains(pos) or not self.curves:
            self.crosshair.setVisible(False)
            return
        x = vb.mapSceneToView(pos).x()
        parts = []
        for rid, c in self.curves.items():
            xs, ys = self._xy(rid, self.train_key)
            if not len(xs):
                continue
            i = int(np.clip(np.searchsorted(xs, x), 0, len(xs) - 1))
            if i > 0 and abs(xs[i - 1] - x) < abs(xs[i] - x):
                i -= 1
            sm = ema(ys, self.smoothing)[i]
            text = f"<b style='color:{run_color(c.index).name()}'>{c.name}</b> {self.x_mode} {xs[i]:.4g}: " \
                   f"train {fmt_value(ys[i])} (smoothed {fmt_value(sm)})"
            xv, yv = self._xy(rid, self.val_key)
            if len(xv):
                j = int(np.clip(np.searchsorted(xv, xs[i]) - 1, 0, len(xv) - 1))
                if xv[j] <= xs[i]:
                    text += f", validation {fmt_value(yv[j])}"
            parts.append(text)
        self.crosshair.setPos(x)
        self.crosshair.setVisible(True)
        self.readout.setText(" · ".join(parts) or " ")
