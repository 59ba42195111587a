"""A study running off the GUI thread: ``run_study`` in a Python thread, its progress forwarded as a queued
Qt signal of plain snapshots (the study itself stays with the thread that changes it).

A snapshot is a dict: kind, trial_id, event, data, counts, eta; and, except for a running trial's steps,
the trials' rows, the summary rows and the verdict, computed in the worker thread.
"""
from __future__ import annotations

import threading

from PySide6.QtCore import QObject, Signal

from explorer.studies import StudyControl, StudyError, SpecError, ExecutorError, run_study, summary_rows, verdict


def snapshot(u) -> dict:
    d = {"kind": u.kind, "trial_id": u.trial_id, "event": u.event, "data": dict(u.data), "counts": dict(u.counts),
         "eta": u.eta_s}
    if u.kind != "event":
        d["trials"] = [t.row() for t in u.study.trials]
        d["summary"] = summary_rows(u.study)
        d["verdict"] = verdict(u.study)
    return d


class StudyWorker(QObject):
    update = Signal(object)      # a snapshot
    ended = Signal(str)          # "" when run_study returned, else the error to show

    def __init__(self, spec, folder, executor, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.spec, self.folder, self.executor = spec, folder, executor
        self.control = StudyControl()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="study", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            run_study(self.spec, self.folder, self.executor, progress=lambda u: self.update.emit(snapshot(u)),
                      control=self.control)
        except (StudyError, SpecError, ExecutorError, OSError) as e:
            self.ended.emit(str(e))
            return
        except Exception as e:  # a bug must reach the person, not vanish with the thread
            self.ended.emit(f"{type(e).__name__}: {e}")
            return
        self.ended.emit("")

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def wait(self, timeout_s: float = 30.0) -> bool:
        if self._thread is not None:
            self._thread.join(timeout_s)
        return not self.running
