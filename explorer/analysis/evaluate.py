"""Loss and accuracy of a module over a fixed set, in batches, on the device.

Sums stay on the device and reach the host once at the end (one sync per evaluation, not per batch);
the control is consulted between batches, so a long evaluation can be cancelled.
"""
from __future__ import annotations

import torch
from torch import nn

from explorer.analysis.control import Control, quiet

BATCH = 512


@torch.no_grad()
def loss_and_correct(module: nn.Module, x: torch.Tensor, y: torch.Tensor, control: Control | None = None,
                     batch_size: int = BATCH) -> torch.Tensor:
    """A device tensor [summed cross-entropy, correct count]; ``module`` is used as it is (mode unchanged)."""
    control = control or quiet()
    sums = torch.zeros(2, device=x.device)
    for i in range(0, len(x), batch_size):
        control.check()
        logits = module(x[i:i + batch_size])
        target = y[i:i + batch_size]
        sums[0] += nn.functional.cross_entropy(logits.float(), target, reduction="sum")
        sums[1] += (logits.argmax(1) == target).sum()
    return sums


def evaluate(module: nn.Module, x: torch.Tensor, y: torch.Tensor, control: Control | None = None) -> tuple[float, float]:
    """(mean loss, accuracy) in eval mode; the module's mode is restored."""
    was = module.training
    module.eval()
    try:
        loss, correct = (loss_and_correct(module, x, y, control) / max(1, len(x))).tolist()  # one sync
    finally:
        module.train(was)
    return loss, correct


def accuracy(module: nn.Module, x: torch.Tensor, y: torch.Tensor, control: Control | None = None) -> float:
    return evaluate(module, x, y, control)[1]
