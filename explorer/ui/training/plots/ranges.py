"""Keeps a plot's view still while its data grow, so axes are not re-rendered on every frame.

pyqtgraph's auto-range moves the view with every new point, and a moved view re-renders both axes
(text layout: most of a frame's cost). Here the x range is set once to where the run will end (its
planned steps) and the y range only changes when data leave it or shrink to a small part of it, with a
margin. Panning or zooming by hand hands the view to the person until the plot's "A" button is pressed.
All values are in view coordinates (log10 for a log axis).
"""
from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg

PAD = 0.06        # margin around the data, as a share of the range
GROW = 0.25       # extra room on a side the data outgrew: a rising curve re-fits a few times, not per point
SHRINK = 0.35     # re-fit when the data use less than this share of the view
SPIKE_GAP = 1.0   # a top value is a spike when it stands above the rest by more than the rest's whole span
SPIKE_SHARE = 0.02  # ... and at most this share of the points (at least one) are spikes
EMPTY = ((0.0, 1.0), (0.0, 1.0))


def spike_limit(values: np.ndarray) -> float:
    """The top of a range that shows every value except isolated spikes (in view coordinates, log10 on a
    log axis). A plain net's first validation loss of 5.5e7 is one point far above curves near 2.3: a range
    up to it squashes every curve to the floor. A run that really climbs is many close points: kept."""
    v = np.sort(np.asarray(values, dtype=float)[np.isfinite(values)])[::-1]
    if len(v) < 3:
        return float(v[0]) if len(v) else math.nan
    lo, top = v[-1], 0
    for i in range(min(max(1, int(SPIKE_SHARE * len(v))), len(v) - 2)):
        if v[i] - v[i + 1] > SPIKE_GAP * max(v[i + 1] - lo, 1e-12):
            top = i + 1   # the deepest such gap among the top few: two spikes together go out together
    return float(v[top])


class RangeKeeper:
    def __init__(self, plot: pg.PlotItem, on_reset=None):
        self.plot = plot
        self.vb = plot.getViewBox()
        self.manual = False
        self._x: tuple[float, float] | None = None
        self._y: tuple[float, float] | None = None
        self._blank = False   # the view is empty()'s, not the data's: the next data fit it afresh
        self._on_reset = on_reset
        self.vb.disableAutoRange()
        self.vb.sigRangeChangedManually.connect(self._by_hand)
        plot.autoBtn.clicked.connect(self.reset)  # after pyqtgraph's own handler, which enables auto-range

    def _by_hand(self, *_):
        self.manual = True

    def reset(self, *_):
        """Fit the data again (and keep following them)."""
        self.manual = False
        self._x = self._y = None
        self.vb.disableAutoRange()
        if self._on_reset:
            self._on_reset()

    def empty(self, y_range: tuple[float, float] = EMPTY[1]) -> None:
        """Nothing to show (no run, or one refused or failed before its first point): a neutral view, not
        the axes of whatever was shown before. ``y_range``: its height in the plot's own units (accuracy
        in % runs 0-100, so the blank axis says what its label says, not 0-1 under "%")."""
        if self.manual:
            self.manual = False
        blank = (EMPTY[0], (float(y_range[0]), float(y_range[1])))
        if (self._x, self._y) != blank:
            self._x, self._y = blank
            self.vb.setRange(xRange=blank[0], yRange=blank[1], padding=0.0, update=True)
        self._blank = True

    def update(self, x0: float, x1: float, y0: float, y1: float) -> None:
        # Python floats: numpy float32 (LayerSeries) compared with pyqtgraph's float64 limits overflows.
        x0, x1, y0, y1 = float(x0), float(x1), float(y0), float(y1)
        if self.manual or not all(math.isfinite(v) for v in (x0, x1, y0, y1)):
            return
        if x1 <= x0:
            x1 = x0 + 1.0
        x = (x0, x1 + 0.02 * (x1 - x0))  # room for the last point's marker
        y = None if self._blank else self._y
        self._blank = False
        if y is None or (y1 - y0) < SHRINK * (y[1] - y[0]):
            span = max(y1 - y0, abs(y1) * 1e-3, 1e-9)
            y = (y0 - PAD * span, y1 + PAD * span)
        elif y0 < y[0] or y1 > y[1]:
            span = max(y1 - y0, abs(y1) * 1e-3, 1e-9)
            y = (y0 - (GROW if y0 < y[0] else PAD) * span, y1 + (GROW if y1 > y[1] else PAD) * span)
        if x != self._x or y != self._y:
            self._x, self._y = x, y
            self.vb.setRange(xRange=x, yRange=y, padding=0.0, update=True)
