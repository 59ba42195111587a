"""A procedural data set of simple shapes, generated deterministically from a seed.

Every image is rendered at once per class from signed-distance functions on a
shared pixel grid, so 10k 32×32 images take well under a second.
"""

from __future__ import annotations

import math

import torch

from .dataset import Dataset, build_dataset
from .options import int_option
from .split import split_indices

SHAPE_CLASSES = [
    "circle", "square", "triangle", "cross",
    "ring", "diamond", "horizontal bar", "vertical bar",
]

_BAR = 0.28  # bar thickness relative to the shape radius (also the cross arms)


def _box(dx: torch.Tensor, dy: torch.Tensor, half_w: torch.Tensor, half_h: torch.Tensor) -> torch.Tensor:
    # Exact inside, a lower bound outside: good enough for 1-pixel anti-aliasing.
    return torch.maximum(dx.abs() - half_w, dy.abs() - half_h)


def _sdf(kind: int, dx: torch.Tensor, dy: torch.Tensor, r: torch.Tensor) -> torch.Tensor:
    """Signed distance (pixels, negative inside) of shape ``kind`` with radius r."""
    name = SHAPE_CLASSES[kind]
    if name == "circle":
        return torch.sqrt(dx * dx + dy * dy) - 0.9 * r
    if name == "square":
        return _box(dx, dy, 0.75 * r, 0.75 * r)
    if name == "triangle":
        # Equilateral, apex up (image y grows downwards): three half-planes at
        # inradius R/2 of a slightly enlarged circumradius so it looks as big.
        big = 1.1 * r
        s, c = 0.5, math.sqrt(3.0) / 2.0
        edge = torch.maximum(torch.maximum(dy, -c * dx - s * dy), c * dx - s * dy)
        return edge - 0.5 * big
    if name == "cross":
        return torch.minimum(_box(dx, dy, r, _BAR * r), _box(dx, dy, _BAR * r, r))
    if name == "ring":
        return (torch.sqrt(dx * dx + dy * dy) - 0.72 * r).abs() - 0.22 * r
    if name == "diamond":
        return (dx.abs() + dy.abs() - r) / math.sqrt(2.0)
    if name == "horizontal bar":
        return _box(dx, dy, r, _BAR * r)
    if name == "vertical bar":
        return _box(dx, dy, _BAR * r, r)
    raise AssertionError(kind)


def _colours(n: int, channels: int, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Background and foreground colours with guaranteed brightness contrast."""
    bg_level = torch.rand(n, 1, generator=gen)
    # A gap of 0.35..0.65 on the circle of brightness keeps |fg - bg| >= 0.35
    # whichever way it wraps, so no shape is invisible against its background.
    fg_level = torch.remainder(bg_level + 0.35 + 0.3 * torch.rand(n, 1, generator=gen), 1.0)
    bg = bg_level + 0.4 * (torch.rand(n, channels, generator=gen) - 0.5)
    fg = fg_level + 0.4 * (torch.rand(n, channels, generator=gen) - 0.5)
    return bg.clamp(0.0, 1.0), fg.clamp(0.0, 1.0)


def generate_shapes(size: int, image_size: int, channels: int,
                    seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Render ``size`` images (N×C×S×S in [0, 1]) and their int64 labels."""
    n, s = size, image_size
    gen = torch.Generator().manual_seed(int(seed))
    k = len(SHAPE_CLASSES)
    labels = (torch.arange(n) % k)[torch.randperm(n, generator=gen)]
    radius = s * (0.2 + 0.2 * torch.rand(n, generator=gen))
    # Centre anywhere the shape still fits (with half a pixel to spare).
    room = (s - 2 * radius - 1).clamp_min(0)
    cx = radius + 0.5 + room * torch.rand(n, generator=gen)
    cy = radius + 0.5 + room * torch.rand(n, generator=gen)
    bg, fg = _colours(n, channels, gen)
    noise_level = 0.1 * torch.rand(n, generator=gen)
    # One noise plane per image rather than per channel: a third of the random
    # numbers (the slowest step here) and just as good at blurring the cues.
    noise = torch.randn(n, 1, s, s, generator=gen)

    coords = torch.arange(s, dtype=torch.float32) + 0.5
    mask = torch.empty(n, s, s)
    for kind in range(k):
        idx = (labels == kind).nonzero(as_tuple=True)[0]
        if idx.numel() == 0:
            continue
        dx = coords.view(1, 1, s) - cx[idx].view(-1, 1, 1)
        dy = coords.view(1, s, 1) - cy[idx].view(-1, 1, 1)
        sdf = _sdf(kind, dx, dy, radius[idx].view(-1, 1, 1))
        # Coverage ramps over one pixel across the edge: cheap anti-aliasing.
        mask[idx] = (0.5 - sdf).clamp(0.0, 1.0)

    mask = torch.addcmul(mask.unsqueeze(1), noise, noise_level.view(n, 1, 1, 1))
    # bg + (fg - bg) * coverage: the noise perturbs the coverage, so its size
    # follows each image's contrast and the N×C×S×S result is written once.
    images = torch.addcmul(bg.view(n, channels, 1, 1), (fg - bg).view(n, channels, 1, 1), mask)
    return images.clamp_(0.0, 1.0), labels


def load_shapes_dataset(seed: int = 0, val_fraction: float = 0.2, size: int = 4000,
                        image_size: int = 32, channels: int = 3) -> Dataset:
    # At least two samples per class so each class lands in train and val.
    size = int_option("shapes", "size", size, 2 * len(SHAPE_CLASSES), 1_000_000)
    image_size = int_option("shapes", "image_size", image_size, 8, 512)
    channels = int_option("shapes", "channels", channels, 1, 4)
    x, y = generate_shapes(size, image_size, channels, seed)
    train, val = split_indices(y, val_fraction, seed)
    return build_dataset("shapes", x[train], y[train], x[val], y[val], list(SHAPE_CLASSES))
