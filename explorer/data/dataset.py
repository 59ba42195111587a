"""The :class:`Dataset` container and the normalisation every loader shares.

Loaders produce float images scaled to [0, 1]; :func:`build_dataset` turns them
into normalised tensors so that all data sets look alike to the trainer.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import torch

from .errors import DatasetError

# Statistics are accumulated in float64 over slices of this many images so a
# 50k-image set never needs a second full-size (double precision) copy.
_STATS_CHUNK = 4096


@dataclass
class Dataset:
    """Normalised image tensors (N×C×H×W float32) with int64 labels."""

    name: str
    x_train: torch.Tensor = field(repr=False)
    y_train: torch.Tensor = field(repr=False)
    x_val: torch.Tensor = field(repr=False)
    y_val: torch.Tensor = field(repr=False)
    classes: list[str]
    mean: tuple[float, ...]
    std: tuple[float, ...]

    @property
    def input_shape(self) -> tuple[int, int, int]:
        c, h, w = self.x_train.shape[1:]
        return (int(c), int(h), int(w))

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    def to(self, device: torch.device | str) -> "Dataset":
        return dataclasses.replace(
            self,
            x_train=self.x_train.to(device),
            y_train=self.y_train.to(device),
            x_val=self.x_val.to(device),
            y_val=self.y_val.to(device),
        )

    def denormalize(self, x: torch.Tensor) -> torch.Tensor:
        """Map normalised images back to [0, 1] (for display)."""
        mean = torch.tensor(self.mean, dtype=x.dtype, device=x.device).view(-1, 1, 1)
        std = torch.tensor(self.std, dtype=x.dtype, device=x.device).view(-1, 1, 1)
        return (x * std + mean).clamp(0.0, 1.0)

    def __str__(self) -> str:
        c, h, w = self.input_shape
        return (f"{self.name}: {len(self.y_train)} train / {len(self.y_val)} val, "
                f"{c}×{h}×{w}, {self.num_classes} classes")


def channel_stats(x: torch.Tensor) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Per-channel mean and (population) std of an N×C×H×W tensor."""
    c = x.shape[1]
    total = torch.zeros(c, dtype=torch.float64)
    total_sq = torch.zeros(c, dtype=torch.float64)
    for start in range(0, x.shape[0], _STATS_CHUNK):
        part = x[start:start + _STATS_CHUNK].to(torch.float64)
        total += part.sum(dim=(0, 2, 3)).cpu()
        total_sq += part.square().sum(dim=(0, 2, 3)).cpu()
    count = x.shape[0] * x.shape[2] * x.shape[3]
    mean = total / count
    var = (total_sq / count - mean.square()).clamp_min(0.0)
    std = var.sqrt()
    # A constant channel (e.g. a blank data set) would otherwise divide by 0.
    std = torch.where(std < 1e-6, torch.ones_like(std), std)
    return tuple(float(v) for v in mean), tuple(float(v) for v in std)


def build_dataset(name: str, x_train: torch.Tensor, y_train: torch.Tensor,
                  x_val: torch.Tensor, y_val: torch.Tensor,
                  classes: list[str]) -> Dataset:
    """Validate, normalise (with training statistics) and package a split.

    ``x_train``/``x_val`` are float images in [0, 1]; they are normalised in
    place to avoid holding two copies of a large data set.
    """
    for label, x, y in (("train", x_train, y_train), ("val", x_val, y_val)):
        if x.dim() != 4:
            raise DatasetError(f"{name}: {label} images must be N×C×H×W, got shape {tuple(x.shape)}")
        if y.dim() != 1 or y.shape[0] != x.shape[0]:
            raise DatasetError(f"{name}: {label} has {x.shape[0]} images but {tuple(y.shape)} labels")
        if y.numel() and (int(y.min()) < 0 or int(y.max()) >= len(classes)):
            raise DatasetError(f"{name}: {label} labels outside 0..{len(classes) - 1}")
    if x_train.shape[0] == 0:
        raise DatasetError(f"{name}: the training split is empty")
    if x_train.shape[1:] != x_val.shape[1:]:
        raise DatasetError(f"{name}: train images are {tuple(x_train.shape[1:])} "
                           f"but validation images are {tuple(x_val.shape[1:])}")
    x_train = x_train.to(torch.float32)
    x_val = x_val.to(torch.float32)
    mean, std = channel_stats(x_train)
    m = torch.tensor(mean, dtype=torch.float32).view(1, -1, 1, 1)
    s = torch.tensor(std, dtype=torch.float32).view(1, -1, 1, 1)
    for x in (x_train, x_val):
        x.sub_(m).div_(s)
    return Dataset(
        name=name,
        x_train=x_train.contiguous(),
        y_train=y_train.to(torch.int64),
        x_val=x_val.contiguous(),
        y_val=y_val.to(torch.int64),
        classes=list(classes),
        mean=mean,
        std=std,
    )
