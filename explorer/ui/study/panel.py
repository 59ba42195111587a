"""The Study view: choose a family and depths (or a list of architectures), the seeds, plain twins, the
training settings (the training panel's own form) and the executor; Start, Pause (running trials finish,
no new ones start), Cancel (running trials save last.pt and stop) and Resume (also a study folder opened
after a restart). The figure and the loss curves fill in as trials run; clicking a point of the figure
asks to open that point's trial (``openTrial``). All study logic is explorer.studies'; this is its view.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QFileDialog, QFormLayout, QGroupBox, QHBoxLayout, QLabel,
                               QLineEdit, QPushButton, QScrollArea, QSpinBox, QSplitter, QVBoxLayout, QWidget)

from explorer.studies import (DEPTH, DONE, GRID, SpecError, StudyError, StudyFolder, StudySpec, result_object,
                              seed_list)
from explorer.studies.figure import loss_curves
from explorer.ui.study.plots import DepthPlot, LossPlot
from explorer.ui.study.worker import StudyWorker
from explorer.ui.training.settings_form import SettingsForm

FAMILIES = ("resnet", "preact_resnet", "plain")
KIND_LABELS = ((DEPTH, "Depth over a family"), (GRID, "Grid of architectures"))


def default_executor(kind: str, workers: int, address: str, device: str):
    """The executor the form names (Ray's import and its missing-package message come from explorer.studies)."""
    from explorer.studies import LocalExecutor, ray_executor
    if kind == "ray":
        return ray_executor(address or None, None, device, workers or None)
    return LocalExecutor(workers or None, None, device)


def _next_free(base: Path) -> Path:
    for i in range(1, 10_000):
        p = base / f"study-{i}"
        if not p.exists():
            return p
    return base / "study"


class StudyPanel(QWidget):
    openTrial = Signal(object, str)      # (the trial's RunRecord, its graph.json path)

    def __init__(self, parent: QWidget | None = None, executor_factory=default_executor,
                 studies_home: Path | None = None) -> None:
        super().__init__(parent)
        self.executor_factory = executor_factory
        self.worker: StudyWorker | None = None
        self.shown: Path | None = None   # the study the figure shows (its points open its trials)
        self.state = "idle"              # idle | running | pausing | cancelling | stopped | finished
        self.home = studies_home or Path.home() / "residual-explorer-studies"
        self._build(self.home)
        self._kind_changed()
        self._set_state("idle")

    # -- layout -----------------------------------------------------------------------------------
    def _build(self, home: Path) -> None:
        study = QGroupBox("Study")
        f = QFormLayout(study)
        self.kind = QComboBox()
        for key, label in KIND_LABELS:
            self.kind.addItem(label, key)
        self.family = QComboBox()
        self.family.setEditable(True)
        self.family.addItems(FAMILIES)
        self.family.setToolTip("a preset-name prefix (resnet, preact_resnet, …), or one preset or graph file "
                               "used as the template for every depth")
        self.depths = QLineEdit("8,14")
        self.depths.setToolTip("total weight layers, comma-separated, e.g. 20,32,56")
        self.archs = QLineEdit("resnet20,preact_resnet20")
        self.archs.setToolTip("presets or graph files, comma-separated")
        self.seeds = QSpinBox()
        self.seeds.setRange(1, 100)
        self.twin = QCheckBox("Train each network's plain twin too")
        self.twin.setChecked(True)
        for label, w in (("Kind", self.kind), ("Family", self.family), ("Depths", self.depths),
                         ("Architectures", self.archs), ("Seeds", self.seeds), ("", self.twin)):
            f.addRow(label, w)
        run_on = QGroupBox("Run on")
        g = QFormLayout(run_on)
        self.executor = QComboBox()
        self.executor.addItem("Local worker pool", "local")
        self.executor.addItem("Ray (local instance or cluster)", "ray")
        self.workers = QSpinBox()
        self.workers.setRange(0, 1024)
        self.workers.setSpecialValueText("auto")
        self.address = QLineEdit()
        self.address.setPlaceholderText("empty: start or join Ray on this machine")
        self.folder = QLineEdit(str(_next_free(home)))
        browse = QPushButton("Open…")
        browse.setToolTip("open a study folder: see its results, or resume it")
        browse.clicked.connect(self.browse)
        row = QHBoxLayout()
        row.addWidget(self.folder, 1)
        row.addWidget(browse)
        for label, w in (("Executor", self.executor), ("Workers", self.workers), ("Ray address", self.address)):
            g.addRow(label, w)
        g.addRow("Folder", row)
        self.settings = SettingsForm(fine_tuning=False)   # every trial starts from scratch
        settings = QGroupBox("Training (every trial)")
        QVBoxLayout(settings).addWidget(self.settings)

        self.start_button = QPushButton("&Start")
        self.pause_button = QPushButton("&Pause")
        self.cancel_button = QPushButton("&Cancel")
        self.start_button.clicked.connect(self.start)
        self.pause_button.clicked.connect(self.pause)
        self.cancel_button.clicked.connect(self.cancel)
        buttons = QHBoxLayout()
        for b in (self.start_button, self.pause_button, self.cancel_button):
            buttons.addWidget(b)

        column = QWidget()
        c = QVBoxLayout(column)
        c.setContentsMargins(0, 0, 0, 0)
        for w in (study, run_on, settings):
            c.addWidget(w)
        c.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidget(column)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)  # fields shrink instead
        scroll.setMinimumWidth(320)
        left = QWidget()
        lv = QVBoxLayout(left)
        lv.setContentsMargins(0, 0, 0, 0)
        lv.addWidget(scroll, 1)
        lv.addLayout(buttons)

        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.verdict = QLabel("")
        self.verdict.setWordWrap(True)
        self.figure = DepthPlot()
        self.figure.pointClicked.connect(self._open_point)
        self.losses = LossPlot()
        plots = QSplitter()
        plots.addWidget(self.figure)
        plots.addWidget(self.losses)
        right = QWidget()
        rv = QVBoxLayout(right)
        rv.setContentsMargins(0, 0, 0, 0)
        rv.addWidget(self.status)
        rv.addWidget(self.verdict)
        rv.addWidget(plots, 1)

        split = QSplitter()
        split.addWidget(left)
        split.addWidget(right)
        split.setStretchFactor(1, 1)
        QHBoxLayout(self).addWidget(split)
        self.kind.currentIndexChanged.connect(self._kind_changed)
        self.executor.currentIndexChanged.connect(self._kind_changed)

    def _kind_changed(self) -> None:
        depth = self.kind.currentData() == DEPTH
        self.family.setEnabled(depth)
        self.depths.setEnabled(depth)
        self.archs.setEnabled(not depth)
        self.address.setEnabled(self.executor.currentData() == "ray")

    # -- the spec from the form ---------------------------------------------------------------------
    def spec(self) -> StudySpec:
        """The study the form describes; raises SpecError with the sentence to show."""
        problem = self.settings.problem()
        if problem:
            raise SpecError(problem)
        cfg = self.settings.config().to_dict()
        first = cfg.pop("seed")
        for k in ("out_dir", "threads"):
            cfg.pop(k, None)
        common = dict(seeds=seed_list(first, self.seeds.value()), twin=self.twin.isChecked(),
                      dataset=self.settings.dataset_spec(), config=cfg)
        if self.kind.currentData() == DEPTH:
            try:
                depths = tuple(sorted({int(t) for t in self.depths.text().split(",") if t.strip()}))
            except ValueError:
                raise SpecError(f"depths must be whole numbers separated by commas, like 20,32,56; got "
                                f"'{self.depths.text()}'") from None
            return StudySpec(DEPTH, family=self.family.currentText().strip(), depths=depths, **common).check()
        archs = tuple(a.strip() for a in self.archs.text().split(",") if a.strip())
        return StudySpec(GRID, archs=archs, **common).check()

    # -- actions ------------------------------------------------------------------------------------
    def start(self) -> None:
        """Start the study the form describes, or resume the one the folder holds."""
        if self.worker is not None and self.worker.running:
            return
        folder = Path(self.folder.text().strip())
        try:
            if self._finished_study(folder):
                folder = _next_free(self.home)   # nothing is left to resume there: Start runs the form anew
                self.folder.setText(str(folder))
            spec = None if StudyFolder(folder).exists() else self.spec()
            executor = self.executor_factory(self.executor.currentData(), self.workers.value(),
                                             self.address.text().strip(), self.settings.config().device)
        except (SpecError, StudyError, RuntimeError) as e:
            self._say(f"cannot start: {e}", error=True)
            return
        self.losses.clear_curves()
        self.shown = folder
        if spec is None:
            self._say(f"resuming the study in {folder}")
        self.worker = StudyWorker(spec, folder, executor, self)
        self.worker.update.connect(self._update)
        self.worker.ended.connect(self._ended)
        self._set_state("running")
        self.worker.start()

    @staticmethod
    def _finished_study(folder: Path) -> bool:
        try:
            return StudyFolder(folder).exists() and StudyFolder(folder).load().finished
        except StudyError:
            return False   # a damaged folder: resuming it says what is wrong

    def pause(self) -> None:
        if self.worker is not None and self.worker.running:
            self.worker.control.pause()
            self._set_state("pausing")

    def cancel(self) -> None:
        if self.worker is not None and self.worker.running:
            self.worker.control.cancel()
            self._set_state("cancelling")

    def shutdown(self, timeout_s: float = 60.0) -> bool:
        """Cancel a running study and wait for it (the window closes)."""
        if self.worker is None or not self.worker.running:
            return True
        self.worker.control.cancel()
        return self.worker.wait(timeout_s)

    def open_folder(self, path) -> bool:
        """Show the study a folder holds (to see it, or to resume it with Start)."""
        try:
            study = StudyFolder(path).load()
        except StudyError as e:
            self._say(str(e), error=True)
            return False
        self.folder.setText(str(path))
        self.shown = Path(path)
        self._show_spec(study.spec)
        result = result_object(study)
        self.losses.clear_curves()
        self.losses.set_trials(result["trials"])
        for tid, (xs, ys) in loss_curves(study, path).items():
            self.losses.set_curve(tid, xs, ys)
        self.figure.set_results(result["summary"], result["trials"])
        self.verdict.setText(result["verdict"])
        self._set_state("finished" if study.finished else "stopped")
        self._say(self._counts_text(study.counts(), None))
        return True

    def new_study(self) -> None:
        """Study ▸ New Study…: a study on show (finished, or opened) gives way to an empty figure and a fresh
        folder, so Start begins a new study instead of resuming the old one. A running study stays."""
        if self.worker is not None and self.worker.running:
            return
        if self.shown is None and not StudyFolder(Path(self.folder.text().strip())).exists():
            return   # nothing shown yet: keep what the person typed
        self.shown = None
        self.folder.setText(str(_next_free(self.home)))
        self.losses.clear_curves()
        self.figure.set_results([], [])
        self.verdict.setText("")
        self._say("")
        self._set_state("idle")

    def _show_spec(self, spec: StudySpec) -> None:
        """The form shows the opened study's own settings (Start resumes that study, not what the form said)."""
        self.kind.setCurrentIndex(max(0, self.kind.findData(spec.kind)))
        if spec.kind == DEPTH:
            self.family.setCurrentText(spec.family)
            self.depths.setText(",".join(str(d) for d in spec.depths))
        else:
            self.archs.setText(",".join(spec.archs))
        self.seeds.setValue(len(spec.seeds))
        self.twin.setChecked(spec.twin)

    def browse(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Open a study folder", self.folder.text())
        if path:
            self.open_folder(path)

    # -- progress -----------------------------------------------------------------------------------
    def _update(self, s: dict) -> None:
        if "trials" in s:
            self.losses.set_trials(s["trials"])
            self.figure.set_results(s["summary"], s["trials"])
            self.verdict.setText(s["verdict"])
        if s["kind"] == "event" and s["event"] == "step":
            self.losses.add_point(s["trial_id"], s["data"]["step"], s["data"]["loss"])
        self._say(self._counts_text(s["counts"], s["eta"]))

    def _counts_text(self, c: dict, eta) -> str:
        total = sum(c.values())
        left = "" if eta is None else f", about {int(eta) // 60}:{int(eta) % 60:02d} left"
        return (f"{self.state}: {c['done']} of {total} trials done, {c['running']} running, {c['pending']} waiting"
                + (f", {c['failed']} failed" if c["failed"] else "") + left)

    def _ended(self, error: str) -> None:
        if error:
            self._set_state("stopped")
            self._say(f"the study stopped: {error}", error=True)
            return
        try:
            study = StudyFolder(self.shown).load()
        except StudyError as e:
            self._set_state("stopped")
            self._say(str(e), error=True)
            return
        self._set_state("finished" if study.finished else "stopped")
        self._say(self._counts_text(study.counts(), None))

    def _set_state(self, state: str) -> None:
        self.state = state
        busy = state in ("running", "pausing", "cancelling")
        self.start_button.setEnabled(not busy)
        self.start_button.setText("&Resume" if state == "stopped" else "&Start")
        self.pause_button.setEnabled(state == "running")
        self.cancel_button.setEnabled(state in ("running", "pausing"))
        for w in (self.kind, self.family, self.depths, self.archs, self.seeds, self.twin, self.settings,
                  self.executor, self.workers, self.folder):
            w.setEnabled(not busy)
        if not busy:
            self._kind_changed()

    def _say(self, text: str, error: bool = False) -> None:
        self.status.setText(text)
        self.status.setStyleSheet("color: #b3261e;" if error else "")

    def _open_point(self, depth: int, plain: bool) -> None:
        from explorer.studies.trial_run import trial_record
        folder = self.shown
        if folder is None:
            return
        try:
            study = StudyFolder(folder).load()
        except StudyError as e:
            self._say(str(e), error=True)
            return
        trials = [t for t in study.trials if t.group == (depth, plain)]
        done = [t for t in trials if t.state == DONE] or trials
        if done:
            t = done[0]
            self.openTrial.emit(trial_record(study, t, folder), str(folder / t.run_dir / "graph.json"))
