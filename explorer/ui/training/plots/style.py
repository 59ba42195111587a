"""Shared look of the training plots: run colours, pens, a plot widget that follows the app palette, the
legend row under a plot (never on its curves) and axis labels that shorten rather than clip."""
from __future__ import annotations

import math
import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QApplication, QGraphicsItem, QLabel, QSizePolicy

# Tableau 10 (colour-blind friendlier than pure hues); run i gets colour i mod 10. The order puts far-apart
# colours next to each other (every neighbour pair, the last and first too, differs by ΔE76 ≥ 55): the two
# runs of a comparison are always neighbours in the run list, so they never get orange and red.
RUN_COLORS = ("#4e79a7", "#f28e2b", "#b07aa1", "#59a14f", "#9c755f",
              "#edc948", "#bab0ac", "#e15759", "#76b7b2", "#ff9da7")


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
    """A y axis whose labels never pile up and never go missing. Linear: only as many ticks as fit one
    above the other at the font's height (an empty 0…1 plot on a short dock had four labels in 45 px).
    Log: decades only (plus 2 and 5 when the view spans less than two decades), pyqtgraph's default names
    every minor tick; within one decade (a loss between 1.9 and 2.3) evenly spaced values (1.9, 2, 2.1…),
    since there would be no decade, or a single 2, to name."""

    linear_step: float | None = None   # log mode within one decade: the spacing of the values named

    def _most(self, size: float) -> int:
        font = self.style.get("tickFont") or self.font()
        return max(2, int(size // (1.7 * QFontMetrics(font).height())))

    def tickValues(self, minVal, maxVal, size):
        lo, hi = sorted((float(minVal), float(maxVal)))
        self.linear_step = None
        if not (hi > lo and np.isfinite(lo) and np.isfinite(hi) and size > 0) or \
                self.orientation not in ("left", "right"):
            return super().tickValues(minVal, maxVal, size)
        if self.logMode and hi - lo >= 2.0:
            return super().tickValues(minVal, maxVal, size)
        # A label whose text would stick out past the axis's end is not drawn: count only those inside.
        font = self.style.get("tickFont") or self.font()
        margin = 0.6 * QFontMetrics(font).height() / size * (hi - lo)
        lo, hi = lo + margin, hi - margin
        if self.logMode:
            # Under two decades: 1, 2 and 5 × 10^k where at least two of them show and they fit; else evenly
            # spaced values (a loss between 1.9 and 2.3 has no such value but 2).
            k = np.arange(math.floor(lo) - 1, math.ceil(hi) + 1)
            fewest = None
            for mantissas in ((1,), (1, 5), (1, 2, 5)):   # decades first, then 5s, then 2s, while they fit
                marks = np.log10(np.sort(np.concatenate([m * 10.0 ** k for m in mantissas])))
                marks = marks[(marks >= lo) & (marks <= hi)]
                if len(marks) >= 2:
                    fewest = marks if fewest is None else fewest
                    if len(marks) <= self._most(size):
                        return [(1.0, list(marks))]
            if fewest is not None:
                return [(1.0, list(fewest))]
            step, values = nice_ticks(10.0 ** lo, 10.0 ** hi, self._most(size))
            self.linear_step = step
            return [(step, list(np.log10(values)))]
        scale = self.scale or 1.0   # the axis names values × scale (accuracy 0…1 as 0…100 %)
        step, values = nice_ticks(lo * scale, hi * scale, self._most(size))
        return [(step / scale, list(values / scale))]

    def logTickStrings(self, values, scale, spacing):
        if self.linear_step is not None:
            decimals = max(0, -int(math.floor(math.log10(self.linear_step) + 1e-9)))
            return [f"{10.0 ** v:.{decimals}f}" for v in values]
        values = np.asarray(values, dtype=float)
        if spacing == 1.0 and len(values) <= 12:   # our own marks (tickValues): each is named
            return super().logTickStrings(list(values), scale, spacing)
        mant = np.round(10 ** (values - np.floor(values + 1e-9)), 6)
        keep = np.isclose(mant, 1.0)
        if keep.sum() < 2:
            keep |= np.isclose(mant, 2.0) | np.isclose(mant, 5.0)
        strings = super().logTickStrings(list(values), scale, spacing)
        return [s if k else "" for s, k in zip(strings, keep)]


def nice_ticks(lo: float, hi: float, most: int) -> tuple[float, np.ndarray]:
    """(step, values): at least two and at most ``most`` values 1, 2, 4 or 5 × 10^k apart within [lo, hi]."""
    span = hi - lo
    steps = [m * 10.0 ** e for e in range(int(math.floor(math.log10(span))) - 2, int(math.ceil(math.log10(span))) + 1)
             for m in (1, 2, 4, 5)]   # 4: two labels (0.4, 0.8) where 1-2-5 gives one or four
    best = steps[0]
    for step in steps:   # the finest step that fits; coarser ones only while too many would be named
        n = math.floor(hi / step + 1e-9) - math.ceil(lo / step - 1e-9) + 1
        if n < 2:
            break
        best = step
        if n <= most:
            break
    start = math.ceil(lo / best - 1e-9) * best
    values = start + best * np.arange(int(math.floor((hi - start) / best + 1e-9)) + 1)
    return best, np.round(values, 12)


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
        set_title(plot, title)
    plot.showGrid(x=True, y=True, alpha=0.12)


def set_title(plot: pg.PlotItem, title: str) -> None:
    _, fg = palette_colors()
    plot.setTitle(title, color=fg.name(), size="10pt")


def new_plot_widget(left: str = "", bottom: str = "", title: str = "") -> pg.PlotWidget:
    bg, _ = palette_colors()
    # No pyqtgraph menu (our own export actions; its menu offers confusing ones), and asked for at
    # construction it is never built: a third of each plot's cost, and a window makes 27 plots.
    w = PlotView(background=bg, axisItems={"left": DecadeAxis("left")}, enableMenu=False)
    style_plot(w.getPlotItem(), left, bottom, title)
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


# -- legends beside the plot, not on it ----------------------------------------------------------------
LINE, DASHED = "━━", "╍●╍"


class LegendRow(QLabel):
    """A legend as a line of text under the plot: it can never cover a curve, it wraps when narrow, and it
    is part of the plot's exported picture. ``set_entries([(colour, mark, text), ...])``."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        self.entries: list[tuple[str, str, str]] = []

    def set_entries(self, entries: list[tuple[QColor | str, str, str]]) -> None:
        entries = [(QColor(c).name(), mark, text) for c, mark, text in entries]
        if entries == self.entries:
            return
        self.entries = entries
        self.setText("&nbsp;&nbsp; ".join(f"<span style='color:{c}'>{mark}</span>&nbsp;{_html(t)}"
                                          for c, mark, t in entries))

    def texts(self) -> list[str]:
        return [t for _, _, t in self.entries]


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace(" ", "&nbsp;")


def neutral_color() -> QColor:
    _, fg = palette_colors()
    c = QColor(fg)
    c.setAlpha(170)
    return c


# The per-layer quantities' symbols: the axis label when the full name (explorer.runs.feed) does not fit.
QUANTITY_SYMBOLS = {"grad_norm": "‖∂L/∂w‖", "output_grad_norm": "‖∂L/∂y‖", "update_ratio": "‖Δw‖/‖w‖"}


# -- axis labels that fit ----------------------------------------------------------------------------
class AxisLabelFit:
    """Keeps an axis label within the axis: the first of ``texts`` (longest first) that fits its length,
    else none. pyqtgraph centres a label on its axis and lets the ends fall off a short plot ("gradient
    reaching the lay…"); the full wording is always in the view's title or readout."""

    def __init__(self, axis: pg.AxisItem, texts: list[str], length_of):
        self.axis, self.texts, self.length_of = axis, [t for t in texts if t], length_of
        self.shown: str | None = None
        self.fit()

    def set_texts(self, texts: list[str]) -> None:
        self.texts = [t for t in texts if t]
        self.shown = None
        self.fit()

    def fit(self, *_) -> None:
        length = float(self.length_of())
        font = self.axis.label.font()
        fm = QFontMetrics(font)
        fits = [t for t in self.texts if fm.horizontalAdvance(t) + 8 <= length] if length > 0 else self.texts[-1:]
        text = fits[0] if fits else ""
        if text == self.shown:
            return
        self.shown = text
        if text:
            self.axis.setLabel(text)
            self.axis.showLabel(True)
        else:
            self.axis.showLabel(False)

    def text_width(self) -> float:
        return QFontMetrics(self.axis.label.font()).horizontalAdvance(self.shown) if self.shown else 0.0


def fit_axis_label(plot: pg.PlotItem, side: str, texts: list[str]) -> AxisLabelFit:
    """An AxisLabelFit for ``plot``'s axis ``side``, refitted whenever the plot's view box is resized."""
    vb = plot.getViewBox()
    vertical = side in ("left", "right")
    fit = AxisLabelFit(plot.getAxis(side), texts, (lambda: vb.height()) if vertical else (lambda: vb.width()))
    vb.sigResized.connect(fit.fit)
    return fit
