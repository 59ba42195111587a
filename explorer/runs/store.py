"""Run records and where they live: one JSON file per run in the project's runs folder.

A record holds everything needed to show a finished run again (settings, the graph it trained as
JSON, final metrics, status, metric series); saving is atomic so a crash mid-save loses nothing.
"""
from __future__ import annotations

import json
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from explorer.util.atomic import write_atomic
from explorer.runs.series import LayerSeries, Series

RUN_FORMAT = "residual-explorer-run"
RUN_VERSION = 1


@dataclass
class RunRecord:
    name: str
    arch: str
    dataset: str
    config: dict
    graph_json: str
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    status: str = "pending"  # pending | running | paused | finished | stopped | failed
    message: str = ""
    created: float = field(default_factory=time.time)
    final: dict = field(default_factory=dict)  # final_train_loss, final_val_loss, final_val_acc, ...
    series: dict[str, Series] = field(default_factory=dict)  # "train_loss", "val_acc", ...
    layers: LayerSeries | None = None

    def metric(self, name: str, capacity: int = 8192) -> Series:
        if name not in self.series:
            self.series[name] = Series(capacity)
        return self.series[name]

    def to_dict(self) -> dict:
        d = {k: v for k, v in asdict(self).items() if k not in ("series", "layers")}
        d["format"], d["version"] = RUN_FORMAT, RUN_VERSION
        d["series"] = {k: s.to_lists() for k, s in self.series.items()}
        if self.layers is not None and len(self.layers):
            d["layers"] = {"keys": self.layers.keys, "steps": self.layers.steps.tolist(),
                           "log10": np.round(self.layers.log10, 4).tolist()}
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "RunRecord":
        if d.get("format") != RUN_FORMAT or not isinstance(d.get("version"), int) or d["version"] > RUN_VERSION:
            raise ValueError("not a run file this version can read")
        rec = cls(**{k: d[k] for k in ("name", "arch", "dataset", "config", "graph_json", "id", "status", "message",
                                       "created", "final")})
        rec.series = {k: Series.from_lists(v) for k, v in d.get("series", {}).items()}
        if d.get("layers"):
            ls = LayerSeries(d["layers"]["keys"])
            for step, row in zip(d["layers"]["steps"], d["layers"]["log10"]):
                ls.append(step, 10.0 ** np.asarray(row, dtype=np.float64))
            rec.layers = ls
        return rec


class RunStore:
    """Runs saved as ``<folder>/<id>.run.json``; unreadable files are skipped and reported, never fatal."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)

    def save(self, rec: RunRecord) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{rec.id}.run.json"
        write_atomic(path, json.dumps(rec.to_dict()))
        return path

    def load_all(self) -> tuple[list[RunRecord], list[str]]:
        runs, problems = [], []
        if not self.folder.is_dir():
            return runs, problems
        for path in sorted(self.folder.glob("*.run.json")):
            try:
                runs.append(RunRecord.from_dict(json.loads(path.read_text(encoding="utf-8"))))
            except (OSError, ValueError, KeyError, TypeError) as e:
                problems.append(f"{path.name}: {e}")
        runs.sort(key=lambda r: r.created)
        return runs, problems

    def delete(self, run_id: str) -> None:
        (self.folder / f"{run_id}.run.json").unlink(missing_ok=True)
