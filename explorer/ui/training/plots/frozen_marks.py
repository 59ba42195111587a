"""Frozen layers drawn as frozen: grey bands labelled "frozen" over their rows (heatmap) or their
depths (by-depth plot), so a frozen layer's zero gradient never reads as a vanished one.

``frozen_rows(controller, run_id)`` says which of a run's layer rows were frozen and until which step;
``FrozenBands`` draws them in one plot, reusing its items (a redraw only moves them).
"""
from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtGui import QBrush, QColor, QPen
from PySide6.QtWidgets import QGraphicsRectItem

from explorer.runs.feed import node_of_key
from explorer.runs.frozen import frozen_part

LABEL = "frozen"
GREY = QColor(128, 128, 128)
FILL = QColor(200, 200, 200, 235)


def frozen_rows(controller, run_id: str, keys: list[str]) -> tuple[list[int], float | None]:
    """(indices into ``keys`` of the run's frozen layers, the step they train again from or None)."""
    feed = controller.feed(run_id) if run_id else None
    if feed is None:
        return [], None
    started = getattr(feed, "started", None)
    part = frozen_part(feed.record, getattr(started, "steps_per_epoch", None))
    return [i for i, k in enumerate(keys) if node_of_key(k) in part.nodes], part.until_step


def spans(rows: list[int]) -> list[tuple[int, int]]:
    """Consecutive rows as (first, last + 1) spans: one band each."""
    out: list[tuple[int, int]] = []
    for r in sorted(rows):
        if out and out[-1][1] == r:
            out[-1] = (out[-1][0], r + 1)
        else:
            out.append((r, r + 1))
    return out


class FrozenBands:
    """Grey bands in ``plot``: ``rows_axis`` "y" (heatmap rows) or "x" (layers along the x axis)."""

    def __init__(self, plot: pg.PlotItem, rows_axis: str = "y"):
        self.plot, self.rows_axis = plot, rows_axis
        self.items: list[QGraphicsRectItem] = []
        self.label = pg.TextItem(LABEL, color=(70, 70, 70), fill=pg.mkBrush(235, 235, 235, 220),
                                 anchor=(0, 0) if rows_axis == "y" else (0, 1))
        self.label.setZValue(21)
        self.label.setVisible(False)
        plot.addItem(self.label, ignoreBounds=True)
        self.shown: list[tuple[int, int]] = []

    def set(self, rows: list[int], other: tuple[float, float]) -> None:
        """Bands over ``rows``, spanning ``other`` (start, end) along the other axis."""
        self.shown = spans(rows)
        while len(self.items) < len(self.shown):
            item = QGraphicsRectItem()
            item.setBrush(QBrush(FILL))   # opaque enough that the darkest colour of the scale never shows
            pen = QPen(GREY)
            pen.setCosmetic(True)
            item.setPen(pen)
            item.setZValue(20)
            self.plot.addItem(item, ignoreBounds=True)
            self.items.append(item)
        a, b = other
        for item, (r0, r1) in zip(self.items, self.shown):
            rect = QRectF(a, r0, b - a, r1 - r0) if self.rows_axis == "y" else QRectF(r0 - 0.5, a, r1 - r0, b - a)
            item.setRect(rect)
            item.setVisible(True)
        for item in self.items[len(self.shown):]:
            item.setVisible(False)
        self.label.setVisible(bool(self.shown))
        if self.shown:
            r0 = self.shown[0][0]
            self.label.setPos(a, r0) if self.rows_axis == "y" else self.label.setPos(r0 - 0.5, b)

    def clear(self) -> None:
        self.set([], (0.0, 0.0))
