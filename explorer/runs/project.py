"""Where a project's runs live, and how often a run reports when the window chooses for the user.

Runs belong to the graph file they were trained from: ``net.json`` keeps its runs in ``net.runs/``
beside it, so copying the two together moves a project with its history.
"""
from __future__ import annotations

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
