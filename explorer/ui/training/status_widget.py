"""Progress of the training run for the window's status bar: a bar and "epoch · step · samples/s · ETA",
after the network that trains as it trains (fitted to its data set: "in 1×8×8, 2.5M MACs"), which can
differ from the canvas's network that the summary beside it describes.

Redrawn at most ``STATUS_HZ`` times a second: reports can come dozens of times a second, and each
label or bar change repaints part of the window. While the loss plots draw the training run, the line
changes in their redraw pass instead (``keep_step_with``), so it names the step of their last point.
"""
from __future__ import annotations

from typing import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QSizePolicy, QWidget

from explorer.train.progress import format_duration
from explorer.ui.training.throttle import Throttle

STATUS_HZ = 2.0


def network_text(rec) -> str:
    """"in 1×8×8, 2.5M MACs" for the network ``rec`` trains, fitted to its data set as the run fits it; ""
    while the data set is not loaded (never loads it here)."""
    from explorer.data.cache import peek_dataset
    from explorer.graph.fileio import FileFormatError, loads_graph
    from explorer.graph.shapes import fmt_shape
    from explorer.network.adapt import adapt_to_data
    from explorer.network.inference import analyze
    from explorer.ui.canvas.node_item import human

    seed = rec.config.get("seed", 0)
    ds = peek_dataset(rec.dataset, seed if isinstance(seed, int) else 0)
    if ds is None:
        return ""
    try:
        graph, _ = adapt_to_data(loads_graph(rec.graph_json, source="run"), tuple(ds.input_shape), ds.num_classes)
        a = analyze(graph)
    except (FileFormatError, ValueError):
        return ""
    return f"in {fmt_shape(a.input_shape)}, {human(a.total.macs)} MACs" if a.valid else ""


def progress_text(r) -> str:
    return (f"epoch {r.epoch}/{r.epochs} · step {r.step:,}/{r.total_steps:,} · "
            f"{r.samples_per_s:,.0f} samples/s · ETA {format_duration(r.eta_s)}")


class ElidedLabel(QLabel):
    """A one-line label that shows as much of its text as fits, ending in "…"; ``text()`` is the whole."""

    def __init__(self, text: str = "", parent: QWidget | None = None):
        super().__init__(parent)
        self.full = ""
        self.setText(text)

    def setText(self, text: str) -> None:   # noqa: N802 (Qt's name)
        self.full = text
        self.setToolTip(text)
        self._elide()

    def text(self) -> str:
        return self.full

    def sizeHint(self):   # noqa: N802 (Qt's name)
        # As wide as it may be, whatever it says now: the status bar gives it that where there is room,
        # less (down to its minimum) where there is not, and never re-lays out as the text changes.
        hint = super().sizeHint()
        hint.setWidth(self.maximumWidth())
        return hint

    def minimumSizeHint(self):   # noqa: N802
        hint = super().minimumSizeHint()
        hint.setWidth(self.minimumWidth())
        return hint

    def resizeEvent(self, event) -> None:   # noqa: N802
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        shown = self.fontMetrics().elidedText(self.full, Qt.TextElideMode.ElideRight, max(0, self.width()))
        if shown != super().text():
            super().setText(shown)


class TrainingStatus(QWidget):
    def __init__(self, controller, parent: QWidget | None = None):
        super().__init__(parent)
        self.c = controller
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.bar.setTextVisible(False)
        self.bar.setFixedWidth(140)
        self.bar.setFixedHeight(12)
        self.label = ElidedLabel()
        # Its width never follows the text: text of changing length must not re-layout the window (that
        # repaints every plot), and a long run name must not widen the window beyond the screen (it is
        # elided, whole in the tooltip).
        self.label.setMinimumWidth(self.label.fontMetrics().horizontalAdvance("x" * 30))
        self.label.setMaximumWidth(self.label.fontMetrics().horizontalAdvance("x" * 84))
        self.label.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(4, 0, 4, 0)
        lay.addWidget(self.label)
        lay.addWidget(self.bar)
        self.setVisible(False)
        self.setAutoFillBackground(True)  # opaque: an update repaints this strip, not the window behind it
        self._latest = None
        self._network = ("", "")   # (run id, what it trains), worked out once per run
        self.throttle = Throttle(self._own_pace, STATUS_HZ, parent=self, duty=1.0)
        self._plotted: Callable[[str], bool] = lambda run_id: False
        controller.progress.connect(self._progress)
        controller.runChanged.connect(self._changed)
        controller.runStarted.connect(self._started)

    def _started(self, run_id: str) -> None:
        rec = self.c.record(run_id)
        self.bar.setValue(0)
        self.label.setText(f"{rec.name}: loading {rec.dataset}…")
        self.setVisible(True)

    def _progress(self, run_id: str, r) -> None:
        if run_id == self.c.training_id:
            self._latest = (run_id, r)
            self.throttle.request()

    def keep_step_with(self, plots: Throttle, plotted: Callable[[str], bool]) -> None:
        """Change in the same pass as the plots that ``plots`` redraws whenever ``plotted(run_id)`` (the run
        is on screen in them): they and this line then show the same newest report, so the same step,
        instead of two clocks each showing what had arrived by their own tick."""
        self._plotted = plotted
        plots.add(self._with_plots)

    def _with_plots(self) -> None:
        if self._latest is not None and self._plotted(self._latest[0]):
            self._show_progress()

    def _own_pace(self) -> None:
        if self._latest is not None and not self._plotted(self._latest[0]):
            self._show_progress()

    def _show_progress(self) -> None:
        if self._latest is None or self._latest[0] != self.c.training_id:
            return
        run_id, r = self._latest
        if self.c.record(run_id).status != "running":
            return
        self.bar.setValue(int(1000 * r.step / max(1, r.total_steps)))
        rec = self.c.record(run_id)
        if self._network[0] != run_id or not self._network[1]:
            self._network = (run_id, network_text(rec))
        net = f" ({self._network[1]})" if self._network[1] else ""
        self.label.setText(f"{rec.name}{net}: {progress_text(r)}")

    def _changed(self, run_id: str) -> None:
        rec = self.c.record(run_id)
        if rec is None or run_id != (self.c.training_id or run_id):
            return
        if rec.status in ("paused", "running"):   # running again after Resume, until the next step's progress
            self.label.setText(f"{rec.name}: {rec.status}")
        elif rec.status in ("finished", "stopped", "failed"):
            acc = rec.final.get("final_val_acc")
            tail = f", validation accuracy {100 * acc:.1f} %" if isinstance(acc, float) else ""
            self.label.setText(f"{rec.name}: {rec.status}{tail}")
            self.bar.setValue(1000 if rec.status == "finished" else 0)   # a stopped run's bar does not stay half full
