"""Input and Output: where tensors enter and leave the network."""
from __future__ import annotations

from explorer.blocks.base import BlockType
from explorer.blocks.registry import register
from explorer.graph.params import ParamSet, Shape


@register
class Input(BlockType):
    name = "input"
    role = "input"
    color = "#546e7a"
    glyph = "arrow_in"
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
    glyph = "arrow_out"
    title = "Output"
    help = "The network's result: class scores (logits) for each sample."
    has_output = False

    def infer(self, p, in_shapes):
        return tuple(in_shapes[0])

    def build(self, p, in_shapes):
        from torch import nn
        return nn.Identity()
