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

Fine-tuning: ``freeze_set`` (the frozen nodes, a training setting) is shown on the window's canvas (a
lock) and toggled from its context menu and inspector, wherever the parent window has ``scene`` and
``inspector``. Each run keeps its weights in its run folder (its ``out_dir``), so the run list
can start a run from them or fine-tune one on another data set.
"""
from __future__ import annotations

from typing import Callable

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QDockWidget, QInputDialog, QLabel, QSplitter, QTabWidget, QVBoxLayout, QWidget

from explorer.graph.fileio import FileFormatError, loads_graph
from explorer.graph.model import Graph
from explorer.ui.training.comparison_view import ComparisonView
from explorer.ui.training.form_scroll import FormScroll
from explorer.ui.training.freeze_set import FreezeSet
from explorer.ui.training.lazy_tab import LazyTab
from explorer.ui.training.notice_banner import NoticeBanner
from explorer.ui.training.plots.gradient_panel import GradientPanel
from explorer.ui.training.plots.metrics_panel import MetricsPanel
from explorer.ui.training.run_buttons import RunButtons
from explorer.ui.training.run_controller import RunController
from explorer.ui.training.run_list import RunList
from explorer.ui.training.settings_form import BUILT_IN, SettingsForm
from explorer.ui.training.status_widget import TrainingStatus

FINE_TUNE_SAMPLES = 200   # the small-data case, unless the form limits the samples already


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
        self.controller = c = controller or RunController(self)
        self.blocker = ""   # the graph's first error: nothing trains until it is fixed
        self.comparison_notice = ""   # the banner's text while a comparison trains
        self.freeze_set = FreezeSet(self)
        self.form = SettingsForm(freeze=self.freeze_set)
        self.form.tensorboardChanged.connect(c.session.set_tensorboard_dir)  # the runs' TensorBoard logs
        self.buttons = RunButtons()
        self.banner = NoticeBanner()
        self.runs = RunList(c)
        self.metrics = MetricsPanel(c, on_error=self._error)
        self.gradients = GradientPanel(c, on_error=self._error)
        self.comparison_tab = LazyTab(self._make_comparison)   # five plots, built when the tab is first shown
        self._highlighted = ""
        self.status = TrainingStatus(c)
        self.status.keep_step_with(self.metrics.throttle, self.metrics.draws)   # one step in the line and the plots
        self.form_scroll = FormScroll(self.form)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.metrics, "Loss && accuracy")
        self.tabs.addTab(self.gradients, "Gradients")
        self.tabs.addTab(self.comparison_tab, "Plain vs residual")
        self.setWidget(self._body(self._controls()))
        self._connect()
        self._training_changed(False)
        self.attach_canvas(getattr(parent, "scene", None), getattr(parent, "inspector", None))

    # The run controls, kept in one RunButtons row; these names are the dock's interface.
    train_button = property(lambda self: self.buttons.train)
    pause_button = property(lambda self: self.buttons.pause)
    stop_button = property(lambda self: self.buttons.stop)
    compare_button = property(lambda self: self.buttons.compare)
    button_row = property(lambda self: self.buttons)
    note = property(lambda self: self.form_scroll.note)   # "works on a copy": shown while a run trains

    def _error(self, text: str) -> None:
        self.banner.show_message(text, "error")

    def _controls(self) -> QWidget:
        """The left column: the scrolling form, the fixed row of run buttons, the run list."""
        left = QWidget()
        ll = QVBoxLayout(left)
        ll.setContentsMargins(4, 2, 4, 2)
        ll.setSpacing(3)   # on a 768 px screen every pixel of this column is the form's
        ll.addWidget(self.form_scroll, 1)
        ll.addWidget(self.buttons)
        ll.addWidget(QLabel("Runs (tick to overlay)"))
        ll.addWidget(self.runs)
        # The form takes the height the run list does not need (three to five rows; more rows scroll).
        self.runs.setMaximumHeight(self.runs.minimumHeight() + 2 * self.runs.verticalHeader().defaultSectionSize())
        left.setMinimumWidth(max(self.buttons.minimumSizeHint().width(), self.form_scroll.needed_width()) + 8)
        return left

    def _body(self, controls: QWidget) -> QWidget:
        """The banner over the controls and the plot tabs side by side, the status line under them."""
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(controls)
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
        bl.addWidget(self.status)
        return body

    def _connect(self) -> None:
        c = self.controller
        self.train_button.clicked.connect(self.train)
        self.pause_button.toggled.connect(self._pause_toggled)
        self.stop_button.clicked.connect(self.stop)
        self.compare_button.clicked.connect(self.compare)
        self.gradients.layerClicked.connect(self.layerClicked)
        self.runs.settingsRequested.connect(self._use_settings)
        self.runs.graphRequested.connect(self._open_graph)
        self.runs.startFromRequested.connect(self._start_from_run)
        self.runs.fineTuneRequested.connect(self.ask_fine_tune)
        c.runStarted.connect(self.runStarted)
        c.runFinished.connect(self.runFinished)
        c.trainingChanged.connect(self._training_changed)
        c.runChanged.connect(self._run_changed)
        c.notice.connect(self._notice)

    def attach_canvas(self, scene, inspector=None) -> None:
        """Show the frozen nodes on ``scene`` and offer Freeze for Training in its node menu and in
        ``inspector`` (either may be None)."""
        def entry(node_id, parent):
            return self.freeze_set.action(node_id, parent) if node_id else None
        if scene is not None and hasattr(scene, "set_frozen"):
            self.freeze_set.changed.connect(lambda: scene.set_frozen(self.freeze_set.ids()))
            scene.node_menu_entries.append(entry)
            scene.set_frozen(self.freeze_set.ids())
        if inspector is not None and hasattr(inspector, "node_actions"):
            inspector.node_actions.append(entry)

    def _with_weights_folder(self, config):
        """Each run keeps its weights (last.pt): the controller gives a run without an ``out_dir`` its
        folder beside its record (``RunController``), so fine-tuning and analysis find them, also after a
        restart."""
        return config

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
        return self.controller.start(graph, dataset, self._with_weights_folder(config), arch=arch, auto_log=self.form.auto_log,
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
        self.comparison_notice = self.banner.text()   # "comparing X with its plain twin…": goes when both end
        self.tabs.setCurrentWidget(self.comparison_tab)   # what this button is for: the two side by side
        return ids

    @Slot()
    def stop(self) -> None:
        self.controller.stop()

    def _pause_toggled(self, on: bool) -> None:
        (self.controller.pause if on else self.controller.resume)()

    @Slot(str)
    def highlightNode(self, node_id: str) -> None:
        """The canvas selected ``node_id`` ("" = nothing): mark its rows and curves."""
        self._highlighted = node_id or ""
        self.gradients.highlight_node(self._highlighted)
        if self.comparison_tab.is_built:
            self.comparison.highlight_node(self._highlighted)

    @property
    def comparison(self) -> ComparisonView:
        """The "Plain vs residual" view (built now if its tab has not been shown yet)."""
        return self.comparison_tab.widget

    def _make_comparison(self) -> ComparisonView:
        view = ComparisonView(self.controller, on_error=self._error)
        view.layerClicked.connect(self.layerClicked)
        view.highlight_node(self._highlighted)
        if self.controller.focus:
            view.select_focus(self.controller.focus)   # the pair of the run in focus, as if it had followed it
        return view

    @Slot()
    def shutdown(self) -> bool:
        return self.controller.shutdown()

    def set_blocker(self, problem: str) -> None:
        """The graph's first error ("" when it is valid): Train and Plain vs residual wait until it is fixed,
        and their tooltips say why."""
        if problem == self.blocker:
            return
        self.blocker = problem
        self.buttons.set_blocker(problem)
        self._training_changed(self.controller.is_training())

    def document_changed(self) -> None:
        """Another document is open: notices and the finished run's status line were about the last one."""
        self.banner.hide()
        if not self.controller.is_training():
            self.status.setVisible(False)

    # -- reactions --------------------------------------------------------------------------------
    def _training_changed(self, on: bool) -> None:
        self.buttons.set_training(on, bool(self.blocker))
        self.form.setEnabled(not on)
        self.note.setVisible(on)
        if not on and self.comparison_notice and self.banner.text() == self.comparison_notice:
            self.banner.hide()   # both runs have finished: the Plain vs residual tab has the verdict now
        if not on:
            self.comparison_notice = ""
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

    def _start_from_run(self, run_id: str) -> None:
        rec = self.controller.record(run_id)
        if rec is not None and rec.config.get("out_dir"):
            self.form.set_start_from(rec.config["out_dir"], f"run: {rec.name}")

    @Slot(str)
    def ask_fine_tune(self, run_id: str) -> tuple[str, str] | None:
        """Ask which data set to fine-tune ``run_id`` on, then do it (see ``fine_tune``)."""
        rec = self.controller.record(run_id)
        if rec is None:
            return None
        others = [d for d in BUILT_IN if d != rec.dataset] + [d for d in BUILT_IN if d == rec.dataset]
        dataset, ok = QInputDialog.getItem(self, "Fine-tune on another data set",
                                           f"Fine-tune {rec.name} (trained on {rec.dataset}) on:", others, 0, False)
        return self.fine_tune(run_id, dataset) if ok else None

    def fine_tune(self, run_id: str, dataset: str) -> tuple[str, str] | None:
        """Train ``run_id``'s graph on ``dataset`` from its weights with all but the last stage frozen
        (the classifier adapts to the new classes), and from scratch on the same samples, overlaid.
        Returns the two run ids, or None when refused (the banner says why)."""
        rec = self.controller.record(run_id)
        if rec is None or not rec.config.get("out_dir"):
            self.banner.show_message("this run kept no weights: fine-tune a finished run of this session", "error")
            return None
        if self.controller.is_training():
            self.banner.show_message("a run is already training; stop it or wait for it to finish", "error")
            return None
        try:
            graph = loads_graph(rec.graph_json, source=f"run '{rec.name}'")
        except FileFormatError as e:
            self.banner.show_message(f"cannot fine-tune run '{rec.name}': {e}", "error")
            return None
        problem = self.form.problem()
        if problem:
            self.banner.show_message(problem, "error")
            return None
        base = self.form.config()
        base = base.replace(init_from=None, freeze=[], unfreeze_at=0, lr_mult={},
                            train_samples=base.train_samples or FINE_TUNE_SAMPLES)
        tuned = base.replace(init_from=rec.config["out_dir"], freeze=_all_but_last_stage(graph))
        self.banner.hide()
        ids = (self.controller.start(graph, dataset, self._with_weights_folder(tuned), arch=rec.arch,
                                     name=f"{rec.name} fine-tuned on {dataset}", auto_log=self.form.auto_log,
                                     auto_stats=self.form.auto_stats),
               self.controller.start(graph, dataset, self._with_weights_folder(base), arch=rec.arch,
                                     name=f"{rec.arch} from scratch on {dataset}", auto_log=self.form.auto_log,
                                     auto_stats=self.form.auto_stats))
        for rid in ids:
            self.controller.set_overlay(rid, True)
        shown = self.form.dataset.findData(dataset)
        if shown >= 0:   # the form shows what the runs use (and Train then trains on it too)
            self.form.dataset.setCurrentIndex(shown)
        return ids

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


def _all_but_last_stage(graph: Graph) -> list[str]:
    """``until:`` the node before the last stage (the last repeated block), so that stage and the head
    train; a network without stages trains only its last node."""
    order = graph.topological_order()
    stages = [n for n in order if graph.node(n).repeat > 1]
    last = stages[-1] if stages else order[-1]
    i = order.index(last)
    return [f"until:{order[i - 1]}"] if i > 0 else []
