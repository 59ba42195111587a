"""Gate values of a trained network (highway networks, Srivastava et al. 2015): how open each gate is.

A gate is a sigmoid inside a block (highway's transform gate T; squeeze-excitation's channel weights are
one too): its mean output over a batch says how much of the transform passes (1) or how much of the
input is carried (0). Measured per layer unit, in eval mode, with forward hooks that are always removed.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from explorer.analysis.control import Control, quiet
from explorer.compile import layer_units


@dataclass(frozen=True)
class GateValues:
    key: str          # the unit ("stage2[1]")
    mean: float       # mean gate value over the batch, positions and channels
    low: float        # share of values under 0.1 (the block mostly carries its input)
    high: float       # share above 0.9 (mostly transforms)

    def to_json(self) -> dict:
        return {"unit": self.key, "mean": self.mean, "carry_share": self.low, "transform_share": self.high}


@torch.no_grad()
def gate_values(module: nn.Module, x: torch.Tensor, control: Control | None = None) -> list[GateValues]:
    """The gates of every unit that has a sigmoid, in network order (empty for a network without gates)."""
    control = control or quiet()
    control.check()
    found: dict[str, list[torch.Tensor]] = {}
    handles = []
    for u in layer_units(module):
        for m in u.module.modules():
            if isinstance(m, nn.Sigmoid):
                handles.append(m.register_forward_hook(
                    lambda _m, _i, out, k=u.key: found.setdefault(k, []).append(out.detach().flatten())))
    was = module.training
    module.eval()
    try:
        module(x)
    finally:
        for h in handles:
            h.remove()
        module.train(was)
    rows = []
    for key, outs in found.items():
        v = torch.cat(outs)
        stats = torch.stack([v.mean(), (v < 0.1).float().mean(), (v > 0.9).float().mean()]).tolist()  # one copy
        rows.append(GateValues(key, *stats))
    return rows
