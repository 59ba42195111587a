"""TensorBoard event files from a run's reports: a report consumer that the command line (``train
--tensorboard DIR``) and the window's worker attach beside the engine, which knows nothing of it.

Scalars: ``train/loss``, ``train/accuracy`` and ``train/learning_rate`` at every StepReport, the epoch
means under ``epoch/``, and each layer unit's gradient norm as ``grad_norm_<stage>/<unit>``. TensorBoard
groups cards by the text before the first ``/``, so every stage gets a card group of its own; units
before the first repeated stage are the ``stem``, those after the last one the ``head``, and a unit
between two stages (a transition) belongs to the stage it follows.

``tensorboard`` is an optional extra; ``missing()`` says how to install it before any run starts.

A folder that cannot be written (read-only file system, no permission) is refused when the log is opened,
before the run starts. A write that fails during the run (a full disk) ends the log, not the run: the
writer is dropped, its background thread's traceback is kept off the terminal, and ``failure`` holds the
one line to report, while the training's own files are written as usual.
"""
from __future__ import annotations

import importlib.util
import math
import tempfile
import threading
from pathlib import Path

from explorer.train.reports import EpochReport, LayerStatsReport, StartedReport, StepReport

INSTALL = ("TensorBoard logs need the tensorboard package: pip install 'residual-explorer[tensorboard]' "
           "(or pip install tensorboard)")


class TensorBoardError(RuntimeError):
    """The event files cannot be written (package missing, folder not writable); the message says why."""


def missing() -> str | None:
    """What to install for TensorBoard logs, or None when they can be written."""
    return INSTALL if importlib.util.find_spec("tensorboard") is None else None


def stage_groups(keys: list[str], node_ids: list[str]) -> list[str]:
    """The stage each layer unit belongs to (see the module docstring); ``layers`` for a network
    without repeated stages."""
    repeated = {i for i, (k, n) in enumerate(zip(keys, node_ids)) if k != n}
    if not repeated:
        return ["layers"] * len(keys)
    first, last = min(repeated), max(repeated)
    groups, current = [], "stem"
    for i, nid in enumerate(node_ids):
        if i in repeated:
            current = nid
        groups.append("stem" if i < first else "head" if i > last else current)
    return groups


class TensorBoardLog:
    """Feed it every report (``add``); ``close`` at the end (or use it as a context manager)."""

    def __init__(self, log_dir: str | Path):
        """Checks the package and the folder at once; the event file is created by the first report, so a
        run refused before it starts leaves no empty log behind."""
        problem = missing()
        if problem:
            raise TensorBoardError(problem)
        self.log_dir = Path(log_dir)
        try:
            self.log_dir.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise TensorBoardError(f"cannot write TensorBoard logs to {log_dir} ({e.strerror or e}); "
                                   "choose another folder") from None
        try:  # exists but read-only: found now, not as a traceback from the writer's thread
            with tempfile.TemporaryFile(dir=self.log_dir):
                pass
        except OSError as e:
            raise TensorBoardError(f"cannot write TensorBoard logs to {log_dir} ({e.strerror or e}); "
                                   "choose another folder") from None
        self._writer = None
        self._tags: list[str] = []
        self._step = 0
        self.failure: str | None = None
        self._hook = None

    def add(self, report) -> None:
        """Log one report; after a failed write every call is a no-op (see ``failure``)."""
        if self.failure is not None:
            return
        try:
            self._add(report)
        except OSError as e:
            self._fail(e)

    def _add(self, report) -> None:
        if self._writer is None:
            from torch.utils.tensorboard import SummaryWriter

            self._quiet_writer_threads()
            self._writer = SummaryWriter(str(self.log_dir))
        if isinstance(report, StartedReport):
            groups = stage_groups(report.unit_keys, report.unit_node_ids)
            self._tags = [f"grad_norm_{g}/{k}" for g, k in zip(groups, report.unit_keys)]
        elif isinstance(report, StepReport):
            self._step = report.step
            self._scalars("train", report.step, loss=report.loss, accuracy=report.acc, learning_rate=report.lr)
        elif isinstance(report, LayerStatsReport):
            for tag, value in zip(self._tags, report.grad_norm):
                if math.isfinite(value):  # NaN: a unit without parameters that received a gradient
                    self._writer.add_scalar(tag, float(value), report.step)
        elif isinstance(report, EpochReport):
            self._scalars("epoch", self._step, train_loss=report.train_loss, train_accuracy=report.train_acc,
                          val_loss=report.val_loss, val_accuracy=report.val_acc, learning_rate=report.lr)
            self._writer.flush()  # an epoch is worth seeing in TensorBoard at once

    def close(self) -> None:
        try:
            if self._writer is not None and self.failure is None:
                self._writer.close()
        except OSError as e:
            self._fail(e)
        finally:
            if self._hook is not None:
                threading.excepthook, self._hook = self._hook, None

    def _fail(self, e: OSError) -> None:
        self.failure = (f"cannot write TensorBoard logs to {self.log_dir} ({e.strerror or e}); the log stops "
                        "there, the run's own files are kept")
        writer, self._writer = self._writer, None
        try:
            if writer is not None:
                writer.close()
        except OSError:
            pass  # the same failure again, already said

    def _quiet_writer_threads(self) -> None:
        """The event writer's thread re-raises a failed write after handing it to us: that traceback would
        reach the terminal as "Exception in thread". Ours to report once, so only those are kept quiet."""
        previous = threading.excepthook

        def hook(args):
            if type(args.thread).__name__ == "_AsyncWriterThread" and issubclass(args.exc_type, OSError):
                return
            previous(args)

        self._hook, threading.excepthook = previous, hook

    def __enter__(self) -> "TensorBoardLog":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _scalars(self, group: str, step: int, **values) -> None:
        for name, value in values.items():
            if value is not None and math.isfinite(value):
                self._writer.add_scalar(f"{group}/{name}", float(value), step)
