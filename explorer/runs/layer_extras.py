"""The per-layer quantities a run file does not hold, in a sidecar next to it.

``RunRecord`` saves one LayerSeries (``record.layers``: the weight-gradient norms). The gradient that
reaches each layer and the update ratio are saved here as ``<id>.layers.json`` in the same folder, in
the same versioned, atomic way, so a reopened run shows every heatmap it showed live. A missing or
unreadable sidecar only means those two views are empty for that run.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from explorer.util.atomic import write_atomic
from explorer.runs.series import LayerSeries

FORMAT = "residual-explorer-run-layers"
VERSION = 1


def sidecar_path(folder: str | Path, run_id: str) -> Path:
    return Path(folder) / f"{run_id}.layers.json"


def save_extra_layers(folder: str | Path, run_id: str, layers: dict[str, LayerSeries]) -> Path | None:
    data = {name: {"keys": s.keys, "steps": s.steps.tolist(),
                   # NaN (a layer without a gradient at its output) is not JSON: stored as null.
                   "log10": [[None if v != v else round(float(v), 4) for v in row] for row in s.log10]}
            for name, s in layers.items() if len(s)}
    if not data:
        return None
    path = sidecar_path(folder, run_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, json.dumps({"format": FORMAT, "version": VERSION, "layers": data}))
    return path


def load_extra_layers(folder: str | Path, run_id: str) -> dict[str, LayerSeries]:
    path = sidecar_path(folder, run_id)
    try:
        d = json.loads(path.read_text(encoding="utf-8"))
        if d.get("format") != FORMAT or not isinstance(d.get("version"), int) or d["version"] > VERSION:
            return {}
        out = {}
        for name, s in d["layers"].items():
            ls = LayerSeries(s["keys"])
            for step, row in zip(s["steps"], s["log10"]):
                vals = np.array([np.nan if v is None else v for v in row], dtype=np.float64)
                ls.append(step, 10.0 ** vals)
            out[name] = ls
        return out
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}


def delete_extra_layers(folder: str | Path, run_id: str) -> None:
    sidecar_path(folder, run_id).unlink(missing_ok=True)
