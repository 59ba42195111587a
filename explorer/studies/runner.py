"""Run a study: plan it (or reopen it), hand its trials to an executor a few at a time, and keep the
folder true after every change.

    study = run_study(spec, "D", LocalExecutor(), progress=print_it, control=StudyControl())

Reopening a folder continues it: finished trials are kept, trials that were running when the study stopped
resume from their last.pt, failed ones are retried once (their error kept). ``StudyControl.pause`` lets the
running trials finish and starts no new ones; ``cancel`` also asks the running ones to stop (they save
last.pt); either way ``run_study`` returns a study that resumes. The figure is redrawn as trials finish.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from explorer.studies.folder import StudyFolder
from explorer.studies.networks import plan_trials
from explorer.studies.spec import SpecError, StudySpec
from explorer.studies.study import Study, StudyError, versions
from explorer.studies.task import DONE, FAILED, STOPPED, TrialOutcome, TrialTask, folder_files
from explorer.studies.trial import PENDING, RUNNING
from explorer.util.atomic import write_atomic

POLL_S = 0.2


class StudyControl:
    """Pause, resume and cancel a running study from any thread."""

    def __init__(self) -> None:
        self._paused = threading.Event()
        self._cancelled = threading.Event()

    def pause(self) -> None:
        self._paused.set()

    def resume(self) -> None:
        self._paused.clear()

    def cancel(self) -> None:
        self._cancelled.set()

    @property
    def paused(self) -> bool:
        return self._paused.is_set()

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()


@dataclass
class StudyUpdate:
    """What a progress callback gets: the study as it stands, and what just happened."""
    kind: str                      # "opened", "started" (a trial), "event" (a running trial's step/epoch),
                                   # "finished" (a trial done/failed/stopped), "ended" (run_study returns)
    study: Study
    counts: dict[str, int]
    eta_s: float | None = None
    trial_id: str | None = None
    event: str | None = None       # for "event": "started", "step" or "epoch"
    data: dict = field(default_factory=dict)


def open_study(spec: StudySpec | None, out_dir) -> tuple[Study, dict[str, str]]:
    """(the study, each trial's network as JSON): the folder's study when it has one (``spec`` None, or the
    same spec), else a new one planned from ``spec`` and saved. Raises StudyError or SpecError, touching
    nothing."""
    folder = StudyFolder(out_dir)
    if folder.exists():
        study = folder.load()
        if spec is not None and spec.to_dict() != study.spec.to_dict():
            raise StudyError(f"{folder.path} holds a different study ({describe_spec(study.spec)}); continue it "
                             "with the same settings, or name another folder")
        planned, _ = plan_trials(study.spec)
        graphs = {p.trial.id: p.graph_json for p in planned}
        if set(graphs) != {t.id for t in study.trials}:
            raise StudyError(f"{folder.study_file}: its trials no longer match its settings; name another folder")
        return study, graphs
    if spec is None:
        raise StudyError(f"{folder.path} holds no study (no study.json)")
    folder.check_empty_or_new()
    spec.check()
    planned, notices = plan_trials(spec)
    study = Study(spec, [p.trial for p in planned], notices, versions())
    folder.save(study)
    return study, {p.trial.id: p.graph_json for p in planned}


def describe_spec(spec: StudySpec) -> str:
    what = (f"{spec.family} at depths {', '.join(map(str, spec.depths))}" if spec.kind == "depth"
            else ", ".join(spec.archs))
    return f"{what}; seeds {', '.join(map(str, spec.seeds))}; {'with' if spec.twin else 'without'} plain twins"


def run_study(spec: StudySpec | None, out_dir, executor, progress=None, control: StudyControl | None = None) -> Study:
    """Run (or continue) the study in ``out_dir`` to its end, or until paused or cancelled; returns it."""
    return _Run(spec, out_dir, executor, progress or (lambda u: None), control or StudyControl()).go()


class _Run:
    def __init__(self, spec, out_dir, executor, progress, control) -> None:
        self.folder = StudyFolder(out_dir)
        self.study, self.graphs = open_study(spec, out_dir)
        self.executor, self.progress, self.control = executor, progress, control
        self.started: dict[str, float] = {}
        self.durations: list[float] = []
        self.step_eta: dict[str, float] = {}

    def go(self) -> Study:
        from explorer.train.run_lock import RunFolderInUse, RunLock
        try:
            lock = RunLock(self.folder.path).acquire()  # two runs of one study would undo each other's states
        except RunFolderInUse as e:
            raise StudyError(str(e).replace("training into it", "running this study")) from None
        try:
            return self._go()
        finally:
            lock.release()

    def _go(self) -> Study:
        study = self.study
        self._requeue()
        queue = [t for t in study.trials if t.state == PENDING]
        self._tell("opened")
        self.executor.open(self._event)
        stop_sent = False
        try:
            while (queue and not self._holding()) or self.started:
                while queue and len(self.started) < self.executor.slots and not self._holding():
                    self._start(queue.pop(0))
                if self.control.cancelled and not stop_sent:
                    self.executor.stop_running()
                    stop_sent = True
                for outcome in self.executor.poll(POLL_S):
                    self._finish(outcome)
        finally:
            self.executor.close()
            self.folder.save(study)  # an abort mid-trial leaves it "running": the next run resumes it from last.pt
        self._draw()
        self._tell("ended")
        return study

    def _holding(self) -> bool:
        return self.control.paused or self.control.cancelled

    def _requeue(self) -> None:
        """Interrupted trials run again (from last.pt when there is one); failed ones get their one retry."""
        for t in self.study.trials:
            if t.state == RUNNING:
                t.state = PENDING
            elif t.retry_left:
                self.folder.clear_trial(t.id)  # a fresh start: the failure may live in its checkpoint
                t.state, t.error = PENDING, None
        self.folder.save(self.study)

    def _start(self, t) -> None:
        spec, ex = self.study.spec, self.executor
        run_dir = self.folder.trial_dir(t.id)
        task = TrialTask(t.id, self.graphs[t.id], spec.dataset, dict(spec.data_options), spec.val_fraction,
                         spec.train_config(t.seed, None).to_dict(), ex.threads,
                         out_dir=None if ex.remote else str(run_dir),
                         files=folder_files(run_dir) if ex.remote else {})
        t.state = RUNNING
        self.folder.save(self.study)
        self.started[t.id] = time.monotonic()
        ex.submit(task)
        self._tell("started", t.id)

    def _finish(self, outcome: TrialOutcome) -> None:
        t = self.study.trial(outcome.trial_id)
        began = self.started.pop(t.id, None)
        self.step_eta.pop(t.id, None)
        if outcome.files is not None:
            self._write_files(t.id, outcome.files)
        if outcome.status == DONE:
            t.finish(outcome.summary)
            if began is not None:
                self.durations.append(time.monotonic() - began)
        elif outcome.status == FAILED:
            t.fail(outcome.error or "failed")
        else:  # STOPPED: resumes from its last.pt
            t.state = PENDING
        self.folder.save(self.study)
        if outcome.status == DONE:
            self._draw()
        self._tell("finished", t.id, data={"status": outcome.status, "error": outcome.error})

    def _write_files(self, tid: str, files: dict[str, bytes]) -> None:
        root = self.folder.trial_dir(tid)
        for name, data in files.items():
            rel = PurePosixPath(name)
            if rel.is_absolute() or ".." in rel.parts:
                continue  # a task's file list is data from another machine: only paths inside its folder
            path = root.joinpath(*rel.parts)
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(path, data)

    def _event(self, tid: str, kind: str, data: dict) -> None:
        if kind == "step" and "eta_s" in data:
            self.step_eta[tid] = data["eta_s"]
        self._tell("event", tid, kind, data)

    def _draw(self) -> None:
        from explorer.studies.figure import write_depth_figure
        try:
            write_depth_figure(self.study, self.folder.path)
        except OSError:
            pass  # the figure is a convenience; the results are in study.json and results.csv

    def eta(self) -> float | None:
        """Seconds until the last trial ends: the mean trial time so far over the free slots, or the running
        trials' own estimate before any has finished."""
        left = self.study.count(PENDING) + len(self.started)
        if not left:
            return 0.0
        if self.durations:
            mean = sum(self.durations) / len(self.durations)
            return mean * left / max(1, self.executor.slots)
        return max(self.step_eta.values()) if self.step_eta else None

    def _tell(self, kind: str, tid: str | None = None, event: str | None = None, data: dict | None = None) -> None:
        counts = self.study.counts()
        self.progress(StudyUpdate(kind, self.study, counts, self.eta(), tid, event, data or {}))


__all__ = ["STOPPED", "SpecError", "StudyControl", "StudyUpdate", "open_study", "run_study"]
