"""One training of a lesson: the engine's run, kept as a run folder and a run record, with its trained module.

The record (``explorer.runs``) is the one the window's run list shows, so a lesson's runs open in the
views the training already has; the folder (``train --out``) is what ``analyze`` and the window's analysis
panel read. Cancelling stops the engine within one step and raises ``Cancelled``.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from explorer.analysis.control import Cancelled
from explorer.lessons.control import LessonControl
from explorer.runs.feed import RunFeed
from explorer.runs.store import RunRecord

# Lesson settings that are TrainConfig fields, under the same names.
CONFIG_KEYS = ("epochs", "max_steps", "batch_size", "lr", "optimizer", "seed", "train_samples", "stats_every",
               "log_every")


@dataclass
class TrainedNetwork:
    name: str
    feed: RunFeed              # the record and its per-layer series
    module: object | None      # the trained nn.Module (eval mode), None when the run failed
    graph: object              # the graph as trained (fitted to the data)
    run_dir: str
    failure: str = ""

    @property
    def record(self) -> RunRecord:
        return self.feed.record

    def measured(self) -> dict:
        """Its final numbers: errors are fractions (1 − accuracy) as the papers plot them."""
        f = self.record.final
        out = {"final_train_loss": f.get("final_train_loss"), "final_val_loss": f.get("final_val_loss"),
               "final_train_err": _err(f.get("final_train_acc")), "final_val_err": _err(f.get("final_val_acc")),
               "best_val_err": _err(f.get("best_val_acc")), "seconds": f.get("seconds")}
        return {k: v for k, v in out.items() if v is not None}


def _err(acc) -> float | None:
    return None if acc is None else 1.0 - float(acc)


def train_config(settings: dict, out_dir: Path):
    from explorer.train.config import TrainConfig

    # Lessons run on a laptop CPU: one thread per run leaves the window (or a second lesson) responsive.
    changes = {k: settings[k] for k in CONFIG_KEYS if k in settings}
    return TrainConfig(device=settings.get("device", "auto"), out_dir=str(out_dir), **changes)


def train_network(name: str, graph, dataset, cfg, control: LessonControl) -> TrainedNetwork:
    """Train ``graph`` to the end (or to a failure); every report goes into the run's record."""
    from explorer.graph.fileio import dumps_graph
    from explorer.train.engine import TrainingRun
    from explorer.train.reports import FailedReport, StepReport

    rec = RunRecord(name=name, arch=name, dataset=dataset.name, config=cfg.to_dict(), graph_json=dumps_graph(graph))
    feed = RunFeed(rec)
    run = TrainingRun(graph, dataset, cfg, control.training())
    failure = ""
    for r in run.reports():
        feed.apply(r)
        if isinstance(r, StepReport):
            control.report(f"training {name}", r.step, r.total_steps)
        elif isinstance(r, FailedReport):
            failure = r.text
    if control.cancelled:
        raise Cancelled("lesson cancelled")
    module = run.model.eval() if run.model is not None and not failure else None
    return TrainedNetwork(name, feed, module, run.graph, cfg.out_dir, failure)
