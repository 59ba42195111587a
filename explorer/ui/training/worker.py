"""Training in the window: the engine's report generator iterated on the window's job runner
(``explorer.ui.jobs``), in a thread of its own.

The GUI thread never waits on training. It talks to the worker through a thread-safe
``TrainControl`` (pause/resume/stop, checked by the engine between steps) and hears back only through
queued signals. Reports are batched (at most ``FLUSH_S`` apart, control reports at once), so a fast
tiny model that reports every step costs the GUI thread a few signal deliveries per second, not
hundreds. Nothing here touches a widget.

``TrainingSession`` trains one run at a time. ``shutdown()`` stops the run and waits for its thread,
then delivers the reports still queued, so a window can close mid-run without "QThread destroyed while
running" and without losing the run's last state. With a TensorBoard folder set (the settings form's
option), each run also feeds its reports to a ``TensorBoardLog`` in a sub-folder named after the run, in
the worker thread, beside the engine.
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot

from explorer.data import DatasetError
from explorer.data.cache import cached_dataset
from explorer.graph.model import Graph
from explorer.runs.project import auto_intervals
from explorer.train import LayerStatsReport, StepReport, TrainConfig, TrainControl, run_training
from explorer.train.tensorboard_log import TensorBoardError, TensorBoardLog
from explorer.ui.jobs import JobRunner

FLUSH_S = 0.04  # batch reports for at most 40 ms: the plots redraw at ≤ 30 Hz anyway


@dataclass
class TrainJob:
    run_id: str
    graph: Graph                 # a private copy: the document may be edited while this trains
    dataset: str                 # a load_dataset spec, e.g. "digits" or "cifar10:/data/cifar-10-batches-py"
    config: TrainConfig
    auto_log: bool = True        # choose log_every / stats_every from the run's length
    auto_stats: bool = True


class ReportBatcher:
    """Collects reports; ``add`` returns a batch when it is time to send one."""

    def __init__(self, interval_s: float = FLUSH_S):
        self.interval = interval_s
        self._buf: list = []
        self._last = 0.0

    def add(self, report) -> list | None:
        self._buf.append(report)
        now = time.perf_counter()
        urgent = not isinstance(report, (StepReport, LayerStatsReport)) or (
            isinstance(report, StepReport) and report.epoch_step == report.steps_per_epoch)  # validation follows
        if urgent or now - self._last >= self.interval:
            self._last = now
            return self.take()
        return None

    def take(self) -> list | None:
        buf, self._buf = self._buf, []
        return buf or None


def training_body(job: TrainJob, control: TrainControl, tensorboard: str = ""):
    """The job that trains ``job`` in the runner's thread: the engine's reports go out in batches, each run
    also to its TensorBoard folder (``tensorboard``; "" = none). The last batch goes out however it ends."""

    def body(context) -> None:
        batcher, board = ReportBatcher(), None
        try:
            board = TensorBoardLog(tensorboard) if tensorboard else None
            dataset = cached_dataset(job.dataset, job.config.seed)
            config = auto_intervals(job.config, int(dataset.x_train.shape[0]), job.auto_log, job.auto_stats)
            gen = run_training(job.graph, dataset, config, control)
            try:
                for report in gen:
                    if board is not None:
                        board.add(report)
                    batch = batcher.add(report)
                    if batch:
                        context.report(batch)
            finally:
                gen.close()
        finally:
            if board is not None:
                board.close()
            rest = batcher.take()
            if rest:
                context.report(rest)
    return body


def explain(e: BaseException) -> tuple[str, str] | None:
    """What a person can do about the errors a run expects; None: a bug."""
    if isinstance(e, TensorBoardError):
        return "config", f"{e}. Untick TensorBoard logs or fix it, then train again."
    if isinstance(e, DatasetError):
        return "data", f"{e}. Pick another data set or fix its path, then train again."
    if isinstance(e, MemoryError):
        return "oom", "not enough memory for this data set and network; try a smaller batch size, model or data set"
    return None


class TrainingSession(QObject):
    """Runs one TrainJob at a time on the window's job runner; its signals name the run."""

    reportsReady = Signal(str, object)   # run id, list of engine reports
    failed = Signal(str, str, str)       # run id, kind, message for the user (data set, internal error)
    ended = Signal(str)                  # run id; always the run's last signal

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.jobs = JobRunner(self)
        self.control: TrainControl | None = None
        self.run_id: str | None = None
        self.tensorboard_dir = ""   # runs started from now on log under it; "" = no TensorBoard logs
        self.jobs.reported.connect(self._reports)
        self.jobs.failed.connect(self._failed)
        self.jobs.ended.connect(self._ended)

    def is_active(self) -> bool:
        return self.jobs.is_busy()

    @Slot(str)
    def set_tensorboard_dir(self, folder: str) -> None:
        self.tensorboard_dir = folder

    def tensorboard_folder(self, job: TrainJob) -> str:
        """Where ``job`` logs: a sub-folder per run, named after the network and the run, so TensorBoard
        overlays the runs by those names."""
        if not self.tensorboard_dir:
            return ""
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", job.graph.name or "network")
        return str(Path(self.tensorboard_dir) / f"{name}-{job.run_id[:8]}")

    def start(self, job: TrainJob) -> None:
        if self.is_active():
            raise RuntimeError("a run is already training")
        self.control = TrainControl()
        self.run_id = job.run_id
        self.jobs.start(training_body(job, self.control, self.tensorboard_folder(job)), name=f"train-{job.run_id}",
                        what="training", cancel=self.stop, explain=explain)

    def pause(self) -> None:
        if self.control:
            self.control.pause()

    def resume(self) -> None:
        if self.control:
            self.control.resume()

    def stop(self) -> None:
        if self.control:
            self.control.stop()

    def shutdown(self, timeout_ms: int = 30_000) -> bool:
        """Stop the run and wait for its thread; deliver what it sent. False if it did not end in time."""
        ok = self.jobs.shutdown(timeout_ms)
        self.control = None
        return ok

    @Slot(object)
    def _reports(self, batch: list) -> None:
        self.reportsReady.emit(self.run_id, batch)

    @Slot(str, str)
    def _failed(self, kind: str, message: str) -> None:
        self.failed.emit(self.run_id, kind, message)

    @Slot()
    def _ended(self) -> None:
        self.control = None
        self.ended.emit(self.run_id)
