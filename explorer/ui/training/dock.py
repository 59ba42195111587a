"""The training panel as a dock: settings and run controls on the left with the run list, live plots
on the right (tabs "Loss & accuracy" and "Gradients"). Composition only: the run lifecycle is the
RunController's, each plot is its own view.

Interface for the main window (see ``install.py``, which wires it):
- ``TrainingDock(graph_provider, arch_name_provider, parent)``: providers return the graph to train and
  its architecture name when Train is pressed;
- signals ``runStarted(str)``, ``runFinished(str)``, ``layerClicked(str node_id)``,
  ``trainingActiveChanged(bool)``, ``graphRequested(str graph_json, str name)``, ``statusMessage(str)``;
- slots ``highlightNode(str node_id)``, ``shutdown()`` (stop and wait: call before the window goes);
- ``set_blocker(problem)`` (the graph's first error: Train waits, its tooltip says why) and
  ``document_changed()`` (another document: its notices go).
"""
from __future__ import annotations

from typing import Callable

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (QDockWidget, QHBoxLayout, QLabel, QPushButton, QScrollArea, QSplitter, QTabWidget,
                               QVBoxLayout, QWidget)

from explorer.graph.model import Graph
from explorer.ui.training.comparison_view import ComparisonView
from explorer.ui.training.notice_banner import NoticeBanner
from explorer.ui.training.plots.gradient_panel import GradientPanel
from explorer.ui.training.plots.metrics_panel import MetricsPanel
from explorer.ui.training.run_controller import RunController
from explorer.ui.training.run_list import RunList
from explorer.ui.training.settings_form import SettingsForm
from explorer.ui.training.status_widget import TrainingStatus

FROZEN_NOTE = "Training works on a copy of the graph taken when you press Train: edits apply to the next run."
TRAIN_TIP = "Train the network on the canvas with these settings"
COMPARE_TIP = ("Train this network's plain twin (shortcuts removed) and then the network itself with the same "
               "settings and seed, overlaid")


class TrainingDock(QDockWidget):
    runStarted = Signal(str)
    runFinished = Signal(str)
    layerClicked = Signal(str)
    trainingActiveChanged = Signal(bool)
    graphRequested = Signal(str, str)   # graph JSON, run name
    statusMessage = Signal(str)

    def __init__(self, graph_provider: Callable[[], Graph | None], arch_name_provider: Callable[[], str] | None = None,
                 parent: QWidget | None = None, controller: RunController | None = None):
        super().__init__("Training", parent)
        self.setObjectName("TrainingDock")
        self.graph_provider = graph_provider
        self.arch_name_provider = arch_name_provider or (lambda: "")
        self.controller = controller or RunController(self)
        c = self.controller

        self.form = SettingsForm()
        self.form.tensorboardChanged.connect(c.session.set_tensorboard_dir)  # the runs' TensorBoard logs
        self.train_button = QPushButton("Train")
        self.train_button.setToolTip(TRAIN_TIP)
        self.blocker = ""   # the graph's first error: nothing trains until it is fixed
        self.pause_button = QPushButton("Pause")
        self.pause_button.setCheckable(True)
        self.stop_button = QPushButton("Stop")
        self.compare_button = QPushButton("Plain vs residual")
        self.compare_button.setToolTip(COMPARE_TIP)
        self.banner = NoticeBanner()
        self.runs = RunList(c)
        self.metrics = MetricsPanel(c, on_error=lambda t: self.banner.show_message(t, "error"))
        self.gradients = GradientPanel(c, on_error=lambda t: self.banner.show_message(t, "error"))
        self.comparison = ComparisonView(c, on_error=lambda t: self.banner.show_message(t, "error"))
        self.status = TrainingStatus(c)
        self.note = QLabel(FROZEN_NOTE)
        self.note.setWordWrap(True)
        self.note.setStyleSheet("color: palette(placeholder-text);")
        self.note.setVisible(False)

        buttons = QHBoxLayout()
        for b in (self.train_button, self.pause_button, self.stop_button):
            buttons.addWidget(b)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setWidget(self.form)
        left = QWidget()
        ll = QVBoxLayout(left)
        ll.setContentsMargins(4, 4, 4, 4)
        ll.addWidget(scroll, 3)
        ll.addLayout(buttons)
        ll.addWidget(self.compare_button)
        ll.addWidget(self.note)
        ll.addWidget(QLabel("Runs (tick to overlay)"))
        ll.addWidget(self.runs, 2)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.metrics, "Loss && accuracy")
        self.tabs.addTab(self.gradients, "Gradients")
        self.tabs.addTab(self.comparison, "Plain vs residual")
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(self.tabs)
        split.setStretchFactor(0, 0)
        split.setStretchFactor(1, 1)
        split.setSizes([330, 900])
        body = QWidget()
        bl = QVBoxLayout(body)
        bl.setContentsMargins(0, 0, 0, 0)
        bl.setSpacing(2)
        bl.addWidget(self.banner)
        bl.addWidget(split, 1)
        self.status_in_dock = True
        bl.addWidget(self.status)
        self.setWidget(body)

        self.train_button.clicked.connect(self.train)
        self.pause_button.toggled.connect(self._pause_toggled)
        self.stop_button.clicked.connect(self.stop)
        self.compare_button.clicked.connect(self.compare)
        self.gradients.layerClicked.connect(self.layerClicked)
        self.comparison.layerClicked.connect(self.layerClicked)
        self.runs.settingsRequested.connect(self._use_settings)
        self.runs.graphRequested.connect(self._open_graph)
        c.runStarted.connect(self.runStarted)
        c.runFinished.connect(self.runFinished)
        c.trainingChanged.connect(self._training_changed)
        c.runChanged.connect(self._run_changed)
        c.notice.connect(self._notice)
        self._training_changed(False)

    # -- actions ----------------------------------------------------------------------------------
    def _inputs(self):
        graph = self.graph_provider()
        if graph is None or len(graph) == 0:
            self.banner.show_message("there is no network to train: build one on the canvas or open a preset",
                                     "error")
            return None
        if self.blocker:
            self.banner.show_message(f"fix the graph first: {self.blocker}", "error")
            return None
        problem = self.form.problem()
        if problem:
            self.banner.show_message(problem, "error")
            return None
        return graph, self.form.dataset_spec(), self.form.config(), self.arch_name_provider() or graph.name

    @Slot()
    def train(self) -> str | None:
        """Start a run of the current graph with the form's settings; returns its id (None if refused)."""
        got = self._inputs()
        if got is None:
            return None
        graph, dataset, config, arch = got
        self.banner.hide()
        return self.controller.start(graph, dataset, config, arch=arch, auto_log=self.form.auto_log,
                                     auto_stats=self.form.auto_stats)

    @Slot()
    def compare(self) -> tuple[str, str] | None:
        got = self._inputs()
        if got is None:
            return None
        graph, dataset, config, arch = got
        try:
            ids = self.controller.start_comparison(graph, dataset, config, arch=arch, auto_log=self.form.auto_log,
                                                   auto_stats=self.form.auto_stats)
        except (ValueError, RuntimeError) as e:
            self.banner.show_message(str(e), "error")
            return None
        self.tabs.setCurrentWidget(self.comparison)   # what this button is for: the two side by side
        return ids

    @Slot()
    def stop(self) -> None:
        self.controller.stop()

    def _pause_toggled(self, on: bool) -> None:
        (self.controller.pause if on else self.controller.resume)()
        self.pause_button.setText("Resume" if on else "Pause")

    @Slot(str)
    def highlightNode(self, node_id: str) -> None:
        """The canvas selected ``node_id`` ("" = nothing): mark its rows and curves."""
        self.gradients.highlight_node(node_id or "")
        self.comparison.highlight_node(node_id or "")

    @Slot()
    def shutdown(self) -> bool:
        return self.controller.shutdown()

    def set_blocker(self, problem: str) -> None:
        """The graph's first error ("" when it is valid): Train and Plain vs residual wait until it is fixed,
        and their tooltips say why."""
        if problem == self.blocker:
            return
        self.blocker = problem
        for button, tip in ((self.train_button, TRAIN_TIP), (self.compare_button, COMPARE_TIP)):
            button.setToolTip(f"Fix the graph first: {problem}" if problem else tip)
        self._training_changed(self.controller.is_training())

    def document_changed(self) -> None:
        """Another document is open: notices and the finished run's status line were about the last one."""
        self.banner.hide()
        if not self.controller.is_training():
            self.status.setVisible(False)

    # -- reactions --------------------------------------------------------------------------------
    def _training_changed(self, on: bool) -> None:
        self.train_button.setEnabled(not on and not self.blocker)
        self.compare_button.setEnabled(not on and not self.blocker)
        self.pause_button.setEnabled(on)
        self.stop_button.setEnabled(on)
        self.form.setEnabled(not on)
        self.note.setVisible(on)
        if not on and self.pause_button.isChecked():
            self.pause_button.blockSignals(True)
            self.pause_button.setChecked(False)
            self.pause_button.setText("Pause")
            self.pause_button.blockSignals(False)
        self.trainingActiveChanged.emit(on)

    def _run_changed(self, run_id: str) -> None:
        rec = self.controller.record(run_id)
        if rec is not None and rec.status in ("finished", "stopped") and run_id == self.controller.focus:
            acc = rec.final.get("final_val_acc")
            self.statusMessage.emit(f"{rec.name} {rec.status}" +
                                    (f": validation accuracy {100 * acc:.1f} %" if isinstance(acc, float) else ""))

    def _notice(self, text: str, level: str) -> None:
        if level == "error" or not self.banner.isVisible() or self.banner.level != "error":
            self.banner.show_message(text, level)
        self.statusMessage.emit(text)

    def _use_settings(self, run_id: str) -> None:
        rec = self.controller.record(run_id)
        if rec is not None:
            self.form.apply(rec.config, rec.dataset)

    def _open_graph(self, run_id: str) -> None:
        rec = self.controller.record(run_id)
        if rec is not None:
            self.graphRequested.emit(rec.graph_json, rec.name)

    def hideEvent(self, event) -> None:
        # The main window closing hides its docks (a floating one too). Stopping here means a window that
        # is closed without calling shutdown() still never leaves a training thread running.
        super().hideEvent(event)
        mw = self.parentWidget()
        if mw is not None and not mw.isVisible() and self.controller.is_training():
            self.controller.shutdown()
