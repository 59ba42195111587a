"""Lesion study (Veit et al. 2016): delete one block at a time from a trained network and measure.

Residual networks behave like ensembles of many paths, so removing one block costs little; removing
a layer from a plain network breaks its only path. A block can be removed when its output has the
shape of its input (it is replaced by the identity); blocks that change shape are reported as skipped.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from explorer.compile import layer_units


@dataclass
class LesionResult:
    key: str
    node_id: str
    accuracy: float | None   # None when the unit could not be removed
    reason: str = ""


@torch.no_grad()
def accuracy(module: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int = 512) -> float:
    module.eval()
    correct = torch.zeros((), dtype=torch.long, device=x.device)
    for i in range(0, len(x), batch_size):
        correct += (module(x[i:i + batch_size]).argmax(1) == y[i:i + batch_size]).sum()
    return float(correct) / max(1, len(x))


@torch.no_grad()
def lesion_study(module: nn.Module, x: torch.Tensor, y: torch.Tensor, only_stages: bool = True) -> tuple[float, list[LesionResult]]:
    """Baseline accuracy and the accuracy with each removable unit replaced by the identity."""
    base = accuracy(module, x, y)
    units = layer_units(module)
    shapes = _io_shapes(module, x[:2], units)
    results = []
    for u in units:
        if only_stages and u.repeat_index < 0:
            continue
        shape_in, shape_out = shapes.get(u.key, (None, None))
        if shape_in is None or shape_in != shape_out:
            results.append(LesionResult(u.key, u.node_id, None, "changes the shape, so it cannot be skipped"))
            continue
        parent, name = _parent_of(module, u.module)
        original = getattr(parent, name) if not name.isdigit() else parent[int(name)]
        _set(parent, name, nn.Identity())
        try:
            results.append(LesionResult(u.key, u.node_id, accuracy(module, x, y)))
        finally:
            _set(parent, name, original)
    return base, results


def _io_shapes(module, x, units):
    shapes = {}
    hooks = [u.module.register_forward_hook(
        lambda m, i, o, k=u.key: shapes.__setitem__(k, (tuple(i[0].shape[1:]) if len(i) == 1 else None, tuple(o.shape[1:]))))
        for u in units]
    try:
        module.eval()
        module(x)
    finally:
        for h in hooks:
            h.remove()
    return shapes


def _parent_of(root: nn.Module, target: nn.Module):
    for parent in root.modules():
        for name, child in parent.named_children():
            if child is target:
                return parent, name
    raise LookupError("unit not found in module")


def _set(parent, name, value):
    if isinstance(parent, nn.Sequential) and name.isdigit():
        parent[int(name)] = value
    else:
        setattr(parent, name, value)
