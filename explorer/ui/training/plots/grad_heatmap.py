"""Per-layer gradient magnitude of one run as a heatmap: layers in network order (top = input side)
against steps, log10 colour scale with a colour bar.

Data come straight from the run's LayerSeries (already log10 and bounded: old steps are merged, so a
1,000-layer × 10,000-step run is at most 2,048 columns). One ImageItem, ``setImage`` with fixed levels;
``autoDownsample`` reduces the image to screen resolution before colouring. The levels only widen (to
whole decades) when new values fall outside, so colours never flicker and no frame searches the whole
image. Clicking a row emits the node behind it; ``highlight_node`` marks a node's rows.
"""
from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from explorer.runs.feed import LAYER_QUANTITIES, node_of_key
from explorer.ui.training.plots.ranges import RangeKeeper
from explorer.ui.training.plots.style import LayoutView, fmt_value, palette_colors, style_plot
from explorer.ui.training.throttle import GRADIENT_HZ, Throttle

DEFAULT_LEVELS = {"grad_norm": (-4.0, 1.0), "output_grad_norm": (-5.0, 0.0), "update_ratio": (-5.0, -1.0)}
FLOOR = -12.0      # log10 values below this are exact zeros (stored as 1e-30), not a colour-scale bound
MAX_TICKS = 40


class GradHeatmap(QWidget):
    layerClicked = Signal(str)   # node id of the clicked row

    def __init__(self, controller, parent: QWidget | None = None, throttle: Throttle | None = None):
        super().__init__(parent)
        self.controller = controller
        self.quantity = "grad_norm"
        self.levels = DEFAULT_LEVELS[self.quantity]
        self._keys: list[str] = []
        self._run = ""
        self._highlight = ""
        bg, fg = palette_colors()
        self.widget = LayoutView()
        self.widget.setBackground(bg)
        self.plot = self.widget.addPlot()
        self.plot.setMenuEnabled(False)
        style_plot(self.plot, "", "step", "")
        self.plot.invertY(True)
        self.plot.showGrid(x=False, y=False)
        self.plot.getViewBox().setMouseEnabled(x=True, y=True)
        self.image = pg.ImageItem(axisOrder="col-major")
        self.image.setAutoDownsample(True)
        self.plot.addItem(self.image)
        self.bar = pg.ColorBarItem(values=self.levels, colorMap=pg.colormap.get("viridis"), interactive=False,
                                   label=self._bar_label(), width=14, pen=fg)
        self.bar.setImageItem(self.image, insert_in=self.plot)
        self.band = pg.LinearRegionItem(orientation="horizontal", movable=False,
                                        brush=pg.mkBrush(255, 255, 255, 45), pen=pg.mkPen("#ff5252", width=1.5))
        self.band.setZValue(10)
        self.band.setVisible(False)
        self.plot.addItem(self.band, ignoreBounds=True)
        self.readout = QLabel(" ", self)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        lay.addWidget(self.widget, 1)
        lay.addWidget(self.readout)
        self.throttle = throttle.add(self.redraw) if throttle else Throttle(self.redraw, GRADIENT_HZ, parent=self,
                                                                                   visible=self.isVisible)
        self.widget.on_paint = self.throttle.note_paint
        self.ranges = RangeKeeper(self.plot, on_reset=self.throttle.request)
        self.widget.scene().sigMouseMoved.connect(self._hover)
        self.widget.scene().sigMouseClicked.connect(self._click)
        controller.dataArrived.connect(self._on_data)
        controller.focusChanged.connect(lambda _id: self._reset())
        controller.runRemoved.connect(lambda _id: self._reset())

    def _bar_label(self) -> str:
        return f"log₁₀ {LAYER_QUANTITIES[self.quantity]}"

    # -- options ----------------------------------------------------------------------------------
    def set_quantity(self, quantity: str) -> None:
        if quantity != self.quantity:
            self.quantity = quantity
            self.bar.setLabel("left", self._bar_label())
            self._reset()

    def highlight_node(self, node_id: str) -> None:
        self._highlight = node_id or ""
        self._place_band()

    # -- drawing ----------------------------------------------------------------------------------
    def _series(self):
        feed = self.controller.feed(self.controller.focus)
        return feed, (feed.layers.get(self.quantity) if feed else None)

    def _on_data(self, run_id: str) -> None:
        if run_id == self.controller.focus:
            self.throttle.request()

    def _reset(self) -> None:
        """Another run or quantity: levels from its whole data once, ticks, then a redraw."""
        self._run = ""
        self.levels = DEFAULT_LEVELS[self.quantity]
        feed, s = self._series()
        if s is not None and len(s):
            self._widen(s.log10)
        self.ranges.reset()

    def _widen(self, values: np.ndarray) -> None:
        v = values[np.isfinite(values) & (values > FLOOR)]
        if not v.size:
            return
        lo, hi = self.levels
        lo2, hi2 = min(lo, math.floor(float(v.min()))), max(hi, math.ceil(float(v.max())))
        if (lo2, hi2) != (lo, hi):
            self.levels = (lo2, hi2)
            self.bar.setLevels(self.levels)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.throttle.shown()

    def redraw(self) -> None:
        feed, s = self._series()
        if s is None or not len(s):
            self.image.clear()
            self._set_keys([])
            return
        if self._run != feed.id:
            self._run = feed.id
        self._set_keys(s.keys)
        data = s.log10
        latest = data[-1]
        self._widen(latest)  # only the newest column: no search of the whole image per frame
        steps = s.steps
        half = (steps[1] - steps[0]) / 2 if len(steps) > 1 else 0.5
        x0, x1 = steps[0] - half, steps[-1] + half
        self.image.setImage(data, levels=self.levels, autoLevels=False)
        self.image.setRect(QRectF(x0, 0, max(x1 - x0, 1e-9), len(s.keys)))
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
        axis.setTicks([ticks, []])
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
