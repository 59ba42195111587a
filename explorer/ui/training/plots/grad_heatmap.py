"""Per-layer gradient magnitude of one run as a heatmap: layers in network order (top = input side)
against steps, log10 colour scale with a colour bar.

Data come straight from the run's LayerSeries (already log10 and bounded: old steps are merged, so a
1,000-layer × 10,000-step run is at most 2,048 columns). One ImageItem, ``setImage`` with fixed levels;
``autoDownsample`` reduces the image to screen resolution before colouring. The levels are a
``ColorScale`` over the compared runs (the shown run and the ticked ones), so switching between a plain
twin and its network keeps one scale; "own colour scale" (``set_shared_scale(False)``) frees it to the
shown run. Clicking a row emits the node behind it; ``highlight_node`` marks a node's rows.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QWidget

from explorer.runs.csv_io import write_matrix_csv
from explorer.runs.feed import LAYER_QUANTITIES, node_of_key
from explorer.ui.training.plots.color_scale import ColorScale
from explorer.ui.training.plots.frozen_marks import FrozenBands, frozen_rows
from explorer.ui.training.plots.plot_base import TrainingPlot
from explorer.ui.training.plots.style import (QUANTITY_SYMBOLS, LayoutView, fit_axis_label, fmt_value,
                                              palette_colors, style_plot)
from explorer.ui.training.throttle import GRADIENT_HZ, Throttle

MAX_TICKS = 40


class GradHeatmap(TrainingPlot):
    """``run()`` names the run shown (default: the controller's focus run), ``compared()`` the runs its
    colour scale covers (default: that run and the ticked ones); heatmaps given one ``scale`` share it."""
    layerClicked = Signal(str)   # node id of the clicked row

    def __init__(self, controller, parent: QWidget | None = None, throttle: Throttle | None = None,
                 run: Callable[[], str] | None = None, compared: Callable[[], list[str]] | None = None,
                 scale: ColorScale | None = None):
        super().__init__(controller, parent, throttle, bottom="step", hz=GRADIENT_HZ, legend=False)
        self.run = run or (lambda: controller.focus)
        self.compared = compared or (lambda: [self.run()] + controller.visible_ids())
        self.quantity = "grad_norm"
        self.shared = True
        self.shared_scale = scale or ColorScale(self.quantity)
        self.own_scale = ColorScale(self.quantity)
        for sc in (self.shared_scale, self.own_scale):
            sc.subscribe(lambda levels, sc=sc: self._levels_changed(sc))
        self._keys: list[str] = []
        self._run = ""
        self._highlight = ""
        self.image = pg.ImageItem(axisOrder="col-major")
        self.image.setAutoDownsample(True)
        self.plot.addItem(self.image)
        self.bar = pg.ColorBarItem(values=self.levels, colorMap=pg.colormap.get("viridis"), interactive=False,
                                   width=14, pen=palette_colors()[1])
        self.bar.setImageItem(self.image, insert_in=self.plot)
        self.bar_label = fit_axis_label(self.bar, "left", self._bar_labels())
        # The canvas selection's rows, outlined but never filled: the colours of the row stay readable (the
        # first layer, stem_conv, is what the story is about). Its edges sit on the row boundaries.
        self.band = pg.LinearRegionItem(orientation="horizontal", movable=False, brush=pg.mkBrush(0, 0, 0, 0),
                                        pen=pg.mkPen("#ff5252", width=1, cosmetic=True))
        self.band.setZValue(10)
        self.band.setVisible(False)
        self.plot.addItem(self.band, ignoreBounds=True)
        self.frozen = FrozenBands(self.plot, "y")   # frozen layers: grey rows labelled "frozen"
        self.widget.scene().sigMouseClicked.connect(self._click)
        controller.dataArrived.connect(self._on_data)
        for sig in (controller.focusChanged, controller.runRemoved):
            sig.connect(lambda _id: self._reset())
        controller.overlayChanged.connect(self._reset)   # other runs compared: the scale covers them

    def _make_view(self, bottom: str, title: str) -> tuple[LayoutView, pg.PlotItem]:
        """An image with a colour bar beside it: a layout, not a PlotWidget; rows top-down from the input."""
        widget = LayoutView()
        widget.setBackground(palette_colors()[0])
        plot = widget.addPlot()
        plot.setMenuEnabled(False)
        style_plot(plot, "", bottom, title)
        plot.invertY(True)
        plot.showGrid(x=False, y=False)
        plot.getViewBox().setMouseEnabled(x=True, y=True)
        return widget, plot

    def _bar_labels(self) -> list[str]:
        return [f"log₁₀ {LAYER_QUANTITIES[self.quantity]}", f"log₁₀ {QUANTITY_SYMBOLS.get(self.quantity, '')}",
                "log₁₀"]

    @property
    def scale(self) -> ColorScale:
        return self.shared_scale if self.shared else self.own_scale

    @property
    def levels(self) -> tuple[float, float]:
        return self.scale.levels

    def scale_runs(self) -> list[str]:
        """The runs the colour scale covers, each once."""
        ids = self.compared() if self.shared else [self.run()]
        return [r for i, r in enumerate(ids) if r and r not in ids[:i] and self.controller.feed(r) is not None]

    # -- options ----------------------------------------------------------------------------------
    def set_quantity(self, quantity: str) -> None:
        if quantity != self.quantity:
            self.quantity = quantity
            self.bar_label.set_texts(self._bar_labels())
            self._reset()

    def set_shared_scale(self, on: bool) -> None:
        """One colour scale for the compared runs (on), or one fitted to this run alone."""
        if on != self.shared:
            self.shared = on
            self._reset()

    def refresh(self) -> None:
        """``run()`` or ``compared()`` changed: new scale, new image."""
        self._reset()

    def highlight_node(self, node_id: str) -> None:
        self._highlight = node_id or ""
        self._place_band()

    # -- drawing ----------------------------------------------------------------------------------
    def _series(self, run_id: str | None = None):
        feed = self.controller.feed(self.run() if run_id is None else run_id)
        return feed, (feed.layers.get(self.quantity) if feed else None)

    def _on_data(self, run_id: str) -> None:
        if run_id == self.run() or (self.shared and run_id in self.scale_runs()):
            self.throttle.request()

    def _reset(self) -> None:
        """Another run, quantity or set of compared runs: levels from their whole data once, then a redraw."""
        self._run = ""
        arrays = [s.log10 for _, s in map(self._series, self.scale_runs()) if s is not None and len(s)]
        self.scale.reset(self.quantity, arrays)
        self._levels_changed(self.scale)
        self.ranges.reset()

    def _levels_changed(self, scale: ColorScale) -> None:
        if scale is self.scale:
            self.bar.setLevels(scale.levels)
            if self.image.image is not None:
                self.image.setLevels(scale.levels)

    def redraw(self) -> None:
        feed, s = self._series()
        if s is None or not len(s):
            self.image.clear()
            self.frozen.clear()
            self._set_keys([])
            self.ranges.empty()   # a run refused or failed before its first step shows no stale axes
            return
        if self._run != feed.id:
            self._run = feed.id
        self._set_keys(s.keys)
        data = s.log10
        for other in self.scale_runs():  # only the newest columns: no search of a whole image per frame
            _, o = self._series(other)
            if o is not None and len(o):
                self.scale.widen(o.log10[-1])
        steps = s.steps
        half = (steps[1] - steps[0]) / 2 if len(steps) > 1 else 0.5
        x0, x1 = steps[0] - half, steps[-1] + half
        self.image.setImage(data, levels=self.levels, autoLevels=False)
        self.image.setRect(QRectF(x0, 0, max(x1 - x0, 1e-9), len(s.keys)))
        rows, until = frozen_rows(self.controller, feed.id, s.keys)
        self.frozen.set(rows, (x0, min(x1, until) if until is not None else x1))
        end = x1
        if feed.active and feed.record.final.get("total_steps"):
            end = max(end, float(feed.record.final["total_steps"]))  # the run's planned end: the view stays put
        self.ranges.update(min(0.0, x0), end, 0.0, float(len(s.keys)))

    def _set_keys(self, keys: list[str]) -> None:
        if keys == self._keys:
            return
        self._keys = list(keys)
        n = len(keys)
        height = self.plot.getViewBox().height()
        fit = max(2, min(MAX_TICKS, int(height // 18) if height > 0 else 12))
        every = max(1, math.ceil(n / fit))  # only as many names as fit one above the other
        ticks = [(i + 0.5, k) for i, k in enumerate(keys) if i % every == 0]
        axis = self.plot.getAxis("left")
        axis.setTicks([ticks, []] if ticks else None)
        # Room for the longest name, set here: the axis is painted from a cache that clips to its size.
        metrics = QFontMetrics(axis.style.get("tickFont") or self.font())
        axis.setWidth(12 + max((metrics.horizontalAdvance(k) for _, k in ticks), default=20))
        self._place_band()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._keys = []  # how many layer names fit depends on the height: re-tick on the next redraw
        self.throttle.request()

    def _rows_of(self, node_id: str) -> list[int]:
        return [i for i, k in enumerate(self._keys) if node_of_key(k) == node_id]

    def _place_band(self) -> None:
        rows = self._rows_of(self._highlight) if self._highlight else []
        if rows:
            self.band.setRegion((min(rows), max(rows) + 1))
        self.band.setVisible(bool(rows))

    def frozen_rows(self) -> list[str]:
        """The layer names drawn as frozen."""
        return [self._keys[r] for a, b in self.frozen.shown for r in range(a, b) if r < len(self._keys)]

    def write_csv(self, path: Path) -> int:
        """One row per step, one column per layer (log10) of the run shown."""
        _, s = self._series()
        if s is None or not len(s):
            return write_matrix_csv(path, "step", [], [], [])
        return write_matrix_csv(path, f"step \\ log10 {self.quantity}", s.keys, s.steps, s.log10)

    def image_array(self) -> np.ndarray | None:
        """What is shown: (samples × layers) log10 values (tests, CSV)."""
        _, s = self._series()
        return s.log10 if s is not None and len(s) else None

    # -- mouse ------------------------------------------------------------------------------------
    def _cell(self, scene_pos) -> tuple[int, int] | None:
        feed, s = self._series()
        if s is None or not len(s) or not self.plot.sceneBoundingRect().contains(scene_pos):
            return None
        p = self.plot.getViewBox().mapSceneToView(scene_pos)
        row = int(math.floor(p.y()))
        if not 0 <= row < len(s.keys):
            return None
        steps = s.steps
        col = int(np.clip(np.searchsorted(steps, p.x()), 0, len(steps) - 1))
        if col > 0 and abs(steps[col - 1] - p.x()) < abs(steps[col] - p.x()):
            col -= 1
        return row, col

    def _hover(self, pos) -> None:
        cell = self._cell(pos)
        if cell is None:
            return
        _, s = self._series()
        row, col = cell
        v = s.log10[col, row]
        key = s.keys[row]
        node = node_of_key(key)
        where = key if node == key else f"{key} (node {node})"
        self.readout.setText(f"layer {row}: {where} · step {s.steps[col]:,.0f} · "
                             f"{LAYER_QUANTITIES[self.quantity]} = {fmt_value(10.0 ** float(v))}")

    def _click(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        cell = self._cell(event.scenePos())
        if cell is None:
            return
        node = node_of_key(self._keys[cell[0]])
        self.highlight_node(node)
        self.layerClicked.emit(node)

    def click_row(self, row: int) -> None:
        """Act as if row ``row`` was clicked (keyboard users and tests)."""
        if 0 <= row < len(self._keys):
            node = node_of_key(self._keys[row])
            self.highlight_node(node)
            self.layerClicked.emit(node)
