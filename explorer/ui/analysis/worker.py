"""The analysis tools' runs in the window: one tool's computation on the window's job runner
(``explorer.ui.jobs``), with progress and Cancel.

The GUI thread hands over a plain callable (``job(control) -> dict``) built from copies (a graph copy,
paths, option values): nothing in it refers to a widget or the document's model. Cancel sets the core's
cancel flag (``explorer.analysis.control``), which every tool checks between batches, so it stops within
a batch; the tools put back what they changed (lesioned blocks, perturbed weights) on the way out.
"""
from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QObject, Signal

from explorer.analysis.control import Control
from explorer.data import DatasetError
from explorer.ui.jobs import JobRunner

Job = Callable[[Control], dict]


def explain(e: BaseException) -> tuple[str, str] | None:
    """The core's refusals (RunError, GridError, ...) already say what to do."""
    if isinstance(e, (ValueError, DatasetError)):
        return "refused", str(e)
    if isinstance(e, MemoryError):
        return "oom", "not enough memory for this analysis; try a smaller network or grid"
    return None


class AnalysisRunner(QObject):
    """Runs one analysis job at a time; its signals arrive in the GUI thread."""

    progress = Signal(str, int, int)     # what, done, total
    finished = Signal(object)            # the result (a JSON-ready dict)
    failed = Signal(str)                 # one line for the person
    cancelled = Signal()
    busyChanged = Signal(bool)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.jobs = JobRunner(self)
        self.control: Control | None = None
        j = self.jobs
        for source, target in ((j.progressed, self.progress), (j.finished, self.finished), (j.failed, self._failed),
                               (j.cancelled, self.cancelled), (j.busyChanged, self.busyChanged), (j.ended, self._ended)):
            source.connect(target)

    def is_busy(self) -> bool:
        return self.jobs.is_busy()

    def start(self, job: Job) -> None:
        if self.is_busy():
            raise RuntimeError("an analysis is already running; cancel it or wait for it to finish")
        control = self.control = Control()

        def body(context):
            control.on_progress = context.progress
            return job(control)

        self.jobs.start(body, name="analysis", what="the analysis", cancel=control.cancel, explain=explain)

    def cancel(self) -> None:
        self.jobs.cancel()

    def shutdown(self, timeout_ms: int = 10_000) -> bool:
        """Cancel and wait for the thread (the window closes); False if it did not end in time."""
        ok = self.jobs.shutdown(timeout_ms)
        self.control = None
        return ok

    def _failed(self, _kind: str, message: str) -> None:
        self.failed.emit(message)

    def _ended(self) -> None:
        self.control = None
