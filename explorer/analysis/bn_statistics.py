"""Which statistics a network's BatchNorm layers normalise by while a tool measures it.

A trained run's running statistics are what the network is deployed with. A freshly built network has
running statistics of 0 and 1 that no data ever set, so in eval mode it is effectively unnormalised: a
tool then either estimates them on a few training batches first (``estimated_statistics``) or lets every
batch normalise by its own statistics (``batch_statistics``). Both put the module's mode and buffers back.
"""
from __future__ import annotations

from contextlib import contextmanager

import torch
from torch import nn

BATCH_NORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)
ESTIMATE_BATCH = 64   # samples per batch when estimating running statistics
ESTIMATE_BATCHES = 4  # "a few training batches"


def running_norms(module: nn.Module) -> list[nn.Module]:
    return [m for m in module.modules() if isinstance(m, BATCH_NORMS) and m.running_mean is not None]


def never_updated(module: nn.Module) -> bool:
    """Whether some BatchNorm's running statistics were never set by data (a network at initialisation)."""
    return any(int(m.num_batches_tracked) == 0 for m in running_norms(module) if m.num_batches_tracked is not None)


@contextmanager
def batch_statistics(module: nn.Module):
    """Eval mode (no dropout) with BatchNorm normalising by the batch's own statistics; the running
    statistics are neither used nor changed, and the module's mode and buffers are put back."""
    was = module.training
    norms = running_norms(module)
    saved = [(m.running_mean, m.running_var) for m in norms]
    module.eval()
    try:
        for m in norms:  # without running statistics an eval-mode BatchNorm uses the batch's
            m.running_mean, m.running_var = None, None
        yield module
    finally:
        for m, (mean, var) in zip(norms, saved):
            m.running_mean, m.running_var = mean, var
        module.train(was)


@contextmanager
def estimated_statistics(module: nn.Module, x: torch.Tensor, batch: int = ESTIMATE_BATCH,
                         batches: int = ESTIMATE_BATCHES):
    """Eval mode with running statistics estimated on up to ``batches`` batches of ``x`` first (their plain
    average, as torchvision's reference scripts do before evaluating a model with re-estimated BN); the
    module's own statistics, momentum and mode are put back afterwards. Yields how many samples were used."""
    was = module.training
    norms = running_norms(module)
    saved = [{k: getattr(m, k).clone() for k in ("running_mean", "running_var", "num_batches_tracked")}
             | {"momentum": m.momentum} for m in norms]
    used = x[:batch * batches]
    try:
        for m in norms:
            m.reset_running_stats()
            m.momentum = None  # a cumulative average over the batches, not an exponential one
        module.train()
        with torch.no_grad():
            for start in range(0, len(used), batch):
                module(used[start:start + batch])
        module.eval()
        yield len(used)
    finally:
        for m, s in zip(norms, saved):
            m.momentum = s.pop("momentum")
            for k, v in s.items():
                getattr(m, k).copy_(v)
        module.train(was)
