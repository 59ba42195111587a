"""A new training plot is its redraw, its hover and its curves: the base gives it the themed axes, the legend
and readout rows, the throttle, the CSV export, and clears the readout when the run it speaks of goes."""
from __future__ import annotations

import csv

import numpy as np
from PySide6.QtCore import QPointF

from explorer.ui.training.plots.export import export_csv
from explorer.ui.training.plots.plot_base import TrainingPlot
from explorer.ui.training.run_controller import RunController


class Squares(TrainingPlot):
    def __init__(self, controller):
        super().__init__(controller, bottom="n", title="Squares", log_y=True)
        self.curve = self.plot.plot([], [])
        self.redraws = 0

    def redraw(self) -> None:
        self.redraws += 1
        self.curve.setData(*self.xy())

    def xy(self):
        x = np.arange(1.0, 5.0)
        return x, x ** 2

    def _hover(self, scene_pos) -> None:
        self.readout.setText("n 2: 4")

    def curve_data(self):
        yield "run", "square", *self.xy()

    def csv_names(self):
        return "n", "square"


def test_a_plot_from_the_base_exports_its_curves_and_forgets_a_removed_run(qtbot, tmp_path):
    controller = RunController()
    plot = Squares(controller)
    qtbot.addWidget(plot)
    plot.show()
    plot.throttle.request()
    qtbot.waitUntil(lambda: plot.redraws > 0)
    assert plot.plot.getAxis("left").logMode and plot.legend is not None
    assert plot.plot.titleLabel.text == "Squares" and plot.plot.getAxis("bottom").labelText == "n"
    rows = export_csv(plot, tmp_path / "squares.csv")
    with open(tmp_path / "squares.csv", newline="") as f:
        table = list(csv.reader(f))
    assert rows == 4 and table[0] == ["run", "series", "n", "square"] and table[-1] == ["run", "square", "4", "16"]
    plot.widget.scene().sigMouseMoved.emit(QPointF(10, 10))   # the pointer over the plot: its hover speaks
    assert plot.readout.text() == "n 2: 4"
    controller.runRemoved.emit("run-1")
    assert plot.readout.text().strip() == ""
