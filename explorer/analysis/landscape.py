"""Loss landscape (Li et al. 2018): loss along random, filter-normalised directions around the weights.

Each direction has, per filter (per output channel of a conv, per row of a linear layer), the norm of
the corresponding weights, so pictures of different networks are comparable; BatchNorm and bias
parameters stay fixed, as in the paper. The grid is odd, so its centre is α = β = 0: exactly the
weights given (a trained run's), whose loss the centre therefore equals. The network runs in eval mode
(running BatchNorm statistics): the landscape of the function that was deployed.

Points are set with batched ``torch._foreach`` calls and their losses stay on the device until the end
(one copy); the control is consulted between batches, and the weights are put back in every case.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from explorer.analysis.control import Control, quiet
from explorer.analysis.evaluate import loss_and_correct

GRID_MIN, GRID_MAX = 3, 101


class GridError(ValueError):
    """The grid cannot have the weights at its centre; the message says which grid would."""


def check_grid(n: int) -> int:
    if isinstance(n, bool) or not isinstance(n, int) or not GRID_MIN <= n <= GRID_MAX:
        raise GridError(f"the grid must be an odd whole number of points per axis from {GRID_MIN} to {GRID_MAX}, got {n}")
    if n % 2 == 0:
        raise GridError(f"the grid must be odd so that its centre is the run's weights (α = 0); try {n + 1}")
    return n


@dataclass
class Landscape:
    alphas: np.ndarray          # offsets along direction 1
    betas: np.ndarray | None    # offsets along direction 2 (None for a 1-D line)
    loss: np.ndarray            # (len(alphas),) or (len(alphas), len(betas))

    @property
    def centre_loss(self) -> float:
        c = len(self.alphas) // 2
        return float(self.loss[c] if self.betas is None else self.loss[c, c])

    def to_json(self) -> dict:
        return {"alphas": self.alphas.tolist(), "betas": None if self.betas is None else self.betas.tolist(),
                "grid": self.loss.tolist(), "centre_loss": self.centre_loss, "sharpness": sharpness(self)}


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
def loss_landscape(module: nn.Module, x: torch.Tensor, y: torch.Tensor, steps: int = 21, span: float = 1.0,
                   two_d: bool = False, seed: int = 0, on_point=None, control: Control | None = None) -> Landscape:
    """Loss on (x, y) at weights + a·d1 (+ b·d2) for a, b on an odd grid over [-span, span]; the weights are
    restored. ``on_point(done, total)`` and ``control`` report progress; ``control`` can also cancel."""
    check_grid(steps)
    control = control or quiet()
    was = module.training
    module.eval()
    g = torch.Generator().manual_seed(seed)
    d1 = filter_normalised_direction(module, g)
    d2 = filter_normalised_direction(module, g) if two_d else None
    params = [p for p in module.parameters()]
    original = [p.detach().clone() for p in params]
    alphas = np.linspace(-span, span, steps)
    alphas[steps // 2] = 0.0  # exactly the weights, whatever linspace rounds to
    betas = alphas.copy() if two_d else None
    points = [(a, b) for a in alphas for b in (betas if two_d else [0.0])]
    losses = []
    try:
        for i, (a, b) in enumerate(points):
            control.step("landscape points", i, len(points))
            torch._foreach_copy_(params, original)
            if a:
                torch._foreach_add_(params, d1, alpha=float(a))
            if b:
                torch._foreach_add_(params, d2, alpha=float(b))
            losses.append(loss_and_correct(module, x, y, control)[0])
            if on_point is not None:
                on_point(i + 1, len(points))
        control.step("landscape points", len(points), len(points))
    finally:
        torch._foreach_copy_(params, original)
        module.train(was)
    loss = (torch.stack(losses) / max(1, len(x))).cpu().numpy().astype(np.float64)  # the one copy
    return Landscape(alphas, betas, loss.reshape((steps, steps)) if two_d else loss)


def sharpness(land: Landscape) -> float:
    """Mean loss increase over the line/surface relative to the centre: a one-number summary."""
    return float(np.mean(land.loss) - land.centre_loss)


def landscape_verdict(net_label: str, net: Landscape, twin_label: str | None = None, twin: Landscape | None = None) -> str:
    head = f"{net_label}: loss {net.centre_loss:.4g} at the trained weights, mean rise {sharpness(net):.3g} over the grid"
    if twin is None:
        return head + "; no plain twin run to compare with"
    a, b = sharpness(net), sharpness(twin)
    word = "sharper" if b > a else "flatter"
    return (f"{head}; {twin_label}: {twin.centre_loss:.4g}, mean rise {b:.3g}: the plain twin's landscape is "
            f"{word} ({b / a:.3g}× the rise)" if a > 0 else f"{head}; {twin_label}: mean rise {b:.3g}")
