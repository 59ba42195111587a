"""Flatten, Linear and Dropout: the classifier end of a network."""
from __future__ import annotations

import math

from explorer.blocks.base import BlockType, Cost
from explorer.blocks.code import LayerCode, call
from explorer.blocks.registry import register
from explorer.graph.params import Bool, Float, Int, ParamSet
from explorer.graph.shapes import ShapeError, fmt_shape


@register
class Flatten(BlockType):
    name = "flatten"
    color = "#78909c"
    glyph = "unroll"
    keeps_features = True
    title = "Flatten"
    help = "Turns C×H×W into one vector of C·H·W features for a Linear layer."

    def infer(self, p, in_shapes):
        return (math.prod(in_shapes[0]),)

    def build(self, p, in_shapes):
        from torch import nn
        return nn.Flatten(1)

    def code(self, p, in_shapes):
        return LayerCode(None, "torch.flatten({0}, 1)")


@register
class Linear(BlockType):
    name = "linear"
    color = "#3b8f5a"
    glyph = "fully_connected"
    classifier_param = "out_features"
    title = "Linear"
    help = "Fully connected layer; as the last layer its outputs are the class scores."
    params = ParamSet((Int("out_features", 10, 1, 100000, "number of outputs (classes for the last layer)"),
                       Bool("bias", True, "add a learnable bias")))
    face = ("out_features",)

    def infer(self, p, in_shapes):
        if len(in_shapes[0]) != 1:
            raise ShapeError(f"Linear needs a vector, got {fmt_shape(in_shapes[0])}",
                             "put a Flatten (or Global avg pool then Flatten) before it")
        return (p["out_features"],)

    def cost(self, p, in_shapes, out_shape):
        w = in_shapes[0][0] * out_shape[0]
        return Cost(w + (out_shape[0] if p["bias"] else 0), w, 1)

    def build(self, p, in_shapes):
        from torch import nn
        return nn.Linear(in_shapes[0][0], p["out_features"], bias=p["bias"])

    def code(self, p, in_shapes):
        return LayerCode(call("nn.Linear", in_shapes[0][0], p["out_features"], bias=p["bias"], defaults={"bias": True}))


@register
class Dropout(BlockType):
    name = "dropout"
    color = "#90a4ae"
    glyph = "dropped_units"
    keeps_features = True
    title = "Dropout"
    help = "Zeros a random fraction of activations while training (Wide ResNets use it between convs)."
    params = ParamSet((Float("p", 0.3, 0.0, 0.99, "fraction of activations dropped"),))
    face = ("p",)

    def infer(self, p, in_shapes):
        return tuple(in_shapes[0])

    def build(self, p, in_shapes):
        from torch import nn
        return nn.Dropout(p["p"])

    def code(self, p, in_shapes):
        return LayerCode(call("nn.Dropout", p["p"]))
