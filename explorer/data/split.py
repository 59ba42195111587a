"""Seeded, per-class train/validation split for data sets without a test part."""

from __future__ import annotations

import torch

from .errors import DatasetError


def split_indices(labels: torch.Tensor, val_fraction: float,
                  seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Return sorted (train_idx, val_idx) with ~val_fraction of every class in val.

    Splitting per class keeps rare classes represented on both sides, which a
    plain random cut of a small set (like digits) does not guarantee.
    """
    if not 0.0 < val_fraction < 1.0:
        raise DatasetError(f"val_fraction must be between 0 and 1 (exclusive), got {val_fraction}")
    labels = labels.cpu()
    gen = torch.Generator().manual_seed(int(seed))
    perm = torch.randperm(labels.numel(), generator=gen)
    # Stable sort of a random permutation = each class's members in random order.
    grouped = perm[torch.argsort(labels[perm], stable=True)]
    counts = torch.bincount(labels).tolist() if labels.numel() else []
    train_parts, val_parts = [], []
    start = 0
    for count in counts:
        members = grouped[start:start + count]
        start += count
        n_val = int(round(count * val_fraction))
        if count >= 2:
            # Every class with two or more samples appears on both sides.
            n_val = min(max(n_val, 1), count - 1)
        else:
            n_val = 0
        val_parts.append(members[:n_val])
        train_parts.append(members[n_val:])
    empty = torch.empty(0, dtype=torch.int64)
    train = torch.sort(torch.cat(train_parts)).values if train_parts else empty
    val = torch.sort(torch.cat(val_parts)).values if val_parts else empty
    return train, val
