"""How a block type is recognised in imported PyTorch code (``python main.py import``).

A primitive declares ``torch_rules``: the torch modules, functions and tensor methods it computes, each
with a rule that reads the call's settings (``TorchRules``, ``Step``, and the small helpers below).

A composite: the importer (``explorer.importer.collapse``) finds the place a residual block may be, the
cheap way: an Add of a branch and a shortcut, with a ReLU after it (post-activation) or not
(pre-activation). It describes what it found as a ``ResidualSite``
and asks every registered block type for parameters that could have produced it
(``CompositeBlock.recognise``). A guess costs nothing: the importer accepts it only when the block's own
expansion for those parameters matches the traced nodes exactly. So a block type says how it is recognised in its own module, next to its expansion,
and the importer names no block type. No torch here: rules read traced nodes' plain attributes.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field


@dataclass(frozen=True)
class ResidualSite:
    """An Add of a branch and a shortcut in a traced network.

    ``convs``: the parameters of the Conv2d nodes along the branch, from the block's input to the Add (as
    the ``conv2d`` block stores them: ``out_channels``, ``kernel_size``, ``stride``, ``groups``, ...).
    ``shortcut``: a setting of the ``shortcut`` parameter that may describe the skip path: "auto" (identity,
    or a projection where the shape changes), "projection" or "zero_pad".
    ``after_add``: the block would end in the ReLU after the Add (post-activation), not at the Add itself.
    """

    convs: tuple[dict, ...]
    shortcut: str
    after_add: bool = True


# -- primitives: which traced torch operation is which block ----------------------------------------------
@dataclass(frozen=True)
class Step:
    """One node the importer makes for a traced operation: its block type and parameters."""

    type: str
    params: dict
    takes_weights: bool = False  # the block's module loads the traced submodule's state_dict


@dataclass(frozen=True)
class TorchRules:
    """What a primitive block type reads in traced PyTorch code (``BlockType.torch_rules``).

    ``modules``: ``nn.Module`` class -> ``rule(module, node, ctx)``; ``functions``: torch function ->
    ``rule(node, ctx)``; ``methods``: tensor method name -> ``rule(node, ctx)``. A rule answers a list of
    ``Step`` (usually one), or None when the call's settings are not what the block computes exactly; the
    importer then tries the next type's rule, and makes an opaque node when none fits. ``ctx.shape(value)``
    is a traced value's measured shape (batch first), None for a non-tensor.
    """

    modules: dict = field(default_factory=dict)
    functions: dict = field(default_factory=dict)
    methods: dict = field(default_factory=dict)


def resolve(dotted: str):
    """The object a dotted name stands for (``operator.add``, ``torch.nn.functional.relu``); an
    AttributeError that names it when this torch has no such thing."""
    module, _, name = dotted.rpartition(".")
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        raise AttributeError(f"{dotted} does not exist in this Python and torch") from None


def arg(n, i: int, name: str, default=None):
    """Argument ``name`` of a traced call, given at position ``i`` or by keyword."""
    if len(n.args) > i:
        return n.args[i]
    return n.kwargs.get(name, default)


def only(n, allowed: set[str], count: int) -> bool:
    """No arguments beyond the first ``count`` positional ones and the named ``allowed`` ones."""
    return len(n.args) <= count and set(n.kwargs) <= allowed


def square(v) -> int | None:
    """The side of a square size (``3`` or ``(3, 3)``), None for anything else."""
    v = tuple(v) if isinstance(v, (tuple, list)) else (v, v)
    return int(v[0]) if len(v) == 2 and v[0] == v[1] and isinstance(v[0], int) else None


def is_one(size) -> bool:
    return size == 1 or (isinstance(size, (tuple, list)) and tuple(size) == (1, 1))
