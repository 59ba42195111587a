"""Two rows of the analysis panel: Run / Cancel with the progress bar under them, and the results' line
(which target and when it was computed) with the picture and data export buttons, named after the tool."""
from __future__ import annotations

from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget


class RunRow(QWidget):
    """Run and Cancel; the progress bar shows only while a tool runs."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.run_button = QPushButton("Run")
        self.run_button.setDefault(True)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.progress_bar = QProgressBar()
        self.progress_bar.setTextVisible(True)
        self.progress_bar.hide()
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.addWidget(self.run_button, 0, 0)
        grid.addWidget(self.cancel_button, 0, 1)
        grid.addWidget(self.progress_bar, 1, 0, 1, 2)

    def set_busy(self, busy: bool) -> None:
        self.run_button.setEnabled(not busy)
        self.cancel_button.setEnabled(busy)
        self.progress_bar.setVisible(busy)
        if busy:
            self.progress_bar.setRange(0, 0)   # busy until the first progress report

    def progress(self, what: str, done: int, total: int) -> None:
        self.progress_bar.setRange(0, max(1, total))
        self.progress_bar.setValue(done)
        self.progress_bar.setFormat(f"{what}: {done} of {total}")


class ExportRow(QWidget):
    """Where the shown result comes from, then "Save … picture (PNG)…" and "Save … data (CSV)…"."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.png_button = QPushButton()
        self.csv_button = QPushButton()
        self.saved_label = QLabel()
        self.saved_label.setStyleSheet("color: palette(placeholder-text);")
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.saved_label, 1)
        row.addWidget(self.png_button)
        row.addWidget(self.csv_button)

    def set_tool(self, title: str) -> None:
        what = title.lower()
        self.png_button.setText(f"Save {what} picture (PNG)…")
        self.csv_button.setText(f"Save {what} data (CSV)…")
        self.png_button.setToolTip(f"The {what} plots as shown, with the legend and verdict line")
        self.csv_button.setToolTip(f"The numbers the {what} plots draw, one row per point")

    def set_result(self, saved: str | None) -> None:
        """A result from ``saved`` is shown (its exports enabled), or none (None)."""
        self.saved_label.setText(saved or "")
        self.png_button.setEnabled(saved is not None)
        self.csv_button.setEnabled(saved is not None)
