"""Gradient magnitude by depth: the picture of why plain nets stall and residual nets train.

For one batch, the norm of the loss gradient at every unit's output (the signal flowing back into
that block) and of its parameters' gradients, in network order. In a deep plain net the first units
get gradients orders of magnitude smaller than the last; shortcuts keep them level.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from explorer.compile import compile_graph, layer_units


@dataclass
class DepthProfile:
    keys: list[str]               # unit keys in network order ("stem_conv", "stage2[3]", ...)
    node_ids: list[str]
    output_grad: np.ndarray       # ||dL/d(unit output)|| per unit
    param_grad: np.ndarray        # ||dL/d(unit parameters)|| per unit
    loss: float

    def ratio_first_last(self) -> float:
        """Gradient norm at the first unit over the last: far above 1 = explodes towards the input, far
        below 1 = vanishes; near 1 = flows evenly."""
        g = self.output_grad[np.isfinite(self.output_grad) & (self.output_grad > 0)]
        return float(g[0] / g[-1]) if len(g) > 1 else float("nan")


def gradient_by_depth(module: nn.Module, x: torch.Tensor, y: torch.Tensor) -> DepthProfile:
    """One forward/backward on (x, y) in training mode; statistics gathered in one batched call."""
    units = layer_units(module)
    out_grads: list[torch.Tensor | None] = [None] * len(units)

    def make_hook(i):
        def fwd(_m, _inp, out):
            if isinstance(out, torch.Tensor) and out.requires_grad:
                out.register_hook(lambda g: out_grads.__setitem__(i, torch.linalg.vector_norm(g.detach().float())))
        return fwd

    handles = [u.module.register_forward_hook(make_hook(i)) for i, u in enumerate(units)]
    was_training = module.training
    module.train()
    module.zero_grad(set_to_none=True)
    try:
        loss = nn.functional.cross_entropy(module(x), y)
        loss.backward()
    finally:
        for h in handles:
            h.remove()
        module.train(was_training)
    params = dict(module.named_parameters())
    zero = torch.zeros((), device=x.device)
    per_unit = []
    for u in units:
        grads = [params[n].grad for n in u.param_names if params[n].grad is not None]
        per_unit.append(torch.linalg.vector_norm(torch.stack(torch._foreach_norm(grads))) if grads else zero)
    stacked = torch.stack([torch.stack(per_unit), torch.stack([g if g is not None else zero for g in out_grads])])
    host = stacked.cpu().numpy().astype(np.float64)  # the one device→host copy
    return DepthProfile([u.key for u in units], [u.node_id for u in units], host[1], host[0], float(loss.detach()))


def profile_graph(graph, x: torch.Tensor, y: torch.Tensor, seed: int = 0) -> DepthProfile:
    torch.manual_seed(seed)
    return gradient_by_depth(compile_graph(graph).to(x.device), x, y)
