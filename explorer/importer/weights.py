"""Weights: from the traced module into the compiled graph, and from a state_dict on disk into a preset.

The first uses the assembler's ``sources`` map (compiled submodule path -> traced submodule path), so every
tensor goes by name. The second has no names in common to go by (torchvision's ``layer1.0.conv1.weight`` is
our ``nodes.stage1.0.nodes.conv1.weight``), but the presets are tensor-for-tensor the same networks as
torchvision's and timm's, in the same order, so the two lists of tensors are paired in order and every
shape must agree; the first pair that does not is named.
"""
from __future__ import annotations

import os

import torch
from torch import nn

from explorer.importer.errors import ImporterError
from explorer.train import state_file
_BOOKKEEPING = "num_batches_tracked"  # a counter some files leave out; never part of the comparison


def copy_weights(source: nn.Module, target: nn.Module, sources: dict[str, str]) -> int:
    """Load each traced submodule's state into its compiled counterpart; returns the tensors copied."""
    copied = 0
    for tgt, src in sources.items():
        state = source.get_submodule(src).state_dict()
        target.get_submodule(tgt).load_state_dict(state, strict=True)
        copied += len(state)
    return copied


def read_state_dict(path: str | os.PathLike, budget=None) -> dict[str, torch.Tensor]:
    """A state_dict saved with ``torch.save`` (see ``explorer.train.state_file``; ``budget``: what it may
    declare), errors as ImporterError."""
    try:
        return state_file.read_state_dict(path, budget)
    except state_file.StateFileError as e:
        raise ImporterError(str(e)) from None


def pair_by_structure(theirs: dict[str, torch.Tensor], ours: dict[str, torch.Tensor], hint=None) -> dict[str, torch.Tensor]:
    """``ours`` filled with ``theirs`` tensor by tensor, in order; raises ImporterError at the first pair of
    different shapes, or when one side has tensors left over. ``hint(our_name)`` may add advice."""
    mine = [k for k in ours if not k.endswith(_BOOKKEEPING)]
    other = [k for k in theirs if not k.endswith(_BOOKKEEPING)]
    for i, (a, b) in enumerate(zip(mine, other)):
        if not fits(ours[a].shape, theirs[b].shape):
            extra = hint(a) if hint else ""
            raise ImporterError(f"tensor {i + 1} does not fit: the file's '{b}' is {_shape(theirs[b])} but the "
                                f"preset's '{a}' is {_shape(ours[a])}{extra}")
    if len(mine) != len(other):
        more, fewer = ("file", "preset") if len(other) > len(mine) else ("preset", "file")
        first = (other if len(other) > len(mine) else mine)[min(len(mine), len(other))]
        raise ImporterError(f"the {more} has {max(len(mine), len(other))} tensors and the {fewer} "
                            f"{min(len(mine), len(other))}; the first without a partner is '{first}'")
    # No copy: the file's tensors become ours (same storage), so an import holds the weights about twice at its
    # peak (the preset's own start and the file's), not three times.
    out = dict(ours)
    for a, b in zip(mine, other):
        out[a] = theirs[b].detach().to(ours[a].dtype).reshape(ours[a].shape)
    counters = [k for k in ours if k.endswith(_BOOKKEEPING)]
    theirs_counters = [k for k in theirs if k.endswith(_BOOKKEEPING)]
    if len(counters) == len(theirs_counters):
        for a, b in zip(counters, theirs_counters):
            out[a] = theirs[b].detach().to(ours[a].dtype).reshape(ours[a].shape)
    return out


def fits(ours: torch.Size, theirs: torch.Size) -> bool:
    """Same shape, or a Linear's weight against a 1×1 conv's (timm's DPN classifier is a 1×1 conv on the pooled
    features: out × in × 1 × 1, the same numbers as our Linear's out × in)."""
    return tuple(ours) == tuple(theirs) or (len(ours) == 2 and tuple(theirs) == (*ours, 1, 1))


def _shape(t: torch.Tensor) -> str:
    return "×".join(map(str, t.shape)) if t.dim() else "a scalar"
