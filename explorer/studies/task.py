"""One trial as a task a worker runs: everything it needs travels in the task (the network as JSON, the
settings, and for a remote worker the run folder so far), and everything it made comes back in the outcome.

``run_trial`` is what every executor calls, in a worker process of the local pool or in a Ray task, so a
trial gives the same numbers whichever runs it: the same graph, data, seed and thread count. With
``out_dir`` the worker writes the run folder in place (the local pool); without, it trains in a temporary
folder and returns its files (Ray: the driver writes them, no shared file system needed). A run folder
that holds a ``last.pt`` is resumed from it.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

DONE, FAILED, STOPPED = "done", "failed", "stopped"
MAX_RETURNED_BYTES = 2 * 1024**3


@dataclass(frozen=True)
class TrialTask:
    trial_id: str
    graph_json: str
    dataset: str
    data_options: dict[str, Any]
    val_fraction: float
    config: dict[str, Any]              # TrainConfig fields with the trial's seed; out_dir is set here
    threads: int = 1                    # torch CPU threads in the worker (the same under every executor)
    out_dir: str | None = None          # write the run folder here; None: a temporary one, returned as files
    files: dict[str, bytes] = field(default_factory=dict)  # the run folder so far (resuming remotely)


@dataclass(frozen=True)
class TrialOutcome:
    trial_id: str
    status: str                         # DONE, FAILED or STOPPED (asked to stop; resumable from last.pt)
    summary: dict[str, Any] = field(default_factory=dict)   # FinishedReport.summary() when DONE
    error: str | None = None
    files: dict[str, bytes] | None = None  # the run folder, when the task had no out_dir


# An event a running trial reports: (trial id, kind, data); kinds "started", "step", "epoch".
Events = Callable[[str, str, dict], None]


def run_trial(task: TrialTask, events: Events | None = None, stop: Callable[[], bool] | None = None) -> TrialOutcome:
    """Train one trial to its end; never raises for a failing trial (the outcome says FAILED and why)."""
    temporary = task.out_dir is None
    out = Path(tempfile.mkdtemp(prefix="trial-")) if temporary else Path(task.out_dir)
    try:
        for name, data in task.files.items():
            path = out / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        try:
            outcome = _train(task, out, events or (lambda *a: None), stop or (lambda: False))
        except Exception as e:  # a bug or a broken environment in one trial must not stop the others
            outcome = TrialOutcome(task.trial_id, FAILED, error=f"{type(e).__name__}: {e}")
        if temporary:
            outcome = TrialOutcome(outcome.trial_id, outcome.status, outcome.summary, outcome.error, _collect(out))
        return outcome
    finally:
        if temporary:
            shutil.rmtree(out, ignore_errors=True)


def _train(task: TrialTask, out: Path, events: Events, stop: Callable[[], bool]) -> TrialOutcome:
    import torch

    from explorer.data import DatasetError
    from explorer.data.cache import cached_dataset
    from explorer.graph.fileio import loads_graph
    from explorer.train import (EpochReport, FailedReport, FinishedReport, StartedReport, StepReport, TrainConfig,
                                TrainControl, run_training)

    if task.threads:
        torch.set_num_threads(task.threads)  # a worker process of its own: its thread count is the study's
    cfg = TrainConfig.from_dict(task.config).replace(out_dir=str(out))
    try:
        dataset = cached_dataset(task.dataset, seed=cfg.seed, val_fraction=task.val_fraction, **task.data_options)
    except DatasetError as e:
        return TrialOutcome(task.trial_id, FAILED, error=str(e))
    resume = out / "last.pt" if (out / "last.pt").is_file() else None
    if resume is None:
        _empty(out)  # killed before its first checkpoint: a fresh start, not curves appended to the old ones
    graph = None if resume else loads_graph(task.graph_json, task.trial_id)
    control, final = TrainControl(), None
    for r in run_training(graph, dataset, cfg, control, resume=resume):
        if isinstance(r, StartedReport):
            events(task.trial_id, "started", {"total_steps": r.total_steps, "start_step": r.start_step,
                                              "device": r.device})
        elif isinstance(r, StepReport):
            events(task.trial_id, "step", {"step": r.step, "total_steps": r.total_steps, "loss": r.loss,
                                           "eta_s": r.eta_s})
        elif isinstance(r, EpochReport):
            events(task.trial_id, "epoch", {"epoch": r.epoch, "train_loss": r.train_loss, "train_acc": r.train_acc,
                                            "val_acc": r.val_acc})
        elif isinstance(r, (FinishedReport, FailedReport)):
            final = r
        if stop() and not control.stop_requested:
            control.stop()  # between steps; last.pt is written mid-epoch so the trial resumes there
    if isinstance(final, FailedReport):
        return TrialOutcome(task.trial_id, FAILED, error=final.text)
    if final is None:
        return TrialOutcome(task.trial_id, FAILED, error="the training ended without a result")
    if final.status != "completed":
        return TrialOutcome(task.trial_id, STOPPED)
    return TrialOutcome(task.trial_id, DONE, summary=final.summary())


def _empty(folder: Path) -> None:
    if folder.is_dir():
        for entry in folder.iterdir():
            shutil.rmtree(entry) if entry.is_dir() and not entry.is_symlink() else entry.unlink()


def _collect(folder: Path) -> dict[str, bytes]:
    files, total = {}, 0
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.is_symlink():
            total += path.stat().st_size
            if total > MAX_RETURNED_BYTES:
                break
            files[path.relative_to(folder).as_posix()] = path.read_bytes()
    return files


def folder_files(folder: str | os.PathLike) -> dict[str, bytes]:
    """A run folder's files (relative POSIX path -> bytes), to send to a remote worker that resumes it."""
    path = Path(folder)
    return _collect(path) if path.is_dir() else {}
