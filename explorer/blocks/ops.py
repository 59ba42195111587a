"""Small torch modules for graph operations torch has no module for (merges, slices, zero-pad), and the
one rule for when a compiled block may work in place, as hand-written blocks do (``out += identity``,
``nn.ReLU(inplace=True)``)."""
from __future__ import annotations

from collections import Counter

import torch
from torch import nn
from torch.nn import functional as F


class Add(nn.Module):
    """The sum of the inputs. With ``inplace`` (set by ``inplace_where_safe`` only) the sum is written into
    the first input, as torchvision's ``out += identity``; an input of another dtype falls back to a new
    tensor so that type promotion (mixed precision) stays what ``a + b`` gives."""

    inplace = False

    def forward(self, *xs):
        out = xs[0]
        if self.inplace and all(x.dtype == out.dtype for x in xs[1:]):
            for x in xs[1:]:
                out += x
            return out
        for x in xs[1:]:
            out = out + x
        return out

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


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
    """ResNet option A: subsample, then add zero channels, appended (or split before and after); no parameters."""

    def __init__(self, extra_channels: int, stride: int, both_sides: bool = False):
        super().__init__()
        self.extra, self.stride = extra_channels, stride
        self.before = extra_channels // 2 if both_sides else 0

    def forward(self, x):
        if self.stride > 1:
            x = x[:, :, ::self.stride, ::self.stride]
        return F.pad(x, (0, 0, 0, 0, self.before, self.extra - self.before)) if self.extra else x


class Scale(nn.Module):
    def __init__(self, init: float):
        super().__init__()
        self.weight = nn.Parameter(torch.tensor(float(init)))

    def forward(self, x):
        return x * self.weight


class ScalarBias(nn.Module):
    """Adds one learnable scalar, 0 at first (Fixup's biases before each conv, activation and add)."""

    def __init__(self):
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(()))

    def forward(self, x):
        return x + self.bias


# Modules whose backward needs only their inputs, never their output, and whose output is a fresh
# tensor (not a view of an input): an in-place op may overwrite what they return.
_OUTPUT_NOT_SAVED = (nn.Conv2d, nn.Linear, nn.modules.batchnorm._BatchNorm, Add)


def inplace_where_safe(modules: list[nn.Module], inputs: list[tuple[int, ...]], out_slot: int) -> None:
    """Let ReLUs and Adds of a composite block's compiled body work in place where that cannot change a
    result: the tensor they overwrite has no other reader, is not the block's input, and its producer does
    not keep it for backward.

    ``modules[k]`` computes slot ``k + 1`` from the slots ``inputs[k]``; slot 0 is the block's input and
    ``out_slot`` its output. Only for a block's body: a top-level node's output carries the statistics'
    and lesions' hooks, which must see the value before any later in-place op.
    """
    readers = Counter(s for srcs in inputs for s in srcs)
    readers[out_slot] += 1
    for m, srcs in zip(modules, inputs):
        if not srcs or not isinstance(m, (nn.ReLU, Add)):
            continue
        first = srcs[0]
        if first and readers[first] == 1 and srcs.count(first) == 1 \
                and isinstance(modules[first - 1], _OUTPUT_NOT_SAVED):
            m.inplace = True
