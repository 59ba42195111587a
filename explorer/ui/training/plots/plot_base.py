"""What every training plot shares, set up once: the themed plot widget and its plot item, the legend row
and the hover readout under it, the redraw throttle (its paint cost reported), the range keeper, the
pointer hooked to ``_hover``, and the readout cleared when the run it speaks of goes (its document closed
or the run removed). A plot fills in ``redraw()``, ``_hover(scene_pos)`` and what it exports
(``curve_data()``, or ``write_csv`` for a table that is not curves).
"""
from __future__ import annotations

from pathlib import Path

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from explorer.runs.csv_io import write_curves_csv
from explorer.ui.training.plots.ranges import RangeKeeper
from explorer.ui.training.plots.style import LegendRow, new_plot_widget
from explorer.ui.training.throttle import MAX_HZ, Throttle


class TrainingPlot(QWidget):
    """``throttle``: a panel's shared one (its views redraw in one pass), else the plot's own at ``hz``;
    ``legend``: a legend row under the plot; ``log_y``: a log y axis from the start."""

    def __init__(self, controller, parent: QWidget | None = None, throttle: Throttle | None = None, *,
                 bottom: str = "", title: str = "", hz: float = MAX_HZ, legend: bool = True, log_y: bool = False):
        super().__init__(parent)
        self.controller = controller
        self.widget, self.plot = self._make_view(bottom, title)
        self.legend = LegendRow(self) if legend else None
        self.readout = QLabel(" ", self)
        self.readout.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        lay.addWidget(self.widget, 1)
        if self.legend is not None:
            lay.addWidget(self.legend)
        lay.addWidget(self.readout)
        self.throttle = throttle.add(self.redraw) if throttle else Throttle(self.redraw, hz, parent=self,
                                                                                   visible=self.isVisible)
        self.widget.on_paint = self.throttle.note_paint
        self.ranges = RangeKeeper(self.plot, on_reset=self.throttle.request)
        self.widget.scene().sigMouseMoved.connect(self._hover)
        controller.runRemoved.connect(lambda _id: self.clear_readout())   # a hover's words about a run gone
        if log_y:
            self.set_log_axis(True)

    def _make_view(self, bottom: str, title: str) -> tuple[pg.GraphicsView, pg.PlotItem]:
        """The widget and its plot item; a plot that is not a PlotWidget (an image with a colour bar)
        makes its own here."""
        widget = new_plot_widget("", bottom, title)
        return widget, widget.getPlotItem()

    def set_log_axis(self, on: bool) -> None:
        """Log or linear y; no SI prefix on a log axis ("×0.001" there only confuses)."""
        self.plot.setLogMode(y=on)
        self.plot.getAxis("left").enableAutoSIPrefix(not on)

    def clear_readout(self) -> None:
        self.readout.setText(" ")

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.throttle.shown()

    # -- what a plot fills in ---------------------------------------------------------------------
    def redraw(self) -> None:
        raise NotImplementedError

    def _hover(self, scene_pos) -> None:
        """The pointer moved over the widget (scene coordinates): say what is under it in ``readout``."""

    def curve_data(self):
        """(name, series, x, y) of every curve drawn: the CSV export."""
        return iter(())

    def csv_names(self) -> tuple[str, str]:
        """(x column, y column) names of the CSV export."""
        return "x", "y"

    def write_csv(self, path: Path) -> int:
        """Write what the plot draws to ``path`` (already made safe to write); returns the data rows."""
        x_name, y_name = self.csv_names()
        return write_curves_csv(path, self.curve_data(), x_name=x_name, y_name=y_name)
