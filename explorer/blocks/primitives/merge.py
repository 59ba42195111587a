"""Nodes that merge several inputs: Add (the shortcut), Concat (dense paths), Multiply, Subtract."""
from __future__ import annotations

from explorer.blocks.base import BlockType
from explorer.blocks.code import LayerCode, inputs
from explorer.blocks.glyph import HUE, Circle, Line, Poly, Rect
from explorer.blocks.recognise import Step, TorchRules, arg, resolve
from explorer.blocks.registry import register
from explorer.graph.shapes import ShapeError, fmt_shape


def shortcut_fix(a: tuple, b: tuple) -> str:
    """What would make two shapes addable: the stride and kind of shortcut they call for."""
    if len(a) == 3 and len(b) == 3:
        big, small = (a, b) if a[1] >= b[1] else (b, a)
        stride = big[1] // small[1] if small[1] and big[1] % small[1] == 0 else None
        s = f" with stride {stride}" if stride and stride > 1 else ""
        return f"use a projection shortcut{s} (1×1 conv to {small[0] if stride and stride > 1 else max(a[0], b[0])} channels) on the skip path"
    return "make both inputs the same shape"


def _disc(*marks: Poly) -> tuple:
    """A filled circle with the operation's sign."""
    return (Circle(0.5, 0.5, 0.32, HUE), *marks)


class _Merge(BlockType):
    min_inputs = 2
    max_inputs = 8
    torch_functions: tuple[str, ...] = ()  # what imported code writes for it, read by ``torch_rules``
    torch_methods: tuple[str, ...] = ()

    def build(self, p, in_shapes):
        from explorer.blocks import ops
        return getattr(ops, self.op)()

    def code(self, p, in_shapes):
        return LayerCode(None, self.written.format(inputs(len(in_shapes), self.sep)))

    def torch_rules(self):
        """``a + b``, ``torch.add(a, b)``, ``a.add_(b)``, ...: the operators, functions and methods the
        subclass names (``torch_functions``: dotted names; ``torch_methods``)."""
        rule = _two_tensors(self.name)
        return TorchRules(functions={resolve(f): rule for f in self.torch_functions},
                          methods={m: rule for m in self.torch_methods})


@register
class Add(_Merge):
    name = "add"
    color = "#c2185b"
    glyph = _disc(Line(0.32, 0.5, 0.68, 0.5), Line(0.5, 0.32, 0.5, 0.68))
    skip_merge = True
    title = "Add"
    help = "Element-wise sum. An Add fed by a skip edge is a residual shortcut: y = F(x) + x."
    op = "Add"
    written, sep = '{}', ' + '
    torch_functions, torch_methods = ("operator.add", "operator.iadd", "torch.add"), ("add", "add_")

    def infer(self, p, in_shapes):
        first = in_shapes[0]
        for other in in_shapes[1:]:
            if tuple(other) != tuple(first):
                raise ShapeError(f"inputs {fmt_shape(first)} and {fmt_shape(other)} differ", shortcut_fix(first, other))
        return tuple(first)


@register
class Subtract(_Merge):
    name = "subtract"
    color = "#c2185b"
    glyph = _disc(Line(0.32, 0.5, 0.68, 0.5))
    title = "Subtract"
    help = "First input minus second (edge order). Highway gates use it: y = x + T·(H − x)."
    op = "Subtract"
    written, sep = '{}', ' - '
    torch_functions, torch_methods = ("operator.sub", "torch.sub"), ("sub",)
    max_inputs = 2

    def infer(self, p, in_shapes):
        if tuple(in_shapes[0]) != tuple(in_shapes[1]):
            raise ShapeError(f"inputs {fmt_shape(in_shapes[0])} and {fmt_shape(in_shapes[1])} differ",
                             "make both inputs the same shape")
        return tuple(in_shapes[0])


@register
class Multiply(_Merge):
    name = "multiply"
    color = "#ad1457"
    glyph = _disc(Line(0.37, 0.37, 0.63, 0.63), Line(0.37, 0.63, 0.63, 0.37))
    title = "Multiply"
    help = "Element-wise product with broadcasting: C×1×1 attention weights times C×H×W features (SE)."
    op = "Multiply"
    written, sep = '{}', ' * '
    torch_functions, torch_methods = ("operator.mul", "operator.imul", "torch.mul"), ("mul",)

    def infer(self, p, in_shapes):
        out = list(in_shapes[0])
        for other in in_shapes[1:]:
            if len(other) != len(out):
                raise ShapeError(f"cannot multiply {fmt_shape(out)} by {fmt_shape(other)}", "give both inputs the same rank")
            for i, (a, b) in enumerate(zip(out, other)):
                if a != b and 1 not in (a, b):
                    raise ShapeError(f"cannot broadcast {fmt_shape(tuple(out))} with {fmt_shape(other)}",
                                     "sizes must match or be 1 (e.g. C×1×1 attention times C×H×W)")
                out[i] = max(a, b)
        return tuple(out)


@register
class Concat(_Merge):
    name = "concat"
    color = "#7b1fa2"
    glyph = (Rect(0.2, 0.2, 0.26, 0.6), Rect(0.54, 0.2, 0.26, 0.6))  # side by side
    title = "Concat"
    help = "Joins inputs along channels (edge order). DenseNet feeds every layer the concat of all before it."
    op = "Concat"
    written, sep = 'torch.cat([{}], 1)', ', '
    max_inputs = 64

    def torch_rules(self):
        import torch
        return TorchRules(functions={torch.cat: _cat, torch.concat: _cat})

    def infer(self, p, in_shapes):
        first = in_shapes[0]
        for other in in_shapes[1:]:
            if len(other) != len(first) or tuple(other[1:]) != tuple(first[1:]):
                raise ShapeError(f"inputs {fmt_shape(first)} and {fmt_shape(other)} differ beyond channels",
                                 "concatenate feature maps of the same height and width (pool or stride one of them)")
        return (sum(s[0] for s in in_shapes),) + tuple(first[1:])


# -- import ----------------------------------------------------------------------------------------------
def _two_tensors(kind: str):
    def rule(n, ctx):
        if len(n.args) == 2 and not n.kwargs and all(ctx.shape(a) is not None for a in n.args):
            return [Step(kind, {})]
        return None
    return rule


def _cat(n, ctx):
    tensors, dim = arg(n, 0, "tensors"), arg(n, 1, "dim", 0)
    if not isinstance(tensors, (list, tuple)) or len(tensors) < 2 or not all(ctx.shape(t) for t in tensors):
        return None
    rank = len(ctx.shape(tensors[0]))
    return [Step(Concat.name, {})] if dim in (1, 1 - rank) and rank >= 2 else None
