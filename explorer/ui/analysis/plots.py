"""Plot pieces the tool views share: plots styled like the training plots, a row of plots side by side
with one legend, thinned category ticks, bar charts whose bars can be clicked, and fixed-level images.

Every series is one plot item made once and updated with ``setData`` / ``setOpts``."""
from __future__ import annotations

import weakref
from typing import Callable, Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QFontMetrics
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from explorer.ui.training.plots.style import LegendRow, new_plot_widget, pen, run_color
from explorer.ui.training.plots.style import set_title

RESIDUAL, PLAIN = 0, 7          # colour indices: blue for the network, red for its plain twin
MAX_TICKS = 14


def plot(left: str = "", bottom: str = "", title: str = "", log_y: bool = False) -> pg.PlotWidget:
    w = new_plot_widget(left, bottom, title)
    w.setLogMode(y=log_y)
    for side in ("left", "bottom"):
        w.getAxis(side).enableAutoSIPrefix(False)   # "(×0.001)" beside an axis only confuses
    w.setMinimumSize(180, 120)
    return w


def curve(widget: pg.PlotWidget, color: int, symbol: str | None = None, dashed: bool = False) -> pg.PlotDataItem:
    item = pg.PlotDataItem(pen=pen(color, dashed=dashed), symbol=symbol, symbolSize=6,
                           symbolBrush=run_color(color), symbolPen=None)
    widget.addItem(item)
    return item


class CategoryTicks:
    """Names the x positions 0…n-1 of a plot: every k-th, as many as fit side by side at the plot's width
    (refitted when it is resized); the others get minor ticks."""

    def __init__(self, widget: pg.PlotWidget):
        self.widget, self.labels = widget, []
        self.vb = widget.getPlotItem().getViewBox()
        self.vb.sigResized.connect(self.fit)

    def set(self, labels: Sequence[str]) -> None:
        self.labels = list(labels)
        self.fit()

    def fit(self, *_) -> None:
        axis = self.widget.getAxis("bottom")
        fm = QFontMetrics(axis.style.get("tickFont") or self.widget.font())
        widest = max((fm.horizontalAdvance(t) for t in self.labels), default=1) + 14
        shown = max(2, min(MAX_TICKS, int(self.vb.width() // widest)))
        step = max(1, -(-len(self.labels) // shown))
        major = [(i, self.labels[i]) for i in range(0, len(self.labels), step)]
        minor = [(i, "") for i in range(len(self.labels)) if i % step]
        axis.setTicks([major, minor])


_ticks: "weakref.WeakKeyDictionary[pg.PlotWidget, CategoryTicks]" = weakref.WeakKeyDictionary()


def category_ticks(widget: pg.PlotWidget, labels: Sequence[str]) -> None:
    """``CategoryTicks`` of ``widget`` (made on first use) set to ``labels``."""
    if widget not in _ticks:
        _ticks[widget] = CategoryTicks(widget)
    _ticks[widget].set(labels)


class FittedTitle:
    """A plot's title cut to the plot's width with "…" (plots side by side on a laptop are narrow), whole in
    the plot's tooltip; refitted when the plot is resized."""

    def __init__(self, widget: pg.PlotWidget):
        self.widget, self.text, self.shown = widget, "", ""
        widget.getPlotItem().getViewBox().sigResized.connect(self.fit)

    def set(self, text: str, tooltip: str = "") -> None:
        self.text = text
        self.widget.setToolTip(tooltip or text)
        self.fit()

    def fit(self, *_) -> None:
        font = QFont(self.widget.font())
        font.setPointSizeF(10.0)   # set_title's size
        # The title sits over the view box alone, and its text's width is a minimum width of that column:
        # too long, it pushes the plot wider than its widget (cut off at the row's end).
        item = self.widget.getPlotItem()
        room = self.widget.width() - item.getAxis("left").width() - 16
        shown = QFontMetrics(font).elidedText(self.text, Qt.TextElideMode.ElideRight, max(0, int(room)))
        if shown != self.shown:
            self.shown = shown
            set_title(self.widget.getPlotItem(), shown)
            # The plot item kept the width the longer title forced on it at the last resize: lay it out in
            # the view again now that its minimum is smaller (PlotWidget's own setRange is the view box's).
            view = self.widget
            pg.GraphicsView.setRange(view, view.range, padding=0, disableAutoPixel=False)


class PlotRow(QWidget):
    """Plots (or other widgets, such as a table) side by side with one legend row under them (the exported
    picture includes it)."""

    def __init__(self, plots: Sequence[QWidget], parent=None):
        super().__init__(parent)
        self.plots = list(plots)
        col = QVBoxLayout(self)
        col.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        for p in self.plots:
            row.addWidget(p, 1)
        col.addLayout(row, 1)
        self.legend = LegendRow()
        col.addWidget(self.legend)
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.note.hide()
        col.addWidget(self.note)

    def set_note(self, text: str) -> None:
        self.note.setText(text)
        self.note.setVisible(bool(text))


class Bars:
    """One bar series on a category axis; a click on a bar calls ``on_click(index)``; ``mark(indices)``
    draws those bars in the highlight colour (empty: none)."""

    def __init__(self, widget: pg.PlotWidget, color: int, width: float = 0.7, offset: float = 0.0,
                 on_click: Callable[[int], None] | None = None):
        self.widget, self.color, self.width, self.offset = widget, color, width, offset
        self.item = pg.BarGraphItem(x=np.zeros(0), height=np.zeros(0), width=width, brush=run_color(color, 200),
                                    pen=pg.mkPen(None))
        widget.addItem(self.item)
        self.heights = np.zeros(0)
        self.marked: frozenset[int] = frozenset()
        self.on_click = on_click
        if on_click is not None:
            widget.scene().sigMouseClicked.connect(self._clicked)

    def set(self, heights: Sequence[float]) -> None:
        self.heights = np.asarray(heights, dtype=np.float64)
        self.marked = frozenset()
        self.item.setOpts(x=np.arange(len(self.heights)) + self.offset, height=np.nan_to_num(self.heights),
                          brushes=self._brushes())

    def mark(self, indices) -> None:
        indices = frozenset(indices)
        if indices != self.marked:
            self.marked = indices
            self.item.setOpts(brushes=self._brushes())

    def _brushes(self):
        base, hi = run_color(self.color, 200), pg.mkColor("#f1c40f")
        return [pg.mkBrush(hi if i in self.marked else base) for i in range(len(self.heights))]

    def _clicked(self, event) -> None:
        vb = self.widget.getPlotItem().getViewBox()
        if not vb.sceneBoundingRect().contains(event.scenePos()) or not len(self.heights):
            return
        x = vb.mapSceneToView(event.scenePos()).x() - self.offset
        i = int(round(x))
        if 0 <= i < len(self.heights) and abs(x - i) <= self.width / 2:
            self.on_click(i)

    def centre(self, index: int):
        """Where bar ``index``'s middle is, in the widget's viewport coordinates (tests click there)."""
        vb = self.widget.getPlotItem().getViewBox()
        h = float(np.nan_to_num(self.heights[index]))
        scene = vb.mapViewToScene(pg.Point(index + self.offset, h / 2))
        return self.widget.mapFromScene(scene)


class FixedImage:
    """A heat map with fixed levels (no auto-levels search per frame): ``set(array, levels)``; the
    array's first axis runs along x. ``rect`` places it in data coordinates."""

    def __init__(self, widget: pg.PlotWidget, colormap: str = "viridis"):
        self.item = pg.ImageItem(axisOrder="row-major")
        self.item.setColorMap(pg.colormap.get(colormap))
        widget.addItem(self.item)
        self.array = np.zeros((0, 0))

    def set(self, array: np.ndarray, levels: tuple[float, float], rect: tuple[float, float, float, float]) -> None:
        self.array = array
        self.item.setImage(array.T, levels=levels, autoLevels=False)  # row-major: rows are y (the βs)
        self.item.setRect(*rect)

    def clear(self) -> None:
        self.array = np.zeros((0, 0))
        self.item.clear()
