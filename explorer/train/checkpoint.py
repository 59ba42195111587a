"""Checkpoints: weights + graph JSON + config + everything needed to continue a run bit for bit.

A checkpoint holds only tensors and plain containers, so it loads with ``torch.load(weights_only=True)``
and opening one never runs code. Writes are atomic (temporary file, then rename): a crash or a NaN
never leaves half a checkpoint in place of the last good one.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from explorer.graph.fileio import FileFormatError, dumps_graph, loads_graph
from explorer.util.atomic import write_atomic_with
from explorer.graph.model import Graph
from explorer.train.config import TrainConfig

FORMAT = "residual-explorer-checkpoint"
VERSION = 1


class CheckpointError(ValueError):
    """Not a checkpoint this version can read; the message says why."""


@dataclass
class Checkpoint:
    graph: Graph
    config: TrainConfig
    model_state: dict[str, torch.Tensor]
    optimizer_state: dict[str, Any] | None = None
    scaler_state: dict[str, Any] | None = None
    rng: dict[str, Any] = field(default_factory=dict)
    epoch: int = 0                     # completed epochs
    step: int = 0                      # optimiser steps done
    batch: int = 0                     # batches done in the unfinished epoch (0 at an epoch boundary)
    order: torch.Tensor | None = None  # that epoch's sample order, when mid-epoch
    epoch_sums: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0])  # loss·n, correct, n so far
    history: list[dict] = field(default_factory=list)
    best_val_acc: float | None = None
    best_epoch: int | None = None
    data: dict[str, Any] = field(default_factory=dict)  # name, input_shape, num_classes, classes
    path: str | None = None

    def to_payload(self) -> dict[str, Any]:
        return {"format": FORMAT, "version": VERSION, "graph": dumps_graph(self.graph),
                "config": self.config.to_dict(), "model": self.model_state, "optimizer": self.optimizer_state,
                "scaler": self.scaler_state, "rng": self.rng, "epoch": self.epoch, "step": self.step,
                "batch": self.batch, "order": self.order, "epoch_sums": list(self.epoch_sums),
                "history": self.history, "best_val_acc": self.best_val_acc, "best_epoch": self.best_epoch,
                "data": self.data}


def save_checkpoint(ckpt: Checkpoint, path: str | os.PathLike) -> str:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic_with(path, lambda f: torch.save(ckpt.to_payload(), f))
    return str(path)


def load_checkpoint(path: str | os.PathLike) -> Checkpoint:
    """Read a checkpoint on the CPU (``weights_only=True``); raises CheckpointError with the reason."""
    path = Path(path)
    if path.is_dir():
        path = path / "last.pt"  # a run folder means its latest state
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise CheckpointError(f"{path}: no such checkpoint") from None
    except Exception as e:  # unpickling refused, truncated file, not a torch file at all
        raise CheckpointError(f"{path}: not a readable checkpoint ({type(e).__name__}: {e})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a Residual Explorer checkpoint")
    if data.get("version") != VERSION:
        raise CheckpointError(f"{path}: checkpoint version {data.get('version')!r} is not supported "
                              f"(this version reads {VERSION}); update Residual Explorer")
    try:
        graph = loads_graph(data["graph"], source=f"{path} (graph)")
        config = TrainConfig.from_dict(data["config"])
        return Checkpoint(graph=graph, config=config, model_state=data["model"],
                          optimizer_state=data.get("optimizer"), scaler_state=data.get("scaler"),
                          rng=data.get("rng") or {}, epoch=int(data["epoch"]), step=int(data["step"]),
                          batch=int(data.get("batch", 0)), order=data.get("order"),
                          epoch_sums=list(data.get("epoch_sums") or [0.0, 0.0, 0.0]),
                          history=list(data.get("history") or []), best_val_acc=data.get("best_val_acc"),
                          best_epoch=data.get("best_epoch"), data=dict(data.get("data") or {}), path=str(path))
    except FileFormatError as e:
        raise CheckpointError(str(e)) from None
    except (KeyError, TypeError, ValueError) as e:
        raise CheckpointError(f"{path}: damaged checkpoint ({type(e).__name__}: {e})") from None


def load_model(path: str | os.PathLike):
    """The trained module (eval mode, on the CPU) and its graph, e.g. for analysis or export."""
    from explorer.compile import compile_graph

    ckpt = load_checkpoint(path)
    model = compile_graph(ckpt.graph)
    try:
        model.load_state_dict(ckpt.model_state)
    except RuntimeError as e:
        raise CheckpointError(f"{path}: weights do not fit the stored graph ({e})") from None
    return model.eval(), ckpt.graph
