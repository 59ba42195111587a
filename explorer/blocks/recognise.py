"""How a composite block type is recognised in imported PyTorch code (``python main.py import``).

The importer (``explorer.importer.collapse``) finds the place a residual block may be, the cheap way: an Add
of a branch and a shortcut, then a ReLU. It describes what it found as a ``ResidualSite`` and asks every
registered block type for parameters that could have produced it (``CompositeBlock.recognise``). A guess
costs nothing: the importer accepts it only when the block's own expansion for those parameters matches the
traced nodes exactly. So a block type says how it is recognised in its own module, next to its expansion,
and the importer names no block type. No torch here.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ResidualSite:
    """An Add of a branch and a shortcut, followed by a ReLU, in a traced network.

    ``convs``: the parameters of the Conv2d nodes along the branch, from the block's input to the Add (as
    the ``conv2d`` block stores them: ``out_channels``, ``kernel_size``, ``stride``, ``groups``, ...).
    ``shortcut``: a setting of the ``shortcut`` parameter that may describe the skip path: "auto" (identity,
    or a projection where the shape changes), "projection" or "zero_pad".
    """

    convs: tuple[dict, ...]
    shortcut: str
