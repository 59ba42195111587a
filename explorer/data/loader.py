"""Mini-batches sliced straight from (on-device) tensors, without DataLoader.

The whole data set already sits in memory as one tensor, so worker processes
and collation would only add overhead.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch


def num_batches(n: int, batch_size: int) -> int:
    """How many batches :func:`batches` yields for ``n`` samples."""
    return -(-n // batch_size)


def batches(x: torch.Tensor, y: torch.Tensor, batch_size: int, shuffle: bool = False,
            generator: torch.Generator | None = None) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Yield ``(x_batch, y_batch)`` covering every sample once; the last batch may be short."""
    n = x.shape[0]
    if y.shape[0] != n:
        raise ValueError(f"x has {n} samples but y has {y.shape[0]}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    if not shuffle:
        # Plain slices are views: no copy at all for the sequential case.
        for start in range(0, n, batch_size):
            yield x[start:start + batch_size], y[start:start + batch_size]
        return
    device = generator.device if generator is not None else x.device
    order = torch.randperm(n, generator=generator, device=device)
    order_x = order.to(x.device)
    order_y = order_x if y.device == x.device else order.to(y.device)
    for start in range(0, n, batch_size):
        yield x[order_x[start:start + batch_size]], y[order_y[start:start + batch_size]]
