"""The window's one background-job runner: a job runs on its own QThread, and everything it says comes back
to the GUI thread as queued signals: its progress, its reports, its result, that it was cancelled, or why it
failed, and last that it ended. Training, the analysis tools, lessons and studies all run through it.

A job is a plain callable ``body(context) -> result`` built from copies (a graph copy, paths, option
values): nothing in it refers to a widget. In the worker thread it calls ``context.progress(what, done,
total)`` (throttled here, so a fast loop costs the GUI a few deliveries a second) and ``context.report(x)``.
Cancel calls the job's own cancel function (a control flag its loop checks); a job that stops by raising
``Cancelled`` ends as ``cancelled``. Any other exception becomes one ``failed(kind, message)`` line for the
person: the job's ``explain`` names the errors it expects (a bad data set, no memory), anything else is a
bug, logged with its traceback while the window keeps working.
"""
from __future__ import annotations

import logging
import time
import traceback
from typing import Callable

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt, QThread, Signal, Slot

from explorer.analysis.control import Cancelled

log = logging.getLogger(__name__)

PROGRESS_S = 0.05   # progress reaches the GUI at most 20 times a second
Explain = Callable[[BaseException], "tuple[str, str] | None"]   # (kind, message) for an expected error


def crash_message(what: str, e: BaseException) -> str:
    return (f"{what} stopped on an internal error ({type(e).__name__}: {e}); "
            "the window keeps working, and the details are in the log")


class JobWorker(QObject):
    """Lives in the job's thread: runs the body once and turns its outcome into signals (``done`` last).
    It is also the body's context: ``progress`` and ``report`` are called from the worker thread."""

    progressed = Signal(str, int, int)   # what, done, total
    reported = Signal(object)            # whatever the job reports on the way
    finished = Signal(object)            # the body's result
    failed = Signal(str, str)            # kind, one line for the person
    cancelled = Signal()
    done = Signal()                      # always the last signal

    def __init__(self, body: Callable, what: str, explain: Explain | None):
        super().__init__()
        self.body, self.what, self.explain = body, what, explain
        self._last = 0.0

    def progress(self, what: str, done: int, total: int) -> None:
        now = time.perf_counter()
        if done >= total or now - self._last >= PROGRESS_S:
            self._last = now
            self.progressed.emit(what, done, total)

    def report(self, item) -> None:
        self.reported.emit(item)

    @Slot()
    def run(self) -> None:
        try:
            self.finished.emit(self.body(self))
        except Cancelled:
            self.cancelled.emit()
        except Exception as e:  # noqa: BLE001 - the window must survive whatever the job raises
            self.failed.emit(*self._describe(e))
        finally:
            self.done.emit()

    def _describe(self, e: Exception) -> tuple[str, str]:
        known = self.explain(e) if self.explain is not None else None
        if known is not None:
            return known
        log.error("%s crashed:\n%s", self.what, traceback.format_exc())
        return "crash", crash_message(self.what, e)


_orphans: set = set()   # threads that outlived a shutdown timeout, kept referenced until they end
_FORWARDED = ("progressed", "reported", "finished", "failed", "cancelled")


class JobRunner(QObject):
    """Runs one job at a time on a thread of its own; re-emits the worker's signals in the GUI thread."""

    progressed = Signal(str, int, int)
    reported = Signal(object)
    finished = Signal(object)
    failed = Signal(str, str)
    cancelled = Signal()
    busyChanged = Signal(bool)
    ended = Signal()                     # after the job's last signal, when the runner is free again

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._thread: QThread | None = None
        self._worker: JobWorker | None = None
        self._cancel: Callable[[], None] | None = None

    def is_busy(self) -> bool:
        return self._thread is not None

    def start(self, body: Callable, *, name: str, what: str, cancel: Callable[[], None] | None = None,
              explain: Explain | None = None) -> None:
        """Run ``body(context)`` in a new thread called ``name``; ``what`` names the job in messages
        ("training"); ``cancel`` asks it to stop (thread-safe); ``explain`` words its expected errors."""
        if self.is_busy():
            raise RuntimeError(f"{what} is already running; cancel it or wait for it to finish")
        thread = QThread()   # no parent: its lifetime is managed here, never by a parent's destructor
        thread.setObjectName(name)
        worker = JobWorker(body, what, explain)
        worker.moveToThread(thread)
        for signal in _FORWARDED:
            getattr(worker, signal).connect(getattr(self, signal))   # queued: the worker lives in ``thread``
        worker.done.connect(self._on_done)
        # Direct (from the worker thread; quit() is thread-safe): the thread's event loop ends as soon as
        # run() returns, so waiting for it never depends on the GUI thread getting round to it.
        worker.done.connect(thread.quit, Qt.ConnectionType.DirectConnection)
        thread.started.connect(worker.run)
        self._thread, self._worker, self._cancel = thread, worker, cancel
        thread.start()
        self.busyChanged.emit(True)

    def cancel(self) -> None:
        if self._cancel is not None:
            self._cancel()

    @Slot()
    def _on_done(self) -> None:
        if self._thread is not None:
            self._end(self._thread.wait(10_000))

    def shutdown(self, timeout_ms: int = 10_000) -> bool:
        """Cancel and wait for the thread (the window closes), then deliver what the job still sent, so
        nothing it finished is lost; False if it did not end in time."""
        if self._thread is None:
            return True
        self.cancel()
        self._thread.quit()   # takes effect when run() returns (Qt remembers a quit before exec())
        if self._thread.wait(timeout_ms):
            QCoreApplication.sendPostedEvents(self, QEvent.Type.MetaCall)   # its last signals and ``done``
            if self._thread is not None:   # ``done`` was not queued yet (cannot happen, but never leak)
                self._end(True)
            return True
        log.warning("%s did not stop within %d ms; leaving it to finish", self._thread.objectName(), timeout_ms)
        self._release(False)
        return False

    def _end(self, finished: bool) -> None:
        self._release(finished)
        self.busyChanged.emit(False)
        self.ended.emit()

    def _release(self, finished: bool) -> None:
        thread, worker = self._thread, self._worker
        self._thread = self._worker = self._cancel = None
        if finished:
            worker.deleteLater()
            thread.deleteLater()
            return
        for signal in _FORWARDED:   # an orphan's late signals would speak for the next job
            getattr(worker, signal).disconnect(getattr(self, signal))
        worker.done.disconnect(self._on_done)
        pair = (thread, worker)
        _orphans.add(pair)
        thread.finished.connect(lambda: _orphans.discard(pair))
