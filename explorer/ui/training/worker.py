"""The training worker: a QObject moved to a QThread that iterates the engine's report generator.

The GUI thread never waits on training. It talks to the worker through a thread-safe
``TrainControl`` (pause/resume/stop, checked by the engine between steps) and hears back only through
queued signals. Reports are batched (at most ``FLUSH_S`` apart, control reports at once), so a fast
tiny model that reports every step costs the GUI thread a few signal deliveries per second, not
hundreds. Nothing here touches a widget.

``TrainingSession`` owns one thread at a time. ``shutdown()`` stops the run and waits for its thread,
then delivers the reports still queued, so a window can close mid-run without "QThread destroyed while
running" and without losing the run's last state. With a TensorBoard folder set (the settings form's
option), each run also feeds its reports to a ``TensorBoardLog`` in a sub-folder named after the run, in
the worker thread, beside the engine.
"""
from __future__ import annotations

import logging
import re
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt, QThread, Signal, Slot

from explorer.data import DatasetError
from explorer.data.cache import cached_dataset
from explorer.graph.model import Graph
from explorer.runs.project import auto_intervals
from explorer.train import LayerStatsReport, StepReport, TrainConfig, TrainControl, run_training
from explorer.train.tensorboard_log import TensorBoardError, TensorBoardLog

log = logging.getLogger(__name__)

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


class TrainWorker(QObject):
    reports = Signal(str, object)      # run id, list of engine reports
    failed = Signal(str, str, str)     # run id, kind, message for the user (data set, internal error)
    done = Signal(str)                 # run id; always the last signal

    def __init__(self, job: TrainJob, control: TrainControl, tensorboard: str = ""):
        super().__init__()
        self.job, self.control = job, control
        self.tensorboard = tensorboard  # this run's TensorBoard folder; "" = none

    @Slot()
    def run(self) -> None:
        job, batcher, tensorboard = self.job, ReportBatcher(), None
        try:
            tensorboard = TensorBoardLog(self.tensorboard) if self.tensorboard else None
            dataset = cached_dataset(job.dataset, job.config.seed)
            config = auto_intervals(job.config, int(dataset.x_train.shape[0]), job.auto_log, job.auto_stats)
            gen = run_training(job.graph, dataset, config, self.control)
            try:
                for report in gen:
                    if tensorboard is not None:
                        tensorboard.add(report)
                    batch = batcher.add(report)
                    if batch:
                        self.reports.emit(job.run_id, batch)
            finally:
                gen.close()
        except TensorBoardError as e:
            self.failed.emit(job.run_id, "config", f"{e}. Untick TensorBoard logs or fix it, then train again.")
        except DatasetError as e:
            self.failed.emit(job.run_id, "data", f"{e}. Pick another data set or fix its path, then train again.")
        except MemoryError:
            self.failed.emit(job.run_id, "oom", "not enough memory for this data set and network; "
                                                "try a smaller batch size, model or data set")
        except Exception as e:  # a bug: the window must survive it and say so
            log.error("training crashed:\n%s", traceback.format_exc())
            self.failed.emit(job.run_id, "crash", f"training stopped by an internal error ({type(e).__name__}: {e}). "
                                                  "The window keeps working; the details are in the log.")
        finally:
            if tensorboard is not None:
                tensorboard.close()
            rest = batcher.take()
            if rest:
                self.reports.emit(job.run_id, rest)
            self.done.emit(job.run_id)


_orphans: set = set()  # threads that outlived a shutdown timeout: kept referenced until they end


class TrainingSession(QObject):
    """Runs one TrainJob at a time on its own QThread."""

    reportsReady = Signal(str, object)
    failed = Signal(str, str, str)
    ended = Signal(str)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._thread: QThread | None = None
        self._worker: TrainWorker | None = None
        self.control: TrainControl | None = None
        self.run_id: str | None = None
        self.tensorboard_dir = ""   # runs started from now on log under it; "" = no TensorBoard logs

    def is_active(self) -> bool:
        return self._thread is not None

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
        thread = QThread()  # no parent: its lifetime is managed here, never by a parent's destructor
        thread.setObjectName(f"train-{job.run_id}")
        worker = TrainWorker(job, self.control, self.tensorboard_folder(job))
        worker.moveToThread(thread)
        # Queued: the worker lives in ``thread``, this session in the GUI thread.
        worker.reports.connect(self.reportsReady)
        worker.failed.connect(self.failed)
        worker.done.connect(self._on_done)
        # Direct (from the worker thread; quit() is thread-safe): the thread's event loop ends as soon as
        # run() returns, so waiting for it never depends on the GUI thread getting round to it.
        worker.done.connect(thread.quit, Qt.ConnectionType.DirectConnection)
        thread.started.connect(worker.run)
        self._thread, self._worker = thread, worker
        thread.start()

    def pause(self) -> None:
        if self.control:
            self.control.pause()

    def resume(self) -> None:
        if self.control:
            self.control.resume()

    def stop(self) -> None:
        if self.control:
            self.control.stop()

    @Slot(str)
    def _on_done(self, run_id: str) -> None:
        if self._thread is None or run_id != self.run_id:
            return
        self._thread.quit()
        self._release(self._thread.wait(10_000))
        self.ended.emit(run_id)

    def shutdown(self, timeout_ms: int = 30_000) -> bool:
        """Stop the run and wait for its thread; deliver what it sent. False if it did not end in time."""
        if self._thread is None:
            return True
        self.stop()
        run_id = self.run_id
        self._thread.quit()  # takes effect when run() returns (Qt remembers a quit before exec())
        finished = self._thread.wait(timeout_ms)
        if finished:
            # Deliver the queued reports (its FinishedReport) and ``done`` now, before the window goes.
            QCoreApplication.sendPostedEvents(self, QEvent.Type.MetaCall)
            if self._thread is not None:  # ``done`` was not queued yet (cannot happen, but never leak)
                self._release(True)
                self.ended.emit(run_id)
            return True
        log.warning("training thread did not stop within %d ms; leaving it to finish", timeout_ms)
        self._release(False)
        return False

    def _release(self, finished: bool) -> None:
        thread, worker = self._thread, self._worker
        self._thread = self._worker = None
        self.control = None
        if finished:
            worker.deleteLater()
            thread.deleteLater()
        else:
            pair = (thread, worker)
            _orphans.add(pair)
            thread.finished.connect(lambda: _orphans.discard(pair))
