"""Metrics files of a run folder: ``metrics.csv`` (per epoch), ``steps.csv`` (per log interval) and
``layer_stats.csv`` (per sampled step and layer unit, long format so any plotting tool reads it). In
``layer_stats.csv`` a unit with ``frozen`` 1 takes no gradient by choice (``--freeze``): its zero gradient and
update are not a vanishing gradient, and its ``output_grad_norm`` is empty (nan) where no gradient reaches
it at all.

Files are appended to and closed after each write, so a crash loses at most the current row and a
resumed run continues the same files, in the columns their header has (a file from before a column was
added keeps its header).
"""
from __future__ import annotations

import csv
from pathlib import Path

from explorer.train.reports import EpochReport, LayerStatsReport, StepReport

EPOCH_FIELDS = ("epoch", "step", "train_loss", "train_acc", "val_loss", "val_acc", "lr", "samples_per_s", "seconds")
STEP_FIELDS = ("epoch", "step", "loss", "acc", "lr", "samples_per_s")
LAYER_FIELDS = ("step", "epoch", "unit", "node_id", "grad_norm", "weight_norm", "update_ratio", "output_grad_norm",
                "frozen")


class MetricsWriter:
    def __init__(self, out_dir: str | Path):
        self.dir = Path(out_dir)
        self.dir.mkdir(parents=True, exist_ok=True)

    def epoch(self, r: EpochReport, step: int) -> None:
        self._append("metrics.csv", EPOCH_FIELDS, [[r.epoch, step, r.train_loss, r.train_acc, _opt(r.val_loss),
                                                    _opt(r.val_acc), r.lr, r.samples_per_s, r.seconds]])

    def step(self, r: StepReport) -> None:
        self._append("steps.csv", STEP_FIELDS, [[r.epoch, r.step, r.loss, r.acc, r.lr, r.samples_per_s]])

    def layers(self, r: LayerStatsReport) -> None:
        frozen = r.frozen if r.frozen is not None else [False] * len(r.keys)
        rows = [[r.step, r.epoch, key, nid, r.grad_norm[i], r.weight_norm[i], r.update_ratio[i],
                 r.output_grad_norm[i], int(bool(frozen[i]))] for i, (key, nid) in enumerate(zip(r.keys, r.node_ids))]
        self._append("layer_stats.csv", LAYER_FIELDS, rows)

    def _append(self, name: str, header, rows) -> None:
        path = self.dir / name
        new = not path.exists() or path.stat().st_size == 0
        keep = range(len(header))
        if not new:  # a resumed run: the columns the file already has
            with open(path, newline="", encoding="utf-8") as f:
                have = next(csv.reader(f), [])
            keep = [header.index(c) for c in have if c in header] or keep
        with open(path, "a", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            if new:
                w.writerow(header)
            w.writerows([[_fmt(row[i]) for i in keep] for row in rows])


def _opt(v):
    return "" if v is None else v


def _fmt(v):
    if isinstance(v, float):
        return f"{v:.6g}"
    try:  # numpy scalars
        return f"{float(v):.6g}" if hasattr(v, "dtype") else v
    except (TypeError, ValueError):
        return v
