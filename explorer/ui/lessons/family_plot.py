"""Accuracy against cost for a lesson that trains several networks (lesson 8, the family at equal cost): two
scatter plots side by side, validation accuracy against parameters and against multiply-accumulates, each
point named by its network. Drawn once per result from the result's own numbers."""
from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtWidgets import QHBoxLayout, QWidget

AXES = (("params", "parameters"), ("macs", "multiply-accumulates per sample"))


class FamilyPlot(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.plots = []
        for _key, label in AXES:
            p = pg.PlotWidget()
            p.setMinimumHeight(220)
            p.setLabel("bottom", label)
            p.setLabel("left", "validation accuracy", units="%")
            p.getAxis("left").enableAutoSIPrefix(False)
            p.getAxis("bottom").enableAutoSIPrefix(False)
            p.showGrid(x=True, y=True, alpha=0.2)
            lay.addWidget(p)
            self.plots.append(p)
        self.points: list[tuple[str, float, float, float]] = []   # (name, params, macs, accuracy %)

    def set_networks(self, networks: list[dict]) -> bool:
        """Plot the networks that have a validation error; False (nothing drawn) when fewer than two have."""
        self.points = [(str(n.get("name")), float(n["params"]), float(n["macs"]), 100.0 * (1.0 - n["final_val_err"]))
                       for n in networks if isinstance(n.get("final_val_err"), (int, float))
                       and isinstance(n.get("params"), (int, float)) and isinstance(n.get("macs"), (int, float))]
        for i, p in enumerate(self.plots):
            p.clear()
            if len(self.points) < 2:
                continue
            xs = [pt[1 + i] for pt in self.points]
            ys = [pt[3] for pt in self.points]
            p.addItem(pg.ScatterPlotItem(xs, ys, size=9, brush=pg.mkBrush("#1e88e5")))
            for name, x, y in zip((pt[0] for pt in self.points), xs, ys):
                text = pg.TextItem(name, anchor=(0, 1), color="#444")
                text.setPos(x, y)
                p.addItem(text)
        return len(self.points) >= 2
