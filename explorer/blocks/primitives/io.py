"""Input and Output: where tensors enter and leave the network."""
from __future__ import annotations

from explorer.blocks.base import BlockType
from explorer.blocks.glyph import Line, Poly
from explorer.blocks.registry import register
from explorer.graph.params import ParamSet, Shape


def _arrow(x_bar: float) -> tuple:
    """An arrow pointing right, with a bar at ``x_bar`` (where the network begins or ends)."""
    return (Poly(((0.15, 0.35), (0.55, 0.35), (0.55, 0.18), (0.88, 0.5), (0.55, 0.82), (0.55, 0.65), (0.15, 0.65))),
            Line(x_bar, 0.12, x_bar, 0.88))


@register
class Input(BlockType):
    name = "input"
    role = "input"
    color = "#546e7a"
    glyph = _arrow(0.08)
    title = "Input"
    help = "Where a batch of images enters. Shape is channels, height, width (without the batch)."
    params = ParamSet((Shape("shape", [3, 32, 32], 1, 4096, help="C,H,W of one sample, e.g. 3,32,32 for CIFAR"),))
    min_inputs = max_inputs = 0
    face = ("shape",)

    def infer(self, p, in_shapes):
        return tuple(p["shape"])


@register
class Output(BlockType):
    name = "output"
    role = "output"
    color = "#546e7a"
    glyph = _arrow(0.92)
    title = "Output"
    help = "The network's result: class scores (logits) for each sample."
    has_output = False

    def infer(self, p, in_shapes):
        return tuple(in_shapes[0])

    def build(self, p, in_shapes):
        from torch import nn
        return nn.Identity()
