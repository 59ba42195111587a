"""A study running off the GUI thread: ``run_study`` on the window's job runner, its progress forwarded as
queued signals of plain snapshots (the study itself stays with the thread that changes it).

A snapshot is a dict: kind, trial_id, event, data, counts, eta; and, except for a running trial's steps,
the trials' rows, the summary rows and the verdict, computed in the worker thread.
"""
from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from explorer.studies import StudyControl, StudyError, SpecError, ExecutorError, run_study, summary_rows, verdict
from explorer.ui.jobs import JobRunner


def snapshot(u) -> dict:
    d = {"kind": u.kind, "trial_id": u.trial_id, "event": u.event, "data": dict(u.data), "counts": dict(u.counts),
         "eta": u.eta_s}
    if u.kind != "event":
        d["trials"] = [t.row() for t in u.study.trials]
        d["summary"] = summary_rows(u.study)
        d["verdict"] = verdict(u.study)
    return d


def explain(e: BaseException) -> tuple[str, str] | None:
    """A study's own refusals (a damaged folder, a bad spec, an executor that cannot start) say what to do."""
    if isinstance(e, (StudyError, SpecError, ExecutorError, OSError)):
        return "refused", str(e)
    return None


class StudyWorker(QObject):
    """One study on the window's job runner (``explorer.ui.jobs``)."""

    update = Signal(object)      # a snapshot
    ended = Signal(str)          # "" when run_study returned, else the error to show

    def __init__(self, spec, folder, executor, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.spec, self.folder, self.executor = spec, folder, executor
        self.control = StudyControl()
        self.jobs = JobRunner(self)
        self._error = ""
        self.jobs.reported.connect(self.update)
        self.jobs.failed.connect(self._failed)
        self.jobs.ended.connect(self._ended)

    def start(self) -> None:
        spec, folder, executor, control = self.spec, self.folder, self.executor, self.control

        def body(context) -> None:
            run_study(spec, folder, executor, progress=lambda u: context.report(snapshot(u)), control=control)

        self._error = ""
        self.jobs.start(body, name="study", what="the study", cancel=control.cancel, explain=explain)

    @property
    def running(self) -> bool:
        return self.jobs.is_busy()

    def wait(self, timeout_s: float = 30.0) -> bool:
        """Cancel and wait for the study's thread, then deliver what it still sent (``ended`` last)."""
        return self.jobs.shutdown(int(timeout_s * 1000))

    def _failed(self, _kind: str, message: str) -> None:
        self._error = message

    def _ended(self) -> None:
        self.ended.emit(self._error)
