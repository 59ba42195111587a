"""Shared look of the training plots: run colours, pens, a plot widget that follows the app palette."""
from __future__ import annotations

import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QGraphicsItem

# Tableau 10: distinct, colour-blind friendlier than pure hues; run i gets colour i mod 10.
RUN_COLORS = ("#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
              "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac")


def run_color(index: int, alpha: int = 255) -> QColor:
    c = QColor(RUN_COLORS[index % len(RUN_COLORS)])
    c.setAlpha(alpha)
    return c


def pen(index: int, width: float = 2.0, alpha: int = 255, dashed: bool = False):
    p = pg.mkPen(run_color(index, alpha), width=width)
    if dashed:
        p.setStyle(Qt.PenStyle.DashLine)
    return p


def palette_colors() -> tuple[QColor, QColor]:
    """(background, foreground) of the application palette, so plots match light and dark themes."""
    app = QApplication.instance()
    pal = app.palette() if app else QPalette()
    return pal.color(QPalette.ColorRole.Base), pal.color(QPalette.ColorRole.Text)


class _TimedPaint:
    """Reports how long each paint took (``on_paint(seconds)``): the Throttle's CPU budget needs it."""
    on_paint = None

    def paintEvent(self, event):
        t = time.perf_counter()
        super().paintEvent(event)
        if self.on_paint is not None:
            self.on_paint(time.perf_counter() - t)


class PlotView(_TimedPaint, pg.PlotWidget):
    pass


class LayoutView(_TimedPaint, pg.GraphicsLayoutWidget):
    pass


class DecadeAxis(pg.AxisItem):
    """A log axis that names decades only (plus 2 and 5 when the view spans less than two decades):
    pyqtgraph's default names every minor tick, which piles up on a short plot."""

    def logTickStrings(self, values, scale, spacing):
        values = np.asarray(values, dtype=float)
        mant = np.round(10 ** (values - np.floor(values + 1e-9)), 6)
        keep = np.isclose(mant, 1.0)
        if keep.sum() < 2:
            keep |= np.isclose(mant, 2.0) | np.isclose(mant, 5.0)
        strings = super().logTickStrings(list(values), scale, spacing)
        return [s if k else "" for s, k in zip(strings, keep)]


def style_plot(plot: pg.PlotItem, left: str = "", bottom: str = "", title: str = "") -> None:
    _, fg = palette_colors()
    for name in ("left", "bottom"):
        ax = plot.getAxis(name)
        ax.setPen(fg)
        ax.setTextPen(fg)
        # Axes are mostly text, the costliest thing in a frame: paint them from a pixmap until they change.
        ax.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
    if left:
        plot.setLabel("left", left)
    if bottom:
        plot.setLabel("bottom", bottom)
    if title:
        plot.setTitle(title, color=fg.name(), size="10pt")
    plot.showGrid(x=True, y=True, alpha=0.12)


def new_plot_widget(left: str = "", bottom: str = "", title: str = "") -> pg.PlotWidget:
    bg, _ = palette_colors()
    w = PlotView(background=bg, axisItems={"left": DecadeAxis("left")})
    style_plot(w.getPlotItem(), left, bottom, title)
    w.getPlotItem().setMenuEnabled(False)   # our own export actions; pyqtgraph's menu offers confusing ones
    return w


def fast_curve(item: pg.PlotDataItem) -> pg.PlotDataItem:
    """The pyqtgraph habits for long live series: peak downsampling to the view, clip to the view."""
    item.setDownsampling(auto=True, method="peak")
    item.setClipToView(True)
    return item


def fmt_value(v: float) -> str:
    if v != v:
        return "—"
    a = abs(v)
    return f"{v:.3e}" if (a and (a < 1e-3 or a >= 1e4)) else f"{v:.4g}"
