"""The Study view's two plots: error against depth (plain and residual, training error solid with its
spread over seeds as error bars, validation error dashed; a point's tooltip lists its trials and a click
on it asks to open them) and every trial's training loss, coloured by depth (plain reds, residual blues).
Both keep their key in the title, never a legend over the curves.

One curve object per series, updated with ``setData``; the loss curves grow from numpy buffers."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal

from explorer.studies.figure import PLAIN_COLOR, RESIDUAL_COLOR, depth_color
from explorer.ui.training.plots.style import palette_colors, style_plot

KINDS = ((True, "plain", PLAIN_COLOR), (False, "residual", RESIDUAL_COLOR))
STROKE = "━━"  # a depth's swatch in the loss plot's key
# Both plots share one row: one minimum, or the taller one overflows the row and loses its axis title.
PLOT_MIN_HEIGHT = 140


def set_up(widget: pg.PlotWidget, bottom: str, left: str, title: str) -> None:
    """The training plots' look (``style``: the app palette's background and axes, a faint grid), with the
    Study view's smaller title."""
    widget.setBackground(palette_colors()[0])
    widget.setMinimumHeight(PLOT_MIN_HEIGHT)
    style_plot(widget.getPlotItem(), left, bottom)
    set_title(widget, title)


def set_title(widget: pg.PlotWidget, title: str) -> None:
    """The Study view's smaller title, in the palette's text colour (HTML spans keep their own colours)."""
    widget.setTitle(title, color=palette_colors()[1].name(), size="9pt")


def _span(color: tuple[int, int, int], text: str) -> str:
    return f"<span style='color:#{''.join(f'{c:02x}' for c in color)}'>{text}</span>"


class DepthPlot(pg.PlotWidget):
    pointClicked = Signal(int, bool)     # (depth, plain) of the clicked point

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        # The key in the title, not a legend: a legend inside the plot would hide points.
        key = " / ".join(_span(color, label) for _, label, color in KINDS)
        set_up(self, "depth (weight layers)", "error (%)", f"{key}: training error solid, validation dashed")
        self.trials: dict[tuple[int, bool], list[dict]] = {}
        self.train, self.val, self.points, self.bars = {}, {}, {}, {}
        for plain, label, color in KINDS:
            self.train[plain] = self.plot([], [], pen=pg.mkPen(color, width=2))
            self.val[plain] = self.plot([], [], pen=pg.mkPen(color, width=1, style=Qt.PenStyle.DashLine))
            self.bars[plain] = pg.ErrorBarItem(x=np.zeros(0), y=np.zeros(0), height=np.zeros(0), beam=0.6,
                                               pen=pg.mkPen(color))
            self.addItem(self.bars[plain])
            self.points[plain] = pg.ScatterPlotItem(size=11, brush=pg.mkBrush(color), pen=pg.mkPen("w"),
                                                    hoverable=True, tip=self.tip)
            self.points[plain].sigClicked.connect(self._clicked)
            self.addItem(self.points[plain])
        for side in ("left", "bottom"):
            self.getAxis(side).enableAutoSIPrefix(False)   # no "(x0.001)" beside a depth or a percentage
        self._empty_range()

    def _empty_range(self) -> None:
        """Before any trial finishes: a plausible frame (depths 0-60, errors 0-100 %), not the
        -400..400 that empty items autorange to."""
        self.setXRange(0, 60, padding=0.05)
        self.setYRange(0, 100, padding=0.05)

    def set_results(self, summary: list[dict], trials: list[dict]) -> None:
        self.trials = {}
        depths = sorted({r["depth"] for r in summary})
        self.getAxis("bottom").setTicks([[(d, str(d)) for d in depths]] if depths else None)  # whole depths only
        if depths:
            self.enableAutoRange()
        else:
            self._empty_range()
        for t in trials:
            self.trials.setdefault((t["depth"], t["plain"]), []).append(t)
        for plain, _, _ in KINDS:
            rows = sorted((r for r in summary if r["plain"] == plain and r["train_err_mean"] is not None),
                          key=lambda r: r["depth"])
            x = np.array([r["depth"] for r in rows], float)
            y = np.array([100 * r["train_err_mean"] for r in rows])
            self.train[plain].setData(x, y)
            self.points[plain].setData(x=x, y=y, data=[(r["depth"], plain) for r in rows])
            self.bars[plain].setData(x=x, y=y, height=np.array([200 * r["train_err_std"] for r in rows]))
            val = [r for r in rows if r["val_err_mean"] is not None]
            self.val[plain].setData(np.array([r["depth"] for r in val], float),
                                    np.array([100 * r["val_err_mean"] for r in val]))

    def tip(self, x, y, data) -> str:
        depth, plain = data
        lines = [f"{'plain' if plain else 'residual'}, depth {depth}: training error {y:.1f} % (mean)"]
        for t in self.trials.get((depth, plain), []):
            err = "" if t["final_train_err"] is None else f"train err {100 * t['final_train_err']:.1f} %"
            lines.append(f"{t['id']}: {t['state']} {err}".rstrip())
        return "\n".join(lines)

    def _clicked(self, item, points, ev=None) -> None:
        if len(points):
            depth, plain = points[0].data()
            self.pointClicked.emit(int(depth), bool(plain))


class LossPlot(pg.PlotWidget):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        # The key in the title, as in the depth plot: any legend inside the plot hid curves (a deep plain
        # network's loss stays high, right where a corner legend sits).
        set_up(self, "step", "training loss", "every trial, coloured by depth")
        self.curves: dict[str, pg.PlotDataItem] = {}
        self.data: dict[str, list[list[float]]] = {}
        self.depths: list[int] = []
        self.kinds: dict[str, tuple[int, bool]] = {}

    def set_trials(self, trials: list[dict]) -> None:
        """Know every trial's depth and kind (the colours need all depths); the title becomes the key."""
        self.depths = sorted({t["depth"] for t in trials})
        self.kinds = {t["id"]: (t["depth"], t["plain"]) for t in trials}
        set_title(self, self.key())

    def key(self) -> str:
        """Each kind in its colour, then a stroke of each depth's shade before the depth in the text colour
        (the shallow shades are too pale to read as text): "depth: plain ━20 ━56 / residual ━20 ━56"."""
        parts = []
        for plain, label, color in KINDS:
            depths = sorted({d for d, p in self.kinds.values() if p == plain})
            if depths:
                shades = " ".join(f"{_span(depth_color(d, self.depths, plain), STROKE)}{d}" for d in depths)
                parts.append(f"{_span(color, label)} {shades}")
        return f"depth: {' / '.join(parts)}" if parts else "every trial, coloured by depth"

    def clear_curves(self) -> None:
        for c in self.curves.values():
            self.removeItem(c)
        self.curves, self.data = {}, {}

    def set_curve(self, tid: str, xs, ys) -> None:
        self.data[tid] = [list(xs), list(ys)]
        self._draw(tid)

    def add_point(self, tid: str, step: float, loss: float) -> None:
        xs, ys = self.data.setdefault(tid, [[], []])
        if xs and step <= xs[-1]:
            return  # a resumed trial repeats nothing it already drew
        xs.append(step)
        ys.append(loss)
        self._draw(tid)

    def _draw(self, tid: str) -> None:
        if tid not in self.curves:
            depth, plain = self.kinds.get(tid, (0, False))
            color = depth_color(depth, self.depths or [depth], plain)
            self.curves[tid] = self.plot([], [], pen=pg.mkPen(color, width=1.5))
        xs, ys = self.data[tid]
        self.curves[tid].setData(np.asarray(xs, float), np.asarray(ys, float))
