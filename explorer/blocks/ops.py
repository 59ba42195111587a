"""Small torch modules for graph operations torch has no module for (merges, slices, zero-pad)."""
from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


class Add(nn.Module):
    def forward(self, *xs):
        out = xs[0]
        for x in xs[1:]:
            out = out + x
        return out


class Subtract(nn.Module):
    def forward(self, a, b):
        return a - b


class Multiply(nn.Module):
    def forward(self, *xs):
        out = xs[0]
        for x in xs[1:]:
            out = out * x
        return out


class Concat(nn.Module):
    def forward(self, *xs):
        return torch.cat(xs, dim=1)


class ChannelSlice(nn.Module):
    def __init__(self, start: int, stop: int):
        super().__init__()
        self.start, self.stop = start, stop

    def forward(self, x):
        return x[:, self.start:self.stop]


class ZeroPadShortcut(nn.Module):
    """ResNet option A: subsample, then append zero channels (no parameters)."""

    def __init__(self, extra_channels: int, stride: int):
        super().__init__()
        self.extra, self.stride = extra_channels, stride

    def forward(self, x):
        if self.stride > 1:
            x = x[:, :, ::self.stride, ::self.stride]
        return F.pad(x, (0, 0, 0, 0, 0, self.extra)) if self.extra else x


class Scale(nn.Module):
    def __init__(self, init: float):
        super().__init__()
        self.weight = nn.Parameter(torch.tensor(float(init)))

    def forward(self, x):
        return x * self.weight
