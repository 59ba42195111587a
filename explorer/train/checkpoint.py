"""Checkpoints: weights + graph JSON + config + everything needed to continue a run bit for bit.

A checkpoint holds only tensors and plain containers, so it loads with ``torch.load(weights_only=True)``
and opening one never runs code. Writes are atomic (temporary file, then rename): a crash or a NaN
never leaves half a checkpoint in place of the last good one.
"""
from __future__ import annotations

import math
import os
import pickle
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from explorer.graph.fileio import MAX_BYTES, FileFormatError, dumps_graph, loads_graph
from explorer.graph.model import Graph
from explorer.train.config import ConfigError, TrainConfig
from explorer.train.torch_archive import ArchiveRefused, check_archive
from explorer.util.atomic import remove_stale_temporaries, write_atomic_with
from explorer.util.untrusted import UntrustedInputError, finite_number, regular_file_size, text, whole_number

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
    scheduler_state: dict[str, Any] | None = None  # the learning-rate schedule's (train/schedule.py)
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
                "scheduler": self.scheduler_state,
                "scaler": self.scaler_state, "rng": self.rng, "epoch": self.epoch, "step": self.step,
                "batch": self.batch, "order": self.order, "epoch_sums": list(self.epoch_sums),
                "history": self.history, "best_val_acc": self.best_val_acc, "best_epoch": self.best_epoch,
                "data": self.data}


class CheckpointWriteError(CheckpointError):
    """Writing failed (disk full, folder gone); the previous checkpoint at that path is untouched."""


def save_checkpoint(ckpt: Checkpoint, path: str | os.PathLike) -> str:
    """Write atomically; leftovers of a killed run's writes to the same path are removed first."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_temporaries(path)
        write_atomic_with(path, lambda f: torch.save(ckpt.to_payload(), f))
    except (OSError, RuntimeError) as e:
        reason = _write_failure(e)
        kept = f"; the previous {path.name} is unchanged" if path.exists() else ""
        raise CheckpointWriteError(f"cannot write checkpoint {path} ({reason}){kept}") from None
    return str(path)


def _write_failure(e: BaseException) -> str:
    """The reason in words. torch reports a full disk as RuntimeError("[enforce fail ...] unexpected pos")
    raised while handling the file's own OSError (ENOSPC): the OSError in the chain says what happened."""
    seen = e
    while seen is not None:
        if isinstance(seen, OSError) and seen.strerror:
            return seen.strerror[:1].lower() + seen.strerror[1:]
        seen = seen.__cause__ or seen.__context__
    return (str(e).splitlines() or [type(e).__name__])[0]


def load_checkpoint(path: str | os.PathLike) -> Checkpoint:
    """Read a checkpoint on the CPU (``weights_only=True``) and check every field before anything uses it;
    raises CheckpointError with the reason."""
    path = Path(path)
    if path.is_dir():
        path = path / "last.pt"  # a run folder means its latest state
    try:
        regular_file_size(path, "checkpoint")
    except UntrustedInputError as e:
        raise CheckpointError(str(e).replace("cannot read checkpoint (No such file or directory)",
                                             "no such checkpoint")) from None
    try:
        check_archive(path, None, "checkpoint")  # no record may declare more than the file holds
    except ArchiveRefused as e:
        raise CheckpointError(str(e)) from None
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        # torch's own text suggests weights_only=False, i.e. running the file's code: never say that
        raise CheckpointError(f"{path}: not a readable checkpoint (it holds objects other than tensors and "
                              "plain data, so it was not written by Residual Explorer)") from None
    except Exception as e:  # truncated file, not a torch file at all
        raise CheckpointError(f"{path}: not a readable checkpoint ({type(e).__name__}: "
                              f"{str(e).splitlines()[0] if str(e) else 'damaged'})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a Residual Explorer checkpoint")
    if data.get("version") != VERSION:
        raise CheckpointError(f"{path}: checkpoint version {data.get('version')!r} is not supported "
                              f"(this version reads {VERSION}); update Residual Explorer")
    try:
        graph = loads_graph(text(data.get("graph"), "'graph'", MAX_BYTES), source=f"{path} (graph)")
        config = _config(data.get("config"))
        return _checked(data, graph, config, str(path))
    except FileFormatError as e:
        raise CheckpointError(str(e)) from None
    except (UntrustedInputError, KeyError, TypeError, ValueError) as e:
        raise CheckpointError(f"{path}: damaged checkpoint ({e})") from None


def _config(raw: Any) -> TrainConfig:
    """The run's settings, every field checked first: a wrong value is named, not found later as a failed
    comparison ("'>' not supported between 'int' and 'str'")."""
    if not isinstance(raw, dict):
        raise UntrustedInputError("'config' must be an object of settings")
    try:
        return TrainConfig.from_dict(raw).check()
    except ConfigError as e:
        raise UntrustedInputError(f"its settings: {e}") from None
    except (TypeError, ValueError):  # from_dict itself: only betas are converted (to a pair)
        raise UntrustedInputError("its settings: 'betas' must be two numbers") from None


def _checked(data: dict, graph: Graph, config: TrainConfig, path: str) -> Checkpoint:
    model = data.get("model")
    if not isinstance(model, dict) or not all(isinstance(k, str) and isinstance(v, torch.Tensor)
                                              for k, v in model.items()):
        raise UntrustedInputError("'model' must map parameter names to tensors")
    optimizer = data.get("optimizer")
    if optimizer is not None and (not isinstance(optimizer, dict) or not isinstance(optimizer.get("state"), dict)
                                  or not isinstance(optimizer.get("param_groups"), list)
                                  or not all(isinstance(g, dict) for g in optimizer["param_groups"])):
        raise UntrustedInputError("'optimizer' must hold a 'state' object and a 'param_groups' list")
    scaler = data.get("scaler")
    if scaler is not None and not isinstance(scaler, dict):
        raise UntrustedInputError("'scaler' must be an object")
    scheduler = data.get("scheduler")
    if scheduler is not None and not isinstance(scheduler, dict):
        raise UntrustedInputError("'scheduler' must be an object")
    epoch = whole_number(data.get("epoch"), "'epoch'", 0, config.epochs)
    step = whole_number(data.get("step"), "'step'", 0, 10**12)
    batch = whole_number(data.get("batch", 0), "'batch'", 0, 10**9)
    order = data.get("order")
    if batch:
        if (not isinstance(order, torch.Tensor) or order.dim() != 1 or order.dtype not in _INDEX_DTYPES
                or order.numel() == 0 or order.numel() > 10**9):
            raise UntrustedInputError("'order' must be the sample order of the unfinished epoch (1-D indices)")
        if int(order.min()) < 0 or int(order.max()) >= order.numel() or batch > order.numel():
            raise UntrustedInputError("'order' is not a permutation of the training samples")
    else:
        order = None
    sums = data.get("epoch_sums") or [0.0, 0.0, 0.0]
    if not isinstance(sums, (list, tuple)) or len(sums) != 3:
        raise UntrustedInputError("'epoch_sums' must be three numbers (loss·n, correct, n)")
    sums = [finite_number(v, "'epoch_sums'", 0) for v in sums]
    history = data.get("history") or []
    if not isinstance(history, list) or not all(_history_row(r) for r in history):
        raise UntrustedInputError("'history' must be a list of per-epoch metric objects")
    best = data.get("best_val_acc")
    best = None if best is None else finite_number(best, "'best_val_acc'", 0, 1)
    best_epoch = data.get("best_epoch")
    best_epoch = None if best_epoch is None else whole_number(best_epoch, "'best_epoch'", 0, max(epoch, 1))
    meta = data.get("data") or {}
    if not isinstance(meta, dict):
        raise UntrustedInputError("'data' must be an object")
    return Checkpoint(graph=graph, config=config, model_state=model, optimizer_state=optimizer,
                      scaler_state=scaler, scheduler_state=scheduler, rng=_rng(data.get("rng")), epoch=epoch,
                      step=step, batch=batch,
                      order=order, epoch_sums=sums, history=history, best_val_acc=best, best_epoch=best_epoch,
                      data=meta, path=path)


_INDEX_DTYPES = (torch.int64, torch.int32)


def _history_row(row: Any) -> bool:
    return isinstance(row, dict) and all(
        isinstance(k, str) and (v is None or isinstance(v, str)
                                or (isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)))
        for k, v in row.items())


def _rng(rng: Any) -> dict:
    """RNG states are byte tensors of the exact size torch's generators use; anything else is damage."""
    if not rng:
        return {}
    if not isinstance(rng, dict):
        raise UntrustedInputError("'rng' must be an object of generator states")
    size = torch.get_rng_state().numel()
    for key in ("data", "torch"):
        state = rng.get(key)
        if state is not None and not (isinstance(state, torch.Tensor) and state.dtype == torch.uint8
                                      and state.dim() == 1 and state.numel() == size):
            raise UntrustedInputError(f"random-number state '{key}' is not a generator state")
    cuda = rng.get("cuda")
    if cuda is not None and not (isinstance(cuda, list) and all(isinstance(t, torch.Tensor)
                                                                and t.dtype == torch.uint8 for t in cuda)):
        raise UntrustedInputError("random-number state 'cuda' is not a list of generator states")
    return rng


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
