"""Optimisers, and the learning-rate schedules as a formula.

The engine schedules with ``torch.optim.lr_scheduler`` (``schedule.py``, whose state each checkpoint keeps);
``lr_factor`` is the same curve as a pure function of the step, for the standalone training script that
``export --format train-script`` writes (it carries this function's source; a test holds the two equal).
"""
from __future__ import annotations

import math

import torch
from torch import nn

from explorer.compile import node_of_param
from explorer.train.config import TrainConfig

ONECYCLE_PCT = 0.3          # share of the steps spent rising (Smith & Topin 2019; torch's default)
ONECYCLE_DIV = 25.0         # start at max lr / 25
ONECYCLE_FINAL_DIV = 1e4    # end at start / 1e4


def param_groups(model: nn.Module, weight_decay: float, multipliers: dict[str, float] | None = None,
                 only: list[torch.Tensor] | None = None) -> list[dict]:
    """Weight decay on conv/linear weights only: decaying BatchNorm scales and biases only fights the
    normalisation (a common choice since Goyal et al. 2017). ``multipliers`` (node id -> factor) give a
    node's parameters their own pair of groups whose ``lr_mult`` scales the learning rate; ``only``: these
    parameters (else every one that requires a gradient)."""
    mult = multipliers or {}
    chosen = {id(p) for p in only} if only is not None else None
    buckets: dict[float, tuple[list, list]] = {}
    for name, p in model.named_parameters():
        if (p.requires_grad if chosen is None else id(p) in chosen):
            decay, no_decay = buckets.setdefault(mult.get(node_of_param(name), 1.0), ([], []))
            (decay if p.ndim > 1 else no_decay).append(p)
    groups = []
    for factor, (decay, no_decay) in buckets.items():
        extra = {"lr_mult": factor} if factor != 1.0 else {}
        groups += [{"params": decay, "weight_decay": weight_decay, **extra},
                   {"params": no_decay, "weight_decay": 0.0, **extra}]
    return [g for g in groups if g["params"]]


def build_optimizer(model: nn.Module, cfg: TrainConfig,
                    multipliers: dict[str, float] | None = None) -> torch.optim.Optimizer:
    groups = param_groups(model, cfg.weight_decay, multipliers)
    # foreach: one batched update over all parameters of a group instead of a Python loop over them (torch
    # picks it by itself on CUDA only; on a CPU it is a few per cent faster too).
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(groups, lr=cfg.lr, momentum=cfg.momentum, nesterov=cfg.nesterov and cfg.momentum > 0,
                               foreach=True)
    if cfg.optimizer == "adam":
        return torch.optim.Adam(groups, lr=cfg.lr, betas=tuple(cfg.betas), foreach=True)
    if cfg.optimizer == "adamw":
        return torch.optim.AdamW(groups, lr=cfg.lr, betas=tuple(cfg.betas), foreach=True)
    raise ValueError(f"unknown optimizer {cfg.optimizer!r}")


def lr_factor(step: int, total_steps: int, steps_per_epoch: int, cfg: TrainConfig) -> float:
    """Multiplier of ``cfg.lr`` for the step with 0-based index ``step`` of ``total_steps``."""
    total = max(1, total_steps)
    if cfg.schedule == "onecycle":  # torch's OneCycleLR: the peak at step pct·total − 1, the end at total − 1
        peak = ONECYCLE_PCT * total - 1
        lo = 1.0 / ONECYCLE_DIV
        if step <= peak:
            return lo + (1.0 - lo) * _cos_ramp(step / peak) if peak > 0 else 1.0
        end = lo / ONECYCLE_FINAL_DIV
        return end + (1.0 - end) * (1.0 - _cos_ramp((step - peak) / max(1e-12, total - 1 - peak)))
    warmup_epochs = cfg.warmup_epochs or (1.0 if cfg.schedule == "warmup" else 0.0)
    # Capped at a third of the run: a 1-epoch run still spends most of its steps at a useful rate.
    warm = min(int(round(warmup_epochs * steps_per_epoch)), total // 3)
    factor = 1.0
    if warm > 0 and step < warm:
        factor = (step + 1) / (warm + 1)
    t = min(1.0, max(0.0, (step - warm) / max(1, total - warm)))  # progress after warm-up
    if cfg.schedule == "cosine":
        factor *= 0.5 * (1.0 + math.cos(math.pi * t))
    elif cfg.schedule == "linear":
        factor *= 1.0 - t
    elif cfg.schedule == "step":
        if cfg.step_epochs:
            drops = step // (cfg.step_epochs * steps_per_epoch)
        else:
            drops = int(step >= 0.5 * total) + int(step >= 0.75 * total)  # He et al.: ÷10 at 50 % and 75 %
        factor *= cfg.step_gamma ** drops
    return factor


def _cos_ramp(t: float) -> float:
    """0 -> 1 along half a cosine."""
    return 0.5 * (1.0 - math.cos(math.pi * min(1.0, max(0.0, t))))
