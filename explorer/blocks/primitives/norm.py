"""Normalisation over channels: BatchNorm (2-D for images, 1-D for vectors), and the open table of norm kinds.

Each kind is one ``NormKind`` entry in ``NORMS`` (as timm's ``create_norm_layer`` keeps them): the
``torch.nn`` classes it is for an image and for a vector, its fixed settings, and whether it keeps running
statistics. The block's ``kind`` choices are a live view of the table, so one ``register_norm`` makes a new
kind appear in the inspector, compile, export and import. The type stays ``batchnorm`` (its files and its
default kind, ``batch``, are what they always were).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from explorer.blocks.base import BlockType, Cost
from explorer.blocks.code import LayerCode, Snippet, call
from explorer.blocks.glyph import NONE, Poly
from explorer.blocks.recognise import Step, TorchRules, resolve
from explorer.blocks.registry import register
from explorer.blocks.table import Table
from explorer.graph.params import Bool, Float, Param, ParamSet
from explorer.graph.shapes import ShapeError

ZERO_INIT = Snippet("zero_init", '''
def zero_init(norm):
    """Start a BatchNorm's scale at 0, so the residual branch it ends starts as nothing."""
    nn.init.zeros_(norm.weight)
    return norm
''')


@dataclass(frozen=True)
class NormKind:
    """One normalisation with a learnable scale and shift per channel. ``image`` and ``vector``: the
    ``torch.nn`` classes for a C×H×W and a C input (``vector`` empty: images only). ``channels``: the
    constructor's keyword for the channel count (empty: its first argument). ``settings``: its other fixed
    arguments, which an imported layer must have too; ``divides``: a setting that must divide the channels
    (GroupNorm's ``num_groups``). ``tracks``: it keeps running statistics, so ``momentum`` applies."""

    name: str
    image: str
    vector: str = ""
    channels: str = ""
    settings: dict = field(default_factory=dict)
    divides: str = ""
    tracks: bool = True

    def torch_name(self, rank: int) -> str:
        """The class for an input of ``rank`` dimensions past the batch (3: an image)."""
        return self.image if rank == 3 else self.vector

    def arguments(self, p: dict, channels: int) -> tuple[tuple, dict]:
        """(positional, keyword) constructor arguments for a node's parameters."""
        kwargs = {**({self.channels: channels} if self.channels else {}), **self.settings, "eps": p["eps"]}
        if self.tracks:
            kwargs["momentum"] = p["momentum"]
        return (() if self.channels else (channels,)), kwargs


NORMS: Table[NormKind] = Table("normalisation")
register_norm = NORMS.add
unregister_norm = NORMS.remove
register_norm(NormKind("batch", "BatchNorm2d", "BatchNorm1d"))

_DEFAULTS = {"eps": 1e-5, "momentum": 0.1}  # torch's, left out of exported code


@register
class BatchNorm(BlockType):
    name = "batchnorm"
    color = "#2a9d8f"
    glyph = (Poly(tuple((x, 0.82 - 0.6 * math.exp(-((x - 0.5) / 0.16) ** 2))
                        for x in (0.08 + 0.84 * i / 40 for i in range(41))), closed=False, fill=NONE),)  # a bell
    keeps_features = True
    title = "BatchNorm"
    help = "Normalises each channel over the batch, then scales and shifts it (2 parameters per channel)."
    params = ParamSet((
        Float("momentum", 0.1, 0.0, 1.0, "how fast the running statistics follow the batches"),
        Float("eps", 1e-5, 1e-12, 1.0, "added to the variance for numerical safety"),
        Bool("zero_init", False, "start the scale at 0, so a residual branch starts as identity"),
        Param("kind", "choice", "batch", choices=NORMS.names,
              help="which normalisation: batch = BatchNorm; others come from the norm table"),
    ))

    def infer(self, p, in_shapes):
        kind, c = NORMS.get(p["kind"]), in_shapes[0][0]
        if not kind.torch_name(len(in_shapes[0])):
            raise ShapeError(f"{kind.name} normalisation needs an image (C×H×W), not a vector of {c}",
                             "choose kind batch, or place it before the flatten")
        groups = kind.settings.get(kind.divides, 1) if kind.divides else 1
        if c % groups:
            raise ShapeError(f"{kind.name} normalisation splits channels into {groups}, which does not divide {c}",
                             f"use a multiple of {groups} channels")
        return tuple(in_shapes[0])

    def cost(self, p, in_shapes, out_shape):
        return Cost(2 * out_shape[0], 0, 0)

    def build(self, p, in_shapes):
        from torch import nn
        kind = NORMS.get(p["kind"])
        args, kwargs = kind.arguments(p, in_shapes[0][0])
        norm = resolve(f"torch.nn.{kind.torch_name(len(in_shapes[0]))}")(*args, **kwargs)
        if p["zero_init"]:
            nn.init.zeros_(norm.weight)
        return norm

    def torch_rules(self):
        rules = TorchRules()
        for kind in NORMS:
            for image, torch_name in ((True, kind.image), (False, kind.vector)):
                if torch_name:
                    rules.modules[resolve(f"torch.nn.{torch_name}")] = _module_rule(kind, image)
        return rules

    def code(self, p, in_shapes):
        kind = NORMS.get(p["kind"])
        args, kwargs = kind.arguments(p, in_shapes[0][0])
        init = call(f"nn.{kind.torch_name(len(in_shapes[0]))}", *args, **kwargs, defaults=_DEFAULTS)
        return LayerCode(f"zero_init({init})", needs=(ZERO_INIT,)) if p["zero_init"] else LayerCode(init)


def _module_rule(kind: NormKind, image: bool):
    """An imported layer of ``kind`` (its class for images, or for vectors) with a scale and shift, the kind's
    settings and, when it tracks them, running statistics."""

    def rule(m, n, ctx) -> list[Step] | None:
        if not getattr(m, "affine", False):
            return None
        if any(getattr(m, key, None) != value for key, value in kind.settings.items()):
            return None
        if kind.tracks and not (m.track_running_stats and m.momentum is not None):
            return None
        if image != (len(ctx.shape(n.args[0])) == 4):  # our block picks the class from the input's rank
            return None
        momentum = float(m.momentum) if kind.tracks else _DEFAULTS["momentum"]
        return [Step(BatchNorm.name, dict(momentum=momentum, eps=float(m.eps), kind=kind.name), takes_weights=True)]
    return rule
