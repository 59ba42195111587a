"""Flatten, Linear and Dropout: the classifier end of a network."""
from __future__ import annotations

import math

from explorer.blocks.base import BlockType, Cost
from explorer.blocks.code import LayerCode, Snippet, call
from explorer.blocks.glyph import HUE, Circle, Line, Rect
from explorer.blocks.recognise import Step, TorchRules, arg
from explorer.blocks.registry import register
from explorer.graph.params import Bool, Float, Int, ParamSet
from explorer.graph.shapes import ShapeError, fmt_shape

ZERO_INIT_LINEAR = Snippet("zero_init_linear", '''
def zero_init_linear(layer):
    """Start a classifier at 0 (Fixup, Zhang et al. 2019)."""
    nn.init.zeros_(layer.weight)
    if layer.bias is not None:
        nn.init.zeros_(layer.bias)
    return layer
''')


@register
class Flatten(BlockType):
    name = "flatten"
    color = "#78909c"
    glyph = (Rect(0.1, 0.25, 0.35, 0.5), Line(0.52, 0.5, 0.62, 0.5), Rect(0.68, 0.1, 0.1, 0.8))  # map to column
    keeps_features = True
    title = "Flatten"
    help = "Turns C×H×W into one vector of C·H·W features for a Linear layer."

    def torch_rules(self):
        import torch
        from torch import nn
        return TorchRules(modules={nn.Flatten: _flatten_module}, functions={torch.flatten: _flatten_call},
                          methods={"flatten": _flatten_call, "view": _view, "reshape": _view})

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
    glyph = (*(Line(0.2, a, 0.8, b) for a in (0.25, 0.5, 0.75) for b in (0.35, 0.65)),  # every input to every output
             *(Circle(x, y, 0.07, HUE) for x, ys in ((0.2, (0.25, 0.5, 0.75)), (0.8, (0.35, 0.65))) for y in ys))
    classifier_param = "out_features"
    title = "Linear"
    help = "Fully connected layer; as the last layer its outputs are the class scores."
    params = ParamSet((Int("out_features", 10, 1, 100000, "number of outputs (classes for the last layer)"),
                       Bool("bias", True, "add a learnable bias"),
                       Bool("zero_init", False, "start weight and bias at 0 (Fixup's classifier, Zhang et al. 2019)")))
    face = ("out_features",)

    def torch_rules(self):
        from torch import nn
        return TorchRules(modules={nn.Linear: lambda m, n, ctx: [
            Step(Linear.name, dict(out_features=m.out_features, bias=m.bias is not None), takes_weights=True)]})

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
        layer = nn.Linear(in_shapes[0][0], p["out_features"], bias=p["bias"])
        if p["zero_init"]:
            for t in (layer.weight, layer.bias):
                if t is not None:
                    nn.init.zeros_(t)
        return layer

    def code(self, p, in_shapes):
        init = call("nn.Linear", in_shapes[0][0], p["out_features"], bias=p["bias"], defaults={"bias": True})
        return LayerCode(f"zero_init_linear({init})", needs=(ZERO_INIT_LINEAR,)) if p["zero_init"] else LayerCode(init)


@register
class Dropout(BlockType):
    name = "dropout"
    color = "#90a4ae"
    glyph = tuple(Circle(x, y, 0.07, HUE) for i, y in enumerate((0.2, 0.4, 0.6, 0.8))  # some units missing
                  for j, x in enumerate((0.25, 0.5, 0.75)) if (i + j) % 3 != 1)
    keeps_features = True
    title = "Dropout"
    help = "Zeros a random fraction of activations while training (Wide ResNets use it between convs)."
    params = ParamSet((Float("p", 0.3, 0.0, 0.99, "fraction of activations dropped"),))
    face = ("p",)

    def torch_rules(self):
        from torch import nn
        from torch.nn import functional as F
        return TorchRules(modules={nn.Dropout: lambda m, n, ctx: _dropout(m.p)}, functions={F.dropout: _dropout_call})

    def infer(self, p, in_shapes):
        return tuple(in_shapes[0])

    def build(self, p, in_shapes):
        from torch import nn
        return nn.Dropout(p["p"])

    def code(self, p, in_shapes):
        return LayerCode(call("nn.Dropout", p["p"]))


# -- import: which torch operations are these blocks ------------------------------------------------------
def _flatten() -> list[Step]:
    return [Step(Flatten.name, {})]


def _flatten_module(m, n, ctx):
    return _flatten() if (m.start_dim, m.end_dim) == (1, -1) else None


def _flatten_call(n, ctx):
    start, end = arg(n, 1, "start_dim", 0), arg(n, 2, "end_dim", -1)
    return _flatten() if (start, end) == (1, -1) and len(ctx.shape(n.args[0])) > 2 else None


def _view(n, ctx):
    """``x.view(x.size(0), -1)`` and friends: a flatten when the result is one vector per sample."""
    before, after = ctx.shape(n.args[0]), ctx.shape(n)
    if before is None or after is None or len(after) != 2 or after[0] != before[0]:
        return None
    if after[1] != math.prod(before[1:]):
        return None
    return [] if len(before) == 2 else _flatten()


def _dropout(p) -> list[Step] | None:
    return [Step(Dropout.name, dict(p=float(p)))] if isinstance(p, (int, float)) else None


def _dropout_call(n, ctx):
    return None if arg(n, 3, "inplace", False) else _dropout(arg(n, 1, "p", 0.5))
