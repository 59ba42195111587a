"""Run records and where they live: one JSON file per run in the project's runs folder.

A record holds everything needed to show a finished run again (settings, the graph it trained as
JSON, final metrics, status, metric series); saving is atomic so a crash mid-save loses nothing.
"""
from __future__ import annotations

import json
import re
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from explorer.runs.series import LayerSeries, Series
from explorer.util.atomic import write_atomic
from explorer.util.untrusted import (UntrustedInputError, finite_number, read_regular_file, text,
                                     whole_number)

RUN_FORMAT = "residual-explorer-run"
RUN_VERSION = 1
MAX_RUN_BYTES = 256 * 2**20


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
    def from_dict(cls, d: Any) -> "RunRecord":
        """A record from untrusted JSON; every field is checked, and a bad one raises UntrustedInputError
        naming it."""
        if not isinstance(d, dict):
            raise UntrustedInputError(f"expected a JSON object, got {type(d).__name__}")
        if d.get("format") != RUN_FORMAT:
            raise UntrustedInputError("not a Residual Explorer run file")
        version = whole_number(d.get("version"), "'version'", 1)
        if version > RUN_VERSION:
            raise UntrustedInputError(f"written by a newer Residual Explorer (run format {version})")
        fields = {k: text(d.get(k), f"'{k}'", 1_000) for k in ("name", "arch", "dataset", "message")}
        fields["graph_json"] = text(d.get("graph_json"), "'graph_json'", 64 * 2**20)
        fields["id"] = text(d.get("id"), "'id'", 64)
        if not _RUN_ID.fullmatch(fields["id"]):
            raise UntrustedInputError(f"'id' {fields['id']!r} is not a run id")
        status = d.get("status")
        if status not in STATUSES:
            raise UntrustedInputError(f"'status' must be one of {', '.join(STATUSES)}")
        created = finite_number(d.get("created"), "'created'", 0)
        config, final = d.get("config"), d.get("final", {})
        if not isinstance(config, dict) or not isinstance(final, dict):
            raise UntrustedInputError("'config' and 'final' must be objects")
        final = {str(k): _final_value(k, v) for k, v in final.items()}
        rec = cls(**fields, config=config, status=status, created=created, final=final)
        series = d.get("series", {})
        if not isinstance(series, dict):
            raise UntrustedInputError("'series' must be an object of metric name → {x, y}")
        rec.series = {text(k, "a series name", 100): _series(k, v) for k, v in series.items()}
        if d.get("layers"):
            rec.layers = _layers(d["layers"])
        return rec


_RUN_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
STATUSES = ("pending", "running", "paused", "finished", "stopped", "failed")


def _final_value(key: Any, value: Any):
    if value is None or isinstance(value, str):
        return value
    return finite_number(value, f"final '{key}'")


def _numbers(values: Any, what: str) -> list[float]:
    if not isinstance(values, list):
        raise UntrustedInputError(f"{what} must be a list of numbers")
    return [finite_number(v, what) for v in values]


def _series(name: str, d: Any) -> Series:
    if not isinstance(d, dict):
        raise UntrustedInputError(f"series '{name}' must be an object with 'x' and 'y' lists")
    xs, ys = _numbers(d.get("x", []), f"series '{name}' x"), _numbers(d.get("y", []), f"series '{name}' y")
    if len(xs) != len(ys):
        raise UntrustedInputError(f"series '{name}' has {len(xs)} x values but {len(ys)} y values")
    s = Series()
    s.extend(xs, ys)
    return s


def _layers(d: Any) -> LayerSeries:
    if not isinstance(d, dict) or not isinstance(d.get("keys"), list):
        raise UntrustedInputError("'layers' must be an object with 'keys', 'steps' and 'log10'")
    keys = [text(k, "a layer key", 200) for k in d["keys"]]
    steps = _numbers(d.get("steps", []), "layer steps")
    rows = d.get("log10", [])
    if not isinstance(rows, list) or len(rows) != len(steps):
        raise UntrustedInputError("'layers' needs one log10 row per step")
    ls = LayerSeries(keys)
    for step, row in zip(steps, rows):
        values = _numbers(row, "a layer row")
        if len(values) != len(keys):
            raise UntrustedInputError(f"a layer row has {len(values)} values for {len(keys)} layers")
        ls.append(step, 10.0 ** np.asarray(values, dtype=np.float64))
    return ls


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
                raw = read_regular_file(path, MAX_RUN_BYTES, "run file")
                runs.append(RunRecord.from_dict(json.loads(raw)))
            except (UntrustedInputError, ValueError, RecursionError) as e:
                # ValueError covers bad JSON and bad UTF-8; one bad file must not hide the others
                problems.append(f"{path.name} was skipped: {e}")
        runs.sort(key=lambda r: r.created)
        return runs, problems

    def delete(self, run_id: str) -> None:
        (self.folder / f"{run_id}.run.json").unlink(missing_ok=True)
