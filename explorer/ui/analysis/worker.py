"""The analysis worker: one tool's computation on its own QThread, with progress and Cancel.

The GUI thread hands over a plain callable (``job(control) -> dict``) built from copies (a graph copy,
paths, option values): nothing in it refers to a widget or the document's model. Progress, the result
and failures come back only through queued signals. Cancel sets the core's cancel flag
(``explorer.analysis.control``), which every tool checks between batches, so it stops within a batch;
the tools put back what they changed (lesioned blocks, perturbed weights) on the way out.
"""
from __future__ import annotations

import logging
import time
import traceback
from typing import Callable

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot

from explorer.analysis.control import Cancelled, Control
from explorer.data import DatasetError

log = logging.getLogger(__name__)

Job = Callable[[Control], dict]
PROGRESS_S = 0.05   # progress reaches the GUI at most 20 times a second


class AnalysisWorker(QObject):
    progress = Signal(str, int, int)     # what, done, total
    finished = Signal(object)            # the result (a JSON-ready dict)
    failed = Signal(str)                 # one line for the person
    cancelled = Signal()
    done = Signal()                      # always the last signal

    def __init__(self, job: Job, control: Control):
        super().__init__()
        self.job, self.control = job, control
        self._last = 0.0
        control.on_progress = self._progress

    def _progress(self, what: str, done: int, total: int) -> None:
        now = time.perf_counter()
        if done >= total or now - self._last >= PROGRESS_S:
            self._last = now
            self.progress.emit(what, done, total)

    @Slot()
    def run(self) -> None:
        try:
            self.finished.emit(self.job(self.control))
        except Cancelled:
            self.cancelled.emit()
        except (ValueError, DatasetError) as e:   # the core's refusals (RunError, GridError, ...) say what to do
            self.failed.emit(str(e))
        except MemoryError:
            self.failed.emit("not enough memory for this analysis; try a smaller network or grid")
        except Exception as e:  # a bug: the window must survive it and say so
            log.error("analysis crashed:\n%s", traceback.format_exc())
            self.failed.emit(f"the analysis stopped on an internal error ({type(e).__name__}: {e}); "
                             "the window keeps working, and the details are in the log")
        finally:
            self.done.emit()


_orphans: set = set()   # threads that outlived a shutdown timeout, kept referenced until they end


class AnalysisRunner(QObject):
    """Runs one job at a time; re-emits the worker's signals in the GUI thread."""

    progress = Signal(str, int, int)
    finished = Signal(object)
    failed = Signal(str)
    cancelled = Signal()
    busyChanged = Signal(bool)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._thread: QThread | None = None
        self._worker: AnalysisWorker | None = None
        self.control: Control | None = None

    def is_busy(self) -> bool:
        return self._thread is not None

    def start(self, job: Job) -> None:
        if self.is_busy():
            raise RuntimeError("an analysis is already running; cancel it or wait for it to finish")
        self.control = Control()
        thread = QThread()   # no parent: its lifetime is managed here
        thread.setObjectName("analysis")
        worker = AnalysisWorker(job, self.control)
        worker.moveToThread(thread)
        for source, target in ((worker.progress, self.progress), (worker.finished, self.finished),
                               (worker.failed, self.failed), (worker.cancelled, self.cancelled)):
            source.connect(target)   # queued: the worker lives in ``thread``
        worker.done.connect(self._on_done)
        worker.done.connect(thread.quit, Qt.ConnectionType.DirectConnection)
        thread.started.connect(worker.run)
        self._thread, self._worker = thread, worker
        thread.start()
        self.busyChanged.emit(True)

    def cancel(self) -> None:
        if self.control is not None:
            self.control.cancel()

    @Slot()
    def _on_done(self) -> None:
        if self._thread is not None:
            self._release(self._thread.wait(10_000))
            self.busyChanged.emit(False)

    def shutdown(self, timeout_ms: int = 10_000) -> bool:
        """Cancel and wait for the thread (the window closes); False if it did not end in time."""
        if self._thread is None:
            return True
        self.cancel()
        finished = self._thread.wait(timeout_ms)
        self._release(finished)
        return finished

    def _release(self, finished: bool) -> None:
        thread, worker = self._thread, self._worker
        self._thread = self._worker = None
        self.control = None
        if finished:
            worker.deleteLater()
            thread.deleteLater()
        else:
            log.warning("analysis thread did not stop in time; leaving it to finish")
            pair = (thread, worker)
            _orphans.add(pair)
            thread.finished.connect(lambda: _orphans.discard(pair))
