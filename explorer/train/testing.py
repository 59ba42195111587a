"""Tiny networks and data sets that train in a fraction of a second: for tests (here and in the window's
tests) and for trying the engine interactively."""
from __future__ import annotations

import dataclasses

import torch

from explorer.blocks.builder import Builder


def tiny_graph(channels: int = 8, blocks: int = 2, classes: int = 4, input_shape=(1, 8, 8), block: str = "basic",
               dropout: float = 0.0, name: str = "tiny"):
    """stem conv-BN-ReLU → a stage of ``blocks`` residual (or plain) blocks → pool → [dropout] → linear."""
    b = Builder(name)
    x = b.input(list(input_shape))
    y = b.act(b.bn(b.conv(x, channels, node_id="stem_conv"), node_id="stem_bn"), node_id="stem_relu")
    y = b.add(block, y, node_id="stage1", channels=channels, repeat=blocks)
    y = b.add("global_avgpool", y, node_id="pool")
    y = b.add("flatten", y, node_id="flatten")
    if dropout:
        y = b.add("dropout", y, node_id="dropout", p=dropout)
    y = b.add("linear", y, node_id="classifier", out_features=classes)
    b.output(y)
    return b.finish().graph


def subset(dataset, n_train: int, n_val: int | None = None):
    """The first samples of a data set, as independent copies (a test may modify them)."""
    n_val = n_train // 4 if n_val is None else n_val
    return dataclasses.replace(dataset, x_train=dataset.x_train[:n_train].clone(),
                               y_train=dataset.y_train[:n_train].clone(), x_val=dataset.x_val[:n_val].clone(),
                               y_val=dataset.y_val[:n_val].clone())


def random_dataset(n_train: int = 128, n_val: int = 32, shape=(1, 8, 8), classes: int = 4, seed: int = 0):
    """Noisy copies of one random pattern per class: learnable in a few epochs by a tiny network."""
    from explorer.data import Dataset

    g = torch.Generator().manual_seed(seed)
    n = n_train + n_val
    y = torch.randint(0, classes, (n,), generator=g)
    patterns = torch.randn(classes, *shape, generator=g).sign()
    x = patterns[y] + 0.5 * torch.randn(n, *shape, generator=g)
    return Dataset("random", x[:n_train].contiguous(), y[:n_train], x[n_train:].contiguous(), y[n_train:],
                   [str(i) for i in range(classes)], (0.0,) * shape[0], (1.0,) * shape[0])
