"""Export a plot as a PNG picture and its data as CSV, and the small "Export" button that offers both.

Pictures are grabs of the plot widget as shown (colour bar and legend included); data are what the plot
draws (``curve_data()`` for curve plots, the step × layer table for the heatmap). The picture, and the
error both raise, are the shared ``explorer.ui.view_export``'s.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QMenu, QToolButton, QWidget

from explorer.ui.training.plots.plot_base import TrainingPlot
from explorer.ui.view_export import ExportError, export_png, flush, writing

__all__ = ["ExportButton", "ExportError", "export_csv", "export_png"]


def export_csv(plot: TrainingPlot, path: str | Path) -> int:
    """Write what ``plot`` shows; returns the number of data rows."""
    path = Path(path)
    flush(plot)
    with writing(path):
        return plot.write_csv(path)   # a TrainingPlot: its curves, or the heatmap's step × layer table


class ExportButton(QToolButton):
    """"Export <what> ▾" with "Export plot (PNG)…" and "Export data (CSV)…": a panel has several, and each
    names the plot it saves. Errors go to ``on_error`` (the dock's banner)."""

    def __init__(self, plot: QWidget, picture_of: QWidget | None, stem: str, on_error=None, parent=None,
                 what: str = ""):
        super().__init__(parent)
        self.plot, self.picture_of, self.stem, self.on_error = plot, picture_of or plot, stem, on_error
        what = what or stem.replace("_", " ")
        self.setText(f"Export {what}")
        self.setToolTip(f"Save the {what} plot as a picture (PNG) or the data it draws (CSV)")
        self.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self)
        self.png_action = menu.addAction(f"Export {what} plot (PNG)…", self._png)
        self.csv_action = menu.addAction(f"Export {what} data (CSV)…", self._csv)
        self.setMenu(menu)

    def _png(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save plot picture", f"{self.stem}.png", "PNG image (*.png)")
        if path:
            self._try(lambda: export_png(self.picture_of, path))

    def _csv(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save plot data", f"{self.stem}.csv", "CSV (*.csv)")
        if path:
            self._try(lambda: export_csv(self.plot, path))

    def _try(self, fn) -> None:
        try:
            fn()
        except ExportError as e:
            if self.on_error:
                self.on_error(str(e))
