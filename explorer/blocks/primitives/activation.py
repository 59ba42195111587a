"""Element-wise non-linearities."""
from __future__ import annotations

from explorer.blocks.base import BlockType
from explorer.blocks.code import LayerCode
from explorer.blocks.registry import register
from explorer.graph.params import Choice, ParamSet

KINDS = ("relu", "leaky_relu", "elu", "gelu", "silu", "tanh", "sigmoid", "identity")
_CODE = {"relu": "F.relu({0})", "leaky_relu": "F.leaky_relu({0}, 0.1)", "elu": "F.elu({0})", "gelu": "F.gelu({0})",
         "silu": "F.silu({0})", "tanh": "torch.tanh({0})", "sigmoid": "torch.sigmoid({0})", "identity": "{0}"}


@register
class Activation(BlockType):
    name = "activation"
    color = "#d08b16"
    glyph = "ramp"
    keeps_features = True
    title = "Activation"
    help = "Element-wise non-linearity: ReLU (the residual papers' choice), sigmoid (gates), and friends."
    params = ParamSet((Choice("kind", "relu", KINDS, "which function"),))
    face = ("kind",)

    def describe(self, p):
        return p["kind"]

    def infer(self, p, in_shapes):
        return tuple(in_shapes[0])

    def build(self, p, in_shapes):
        from torch import nn
        return {"relu": lambda: nn.ReLU(inplace=False), "leaky_relu": lambda: nn.LeakyReLU(0.1), "elu": nn.ELU,
                "gelu": nn.GELU, "silu": nn.SiLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid,
                "identity": nn.Identity}[p["kind"]]()

    def code(self, p, in_shapes):
        return LayerCode(None, _CODE[p["kind"]])
