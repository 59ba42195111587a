"""A finished trial as a run record (explorer.runs), so the window's Runs list shows it like any other
run: its name, settings, network, final numbers and curves, read from its run folder (steps.csv,
metrics.csv, graph.json, config.json). Nothing in the folder is changed."""
from __future__ import annotations

import csv
import json
from pathlib import Path

from explorer.runs.store import RunRecord
from explorer.studies.study import Study
from explorer.studies.trial import Trial
from explorer.util.untrusted import UntrustedInputError, read_regular_file

MAX_FILE = 64 * 1024**2


def _rows(path: Path) -> list[dict]:
    try:
        text = read_regular_file(path, MAX_FILE, path.name).decode("utf-8")
        return list(csv.DictReader(text.splitlines()))
    except (UntrustedInputError, UnicodeDecodeError, csv.Error):
        return []


def _number(row: dict, key: str) -> float | None:
    try:
        return float(row[key])
    except (KeyError, TypeError, ValueError):
        return None


def trial_record(study: Study, trial: Trial, folder) -> RunRecord:
    """The run record of ``trial`` (any state: a pending one has no curves yet)."""
    run = Path(folder) / trial.run_dir
    try:
        graph_json = read_regular_file(run / "graph.json", MAX_FILE, "graph.json").decode("utf-8")
    except (UntrustedInputError, UnicodeDecodeError, OSError):
        graph_json = ""
    try:
        config = json.loads(read_regular_file(run / "config.json", MAX_FILE, "config.json"))
    except (UntrustedInputError, ValueError, OSError):
        config = dict(study.spec.config, seed=trial.seed)
    name = f"{trial.arch}{' (plain twin)' if trial.plain else ''} seed {trial.seed}"
    status = {"done": "finished", "failed": "failed"}.get(trial.state, "stopped")
    final = {k: v for k, v in (("final_train_loss", trial.final_train_loss), ("epochs", trial.epochs),
                               ("seconds", trial.seconds)) if v is not None}
    for key, err in (("final_train_acc", trial.final_train_err), ("final_val_acc", trial.final_val_err),
                     ("best_val_acc", trial.best_val_err)):
        if err is not None:
            final[key] = 1.0 - err
    rec = RunRecord(name=name, arch=trial.arch, dataset=study.spec.dataset, config=config if isinstance(config, dict)
                    else {}, graph_json=graph_json, status=status, message=trial.error or "", final=final)
    for row in _rows(run / "steps.csv"):
        step, loss, acc = _number(row, "step"), _number(row, "loss"), _number(row, "acc")
        if step is not None and loss is not None:
            rec.metric("train_loss").append(step, loss)
        if step is not None and acc is not None:
            rec.metric("train_acc").append(step, acc)
    for row in _rows(run / "metrics.csv"):
        step = _number(row, "step")
        for key, series in (("val_loss", "val_loss"), ("val_acc", "val_acc"), ("train_loss", "epoch_train_loss"),
                            ("train_acc", "epoch_train_acc")):
            value = _number(row, key)
            if step is not None and value is not None:
                rec.metric(series).append(step, value)
    return rec
