"""Loss landscape (Li et al. 2018): loss along random, filter-normalised directions around the weights.

Each direction has, per filter (per output channel of a conv, per row of a linear layer), the norm of
the corresponding weights, so the picture is comparable between networks; BatchNorm and bias
parameters are left fixed, as in the paper.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn


@dataclass
class Landscape:
    alphas: np.ndarray          # offsets along direction 1
    betas: np.ndarray | None    # offsets along direction 2 (None for a 1-D line)
    loss: np.ndarray            # (len(alphas),) or (len(alphas), len(betas))


def filter_normalised_direction(module: nn.Module, generator: torch.Generator) -> list[torch.Tensor]:
    direction = []
    for p in module.parameters():
        if p.dim() <= 1:
            direction.append(torch.zeros_like(p))
            continue
        d = torch.randn(p.shape, generator=generator, dtype=p.dtype).to(p.device)
        flat_d, flat_p = d.view(len(d), -1), p.detach().view(len(p), -1)
        d = (flat_d * (flat_p.norm(dim=1, keepdim=True) / (flat_d.norm(dim=1, keepdim=True) + 1e-10))).view_as(p)
        direction.append(d)
    return direction


@torch.no_grad()
def _loss(module, x, y) -> float:
    return float(nn.functional.cross_entropy(module(x), y))


@torch.no_grad()
def loss_landscape(module: nn.Module, x: torch.Tensor, y: torch.Tensor, steps: int = 21, span: float = 1.0,
                   two_d: bool = False, seed: int = 0, on_point=None) -> Landscape:
    """Loss on (x, y) at weights + a·d1 (+ b·d2) for a, b in [-span, span]; the weights are restored.
    ``on_point(done, total)``, if given, is called after each evaluated point (for progress)."""
    module.eval()  # running BN statistics: the landscape of the deployed function
    g = torch.Generator().manual_seed(seed)
    d1 = filter_normalised_direction(module, g)
    d2 = filter_normalised_direction(module, g) if two_d else None
    params = list(module.parameters())
    original = [p.detach().clone() for p in params]
    alphas = np.linspace(-span, span, steps)
    betas = alphas.copy() if two_d else None
    loss = np.zeros((steps, steps) if two_d else steps)
    try:
        for i, a in enumerate(alphas):
            for j, b in enumerate(betas if two_d else [0.0]):
                for p, p0, u, v in zip(params, original, d1, d2 or d1):
                    p.copy_(p0 + a * u + (b * v if two_d else 0))
                value = _loss(module, x, y)
                if on_point is not None:
                    on_point(i * (steps if two_d else 1) + j + 1, loss.size)
                if two_d:
                    loss[i, j] = value
                else:
                    loss[i] = value
    finally:
        for p, p0 in zip(params, original):
            p.copy_(p0)
    return Landscape(alphas, betas, loss)


def sharpness(land: Landscape) -> float:
    """Mean loss increase over the line/surface relative to the centre: a one-number summary."""
    centre = land.loss[len(land.alphas) // 2] if land.betas is None else land.loss[len(land.alphas) // 2, len(land.betas) // 2]
    return float(np.mean(land.loss) - centre)
