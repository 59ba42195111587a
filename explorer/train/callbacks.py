"""A callback-style front to the report generator, for code that prefers ``on_epoch(...)`` to a loop."""
from __future__ import annotations

from explorer.train.config import TrainConfig
from explorer.train.control import TrainControl
from explorer.train.engine import TrainingRun, run_training
from explorer.train.reports import (CheckpointReport, EpochReport, FailedReport, FinishedReport, LayerStatsReport,
                                    StartedReport, StatusReport, StepReport)


class Callbacks:
    """Override what you need; every method receives the report as is."""

    def on_started(self, r: StartedReport) -> None: ...
    def on_step(self, r: StepReport) -> None: ...
    def on_layer_stats(self, r: LayerStatsReport) -> None: ...
    def on_epoch(self, r: EpochReport) -> None: ...
    def on_checkpoint(self, r: CheckpointReport) -> None: ...
    def on_status(self, r: StatusReport) -> None: ...
    def on_finished(self, r: FinishedReport) -> None: ...
    def on_failed(self, r: FailedReport) -> None: ...


_DISPATCH = {StartedReport: "on_started", StepReport: "on_step", LayerStatsReport: "on_layer_stats",
             EpochReport: "on_epoch", CheckpointReport: "on_checkpoint", StatusReport: "on_status",
             FinishedReport: "on_finished", FailedReport: "on_failed"}


def train(graph, dataset, config: TrainConfig | None = None, callbacks: Callbacks | None = None,
          control: TrainControl | None = None, resume=None) -> FinishedReport | FailedReport:
    """Run to the end, calling ``callbacks``; returns the final report."""
    callbacks = callbacks or Callbacks()
    final = None
    for report in run_training(graph, dataset, config, control, resume):
        getattr(callbacks, _DISPATCH[type(report)])(report)
        if isinstance(report, (FinishedReport, FailedReport)):
            final = report
    return final


class TrainingError(RuntimeError):
    """``train_module`` could not train; ``report`` is the FailedReport (``kind``, ``reason``, ``advice``)."""

    def __init__(self, report: FailedReport):
        super().__init__(report.text)
        self.report = report


def train_module(graph, dataset, config: TrainConfig | None = None, quiet: bool = True,
                 control: TrainControl | None = None):
    """Train and return the module itself (eval mode, on the training device), for analyses that need
    trained weights (e.g. a lesion study). Prints one line per epoch to stderr unless ``quiet``; raises
    TrainingError when the run fails."""
    import sys

    run = TrainingRun(graph, dataset, config, control)
    for r in run.reports():
        if isinstance(r, FailedReport):
            raise TrainingError(r)
        if isinstance(r, EpochReport) and not quiet:
            val = f", val acc {r.val_acc:.3f}" if r.val_acc is not None else ""
            print(f"epoch {r.epoch}/{r.epochs}: train loss {r.train_loss:.4f}{val}", file=sys.stderr)
    return run.model.eval()
