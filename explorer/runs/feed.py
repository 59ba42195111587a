"""Engine reports -> a RunRecord: the one place that knows which report feeds which series.

The window's run controller and any script that wants a record of a run (a notebook, a CLI) apply
reports here in the order the engine yields them. No Qt.

Series, all with x = optimiser steps done (divide by ``steps_per_epoch`` for an epoch axis):

- ``train_loss``/``train_acc``: the mean over each log interval (StepReport), the "raw" curve;
- ``val_loss``/``val_acc`` and ``epoch_train_loss``/``epoch_train_acc``: one point per epoch;
- ``lr``: the learning rate at each log interval.

Per-layer quantities (``LAYER_QUANTITIES``), one LayerSeries each; ``grad_norm`` is also
``record.layers`` so it is saved with the run file, the others go to a sidecar (``layer_extras``).
"""
from __future__ import annotations

import numpy as np

from explorer.runs.series import LayerSeries
from explorer.runs.store import RunRecord
from explorer.train.reports import (CheckpointReport, EpochReport, FailedReport, FinishedReport, LayerStatsReport,
                                    StartedReport, StatusReport, StepReport)

LAYER_QUANTITIES = {
    "grad_norm": "weight gradient ‖∂L/∂w‖",
    "output_grad_norm": "gradient reaching the layer ‖∂L/∂y‖",
    "update_ratio": "update ratio ‖Δw‖/‖w‖",
}
STEP_SERIES = ("train_loss", "train_acc", "lr")
EPOCH_SERIES = ("val_loss", "val_acc", "epoch_train_loss", "epoch_train_acc")
ACTIVE = ("pending", "running", "paused")
MAX_LAYER_CELLS = 1 << 19   # layers × kept samples per quantity: bounds memory and the heatmap's pixels


def layer_capacity(n_layers: int) -> int:
    """Samples kept per layer: 2,048 for nets up to 256 layers, fewer (down to 256) for deeper ones,
    so a 1,000-layer net keeps 512 columns (each 20 steps of a 10,000-step run) and stays cheap to draw."""
    cap = 2048
    while cap > 256 and cap * max(1, n_layers) > MAX_LAYER_CELLS:
        cap //= 2
    return cap


def node_of_key(key: str) -> str:
    """Layer-unit key -> graph node id: ``stage2[3]`` -> ``stage2``, ``stem_conv`` -> ``stem_conv``.
    Node ids cannot contain ``[`` (graph.model.ID_RE), so this also works for runs loaded from disk."""
    return key.split("[", 1)[0]


class RunFeed:
    """A RunRecord plus what only a live run has: progress, the newest per-layer values, notices."""

    def __init__(self, record: RunRecord, layers: dict[str, LayerSeries] | None = None):
        self.record = record
        self.layers: dict[str, LayerSeries] = dict(layers or {})
        if record.layers is not None:
            self.layers["grad_norm"] = record.layers
        self.latest: dict[str, np.ndarray] = {}   # quantity -> the newest raw sample (not bucketed)
        self.latest_step: int | None = None
        self.progress: StepReport | None = None
        self.started: StartedReport | None = None
        self.step = int(record.final.get("steps", 0) or 0)
        self.notices: list[str] = []
        self.checkpoint: str | None = None

    # -- facts about the run ----------------------------------------------------------------------
    @property
    def id(self) -> str:
        return self.record.id

    @property
    def keys(self) -> list[str]:
        s = self.layers.get("grad_norm") or next(iter(self.layers.values()), None)
        return list(s.keys) if s is not None else []

    @property
    def steps_per_epoch(self) -> int:
        return int(self.record.final.get("steps_per_epoch") or 0) or 1

    @property
    def active(self) -> bool:
        return self.record.status in ACTIVE

    def latest_values(self, quantity: str) -> np.ndarray | None:
        """The newest per-layer values: the raw last sample while live, else the last bucket."""
        if quantity in self.latest:
            return self.latest[quantity]
        s = self.layers.get(quantity)
        return s.latest() if s is not None else None

    # -- reports ----------------------------------------------------------------------------------
    def apply(self, r) -> None:
        rec = self.record
        if isinstance(r, StepReport):
            self.progress, self.step = r, r.step
            rec.metric("train_loss").append(r.step, r.loss)
            rec.metric("train_acc").append(r.step, r.acc)
            rec.metric("lr").append(r.step, r.lr)
        elif isinstance(r, LayerStatsReport):
            self._layers(r)
        elif isinstance(r, EpochReport):
            # The engine sends the epoch's last StepReport before its EpochReport: self.step is the epoch end.
            for name, value in (("epoch_train_loss", r.train_loss), ("epoch_train_acc", r.train_acc),
                                ("val_loss", r.val_loss), ("val_acc", r.val_acc)):
                if value is not None:
                    rec.metric(name).append(self.step, value)
            rec.final.update(epochs_done=r.epoch, final_train_loss=r.train_loss, final_train_acc=r.train_acc,
                             final_val_loss=r.val_loss, final_val_acc=r.val_acc)
        elif isinstance(r, StartedReport):
            self.started = r
            rec.status = "running"
            self.notices.extend(r.notices)
            rec.final.update(steps_per_epoch=r.steps_per_epoch, total_steps=r.total_steps, params=r.params,
                             device=r.device, train_samples=r.train_samples, val_samples=r.val_samples)
            for q in LAYER_QUANTITIES:
                if q not in self.layers or self.layers[q].keys != list(r.unit_keys):
                    self.layers[q] = LayerSeries(r.unit_keys, layer_capacity(len(r.unit_keys)))
            rec.layers = self.layers["grad_norm"]
        elif isinstance(r, StatusReport):
            rec.status = "paused" if r.state == "paused" else "running"
            if r.detail:  # --compile: "compiling, ~40 s", "compiled in 38 s" or the warning that it failed
                self.notices.append(r.detail)
        elif isinstance(r, CheckpointReport):
            self.checkpoint = r.path
        elif isinstance(r, FinishedReport):
            rec.status = "finished" if r.status == "completed" else "stopped"
            rec.final.update({k: v for k, v in r.summary().items() if k != "status"})
            rec.message = "" if r.status == "completed" else f"stopped after {r.steps} steps"
        elif isinstance(r, FailedReport):
            self.fail(r.text, kind=r.kind)

    def fail(self, text: str, kind: str = "error") -> None:
        self.record.status = "failed"
        self.record.message = text
        self.record.final["failure"] = kind

    def _layers(self, r: LayerStatsReport) -> None:
        for q in LAYER_QUANTITIES:
            values = np.asarray(getattr(r, q), dtype=np.float64)
            series = self.layers.get(q)
            if series is None or len(series.keys) != len(values):
                series = self.layers[q] = LayerSeries(r.keys, layer_capacity(len(r.keys)))
                if q == "grad_norm":
                    self.record.layers = series
            series.append(r.step, values)
            self.latest[q] = values
        self.latest_step = r.step
