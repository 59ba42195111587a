"""Gradient magnitude by depth at initialisation: the picture of why plain nets stall and residual nets train.

For one batch, the norm of the loss gradient reaching every unit's output (the signal flowing back into
that block) and of its parameters' gradients, in network order. The numbers come from the engine's own
``LayerStats`` (the same hooks and batched norms the training plots use), copied to the host once.

Two regimes, both worth seeing: with BatchNorm in training mode a deep plain net's gradient *explodes*
toward the input (Yang et al. 2019); with normalisation bypassed it *vanishes*. A residual net stays far
more level with BatchNorm; without it, at the default (He) start, its gradient *explodes* toward the input
(each block adds its branch's variance: resnet110's first/last ratio is ~10^4), unless its branches start
small: zero-γ (Goyal et al. 2017), SkipInit (De & Smith 2020) or Fixup (Zhang et al. 2019), the ``init``
option of the residual blocks (``explorer.network.init_options``). A verdict therefore always compares the
network with its plain twin.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from explorer.compile import compile_graph, layer_units
from explorer.train.device import synchronize
from explorer.train.stats import LayerStats

# Replaced by the identity in the "without normalisation" variant.
NORM_LAYERS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d, nn.GroupNorm, nn.LayerNorm,
               nn.InstanceNorm1d, nn.InstanceNorm2d, nn.InstanceNorm3d)
WEIGHT_LAYERS = (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.Linear)


@dataclass
class DepthProfile:
    keys: list[str]               # unit keys in network order ("stem_conv", "stage2[3]", ...)
    node_ids: list[str]
    depth: list[int]              # weight layers (conv + linear) from the input up to and including the unit
    output_grad: np.ndarray       # ||dL/d(unit output)|| per unit
    param_grad: np.ndarray        # ||dL/d(unit parameters)|| per unit
    loss: float

    def measured(self) -> np.ndarray:
        """The gradient norms that were measured: finite and above 0, in network order."""
        return self.output_grad[np.isfinite(self.output_grad) & (self.output_grad > 0)]

    def ratio_first_last(self) -> float:
        """Gradient norm at the first unit over the last (the classifier's): how much it grew (> 1) or shrank
        (< 1) on its way back to the input."""
        g = self.measured()
        return float(g[0] / g[-1]) if len(g) > 1 else float("nan")

    def spread_orders(self) -> float:
        """log10(largest / smallest) gradient norm over the units: orders of magnitude they span."""
        g = self.measured()
        return float(np.log10(g.max() / g.min())) if len(g) > 1 else float("nan")

    def rows(self) -> list[dict]:
        """The command line's JSON rows, in network order."""
        return [{"node": n, "unit": k, "depth": d, "grad_norm": float(o), "weight_grad_norm": float(p)}
                for k, n, d, o, p in zip(self.keys, self.node_ids, self.depth, self.output_grad, self.param_grad)]


class ChannelAffine(nn.Module):
    """A BatchNorm's scale and shift without its normalisation: what a zero-γ BN (Goyal et al. 2017) leaves
    when normalisation is bypassed, so the branch it ends still starts at 0."""

    def __init__(self, norm: nn.Module):
        super().__init__()
        self.weight = nn.Parameter(norm.weight.detach().clone())
        self.bias = nn.Parameter(norm.bias.detach().clone())

    def forward(self, x):
        shape = (1, -1) + (1,) * (x.dim() - 2)
        return x * self.weight.view(shape) + self.bias.view(shape)


def bypass_normalisation(module: nn.Module) -> int:
    """Replace every normalisation layer by the identity, in place (a BN whose γ starts at 0 by its affine
    part, which keeps its branch at 0); returns how many were replaced."""
    replaced = 0
    for parent in list(module.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, NORM_LAYERS):
                zero_gamma = getattr(child, "weight", None) is not None and not bool(child.weight.detach().any())
                # works for ModuleDict, Sequential and plain modules
                parent._modules[name] = ChannelAffine(child) if zero_gamma else nn.Identity()
                replaced += 1
    return replaced


def unit_depths(units) -> list[int]:
    """The depth axis of every by-depth view: weight layers (conv + linear) from the input up to and
    including each unit."""
    depth, total = [], 0
    for u in units:
        total += sum(isinstance(m, WEIGHT_LAYERS) for m in u.module.modules())
        depth.append(total)
    return depth


def gradient_by_depth(module: nn.Module, x: torch.Tensor, y: torch.Tensor) -> DepthProfile:
    """One forward/backward on (x, y) in training mode, measured by the engine's LayerStats."""
    units = layer_units(module)
    stats = LayerStats(module, units, x.device)
    was_training = module.training
    module.train()
    module.zero_grad(set_to_none=True)
    stats.arm()
    try:
        loss = nn.functional.cross_entropy(module(x), y)
        loss.backward()
    finally:
        stats.disarm()
        module.train(was_training)
    stats.before_step()
    host = stats.after_step()  # no optimiser step in between: only the gradient rows matter here
    loss_host = loss.detach().to("cpu", non_blocking=True)
    synchronize(x.device)  # the one wait for the device, before reading the copies
    rows = stats.arrays(host)
    return DepthProfile([u.key for u in units], [u.node_id for u in units], unit_depths(units), rows["output_grad_norm"],
                        rows["grad_norm"], float(loss_host))


def profile_graph(graph, x: torch.Tensor, y: torch.Tensor, seed: int = 0, normalisation: bool = True) -> DepthProfile:
    """The profile of ``graph`` freshly initialised with ``seed``; ``normalisation=False`` bypasses its
    normalisation layers first."""
    torch.manual_seed(seed)
    module = compile_graph(graph)
    if not normalisation:
        bypass_normalisation(module)
    return gradient_by_depth(module.to(x.device), x, y)


def _times(r: float) -> str:
    return f"{r:.3g}×" if math.isfinite(r) else "undefined"


def own_twin_verdict(name: str) -> str:
    """For a network without shortcuts: its plain twin is itself, so there is nothing to compare."""
    return (f"{name} has no shortcuts, so it is its own plain twin and there is nothing to compare: measure a "
            "residual network (resnet20, say) to see what its shortcuts change")


def compare_verdict(name: str, net: DepthProfile, twin_name: str, twin: DepthProfile, normalisation: bool = True) -> str:
    """One line saying what the numbers show, the network against its twin (neither judged alone)."""
    regime = "with normalisation" if normalisation else "without normalisation"
    dead = [n for n, p in ((name, net), (twin_name, twin)) if len(p.measured()) < 2]
    if dead:
        return (f"{regime}: no gradient reaches the layers of {' or '.join(dead)} below the last at "
                "initialisation: a classifier that starts at 0 (as Fixup's does) passes none back before its first "
                "step; measure the same blocks with the classifier at its default start (e.g. "
                "`analyze gradflow resnet110 --no-bn --init fixup`)")
    rn, rt = net.ratio_first_last(), twin.ratio_first_last()
    sn, st = net.spread_orders(), twin.spread_orders()
    head = (f"{regime}: the gradient at {twin_name}'s first layer is {_times(rt)} that at its last (from its "
            f"largest to its smallest layer the norms span {st:.1f} orders of magnitude); {name}'s is "
            f"{_times(rn)} ({sn:.1f} orders)")
    if not (math.isfinite(rn) and math.isfinite(rt)) or rn <= 0 or rt <= 0:
        return head
    gap = math.log10(rt) - math.log10(rn)
    if abs(gap) < 0.5 and abs(st - sn) < 0.5:
        return f"{head}: the two flow alike"
    if gap > 0:
        trend = f"grows toward the input {10 ** gap:.3g}× more than {name}'s (it explodes)" \
            if rt > 1 else f"shrinks toward the input less than {name}'s"
    else:
        trend = f"shrinks toward the input {10 ** -gap:.3g}× more than {name}'s (it vanishes)" \
            if rt < 1 else f"grows toward the input less than {name}'s"
    return f"{head}: {twin_name}'s gradient {trend}"
