"""A stratified subset of a data set's training split (``train --train-samples N``): the small-data case
that fine-tuning is for, with every class in its share, drawn from the seed."""
from __future__ import annotations

import dataclasses

import torch

from .dataset import Dataset


def stratified_subset(dataset: Dataset, n: int, seed: int = 0) -> Dataset:
    """``n`` training samples, each class in proportion to its share (largest remainder, so the counts add
    up to ``n``); the validation split is unchanged. All of them when ``n`` is not smaller."""
    y = dataset.y_train
    total = int(y.shape[0])
    if n >= total:
        return dataset
    counts = torch.bincount(y, minlength=dataset.num_classes).tolist()
    exact = [c * n / total for c in counts]
    quota = [int(e) for e in exact]
    by_remainder = sorted(range(len(counts)), key=lambda k: (quota[k] - exact[k], k))
    for k in by_remainder[:n - sum(quota)]:
        quota[k] += 1
    gen = torch.Generator().manual_seed(seed)
    picked = []
    for k, q in enumerate(quota):
        members = torch.nonzero(y == k).flatten()
        picked.append(members[torch.randperm(members.numel(), generator=gen)[:q]])
    idx = torch.cat(picked).sort().values  # the original order: the run shuffles each epoch anyway
    return dataclasses.replace(dataset, x_train=dataset.x_train[idx], y_train=y[idx])
