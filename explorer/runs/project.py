"""Where a project's runs live, and how often a run reports when the window chooses for the user.

Runs belong to the graph file they were trained from: ``net.json`` keeps its runs in ``net.runs/``
beside it, so copying the two together moves a project with its history. Each run's own folder (what
``train --out`` writes: checkpoints, graph.json, config.json) is ``net.runs/<run id>/``, beside its record.
"""
from __future__ import annotations

import shutil
from pathlib import Path

from explorer.train.config import TrainConfig

# Points a curve should get over a whole run when the interval is "auto": enough for a smooth
# curve, few enough that reporting (one host sync each) costs nothing measurable.
TARGET_LOG_POINTS = 400
TARGET_STATS_SAMPLES = 300
# A sampled step costs about 8 % more than a plain one (hooks, a copy of the weights to measure the
# update, one host copy; ResNet-20 on a CPU): every 4th step at most keeps that under 2 % of the run.
MIN_STATS_EVERY = 4


def runs_folder_for(graph_path: str | Path) -> Path:
    p = Path(graph_path)
    return p.with_name(p.stem + ".runs")


def run_folder(runs_folder: str | Path, run_id: str) -> Path:
    """Where run ``run_id`` of a runs folder keeps its weights (its ``out_dir``)."""
    return Path(runs_folder) / run_id


def found_run_folder(runs_folder: str | Path, run_id: str) -> Path | None:
    """The run's folder beside its record when it exists: a project moved or copied as a whole still
    finds its weights, whatever absolute path the record wrote down."""
    folder = run_folder(runs_folder, run_id)
    return folder if folder.is_dir() else None


def bring_run_folder(source: str | Path, runs_folder: str | Path, run_id: str, move: bool) -> Path:
    """Put the run folder ``source`` at ``run_folder(runs_folder, run_id)`` (moved, or copied so the
    project it came from keeps its own); returns the new place. A missing ``source`` (the run never got
    to write one) just gives the new place. Raises OSError."""
    target = run_folder(runs_folder, run_id)
    source = Path(source)
    if source.is_dir() and source.resolve() != target.resolve():
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():
            shutil.rmtree(target)  # a stale copy of this same run: the source is newer
        (shutil.move if move else shutil.copytree)(str(source), str(target))
    return target


def auto_intervals(config: TrainConfig, train_samples: int, log: bool = True, stats: bool = True) -> TrainConfig:
    """``config`` with ``log_every`` (if ``log``) and ``stats_every`` (if ``stats``) chosen from the run's
    length: about TARGET_LOG_POINTS curve points and TARGET_STATS_SAMPLES heatmap columns per run."""
    spe = -(-max(1, train_samples) // max(1, config.batch_size))
    total = spe * config.epochs
    if config.max_steps:
        total = min(total, config.max_steps)
    changes = {}
    if log:
        changes["log_every"] = max(1, min(50, total // TARGET_LOG_POINTS))
    if stats:
        changes["stats_every"] = max(MIN_STATS_EVERY, min(200, total // TARGET_STATS_SAMPLES))
    return config.replace(**changes) if changes else config
