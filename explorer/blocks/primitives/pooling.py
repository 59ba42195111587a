"""Max/average pooling and global average pooling."""
from __future__ import annotations

from explorer.blocks.base import BlockType
from explorer.blocks.code import X, LayerCode, call
from explorer.blocks.glyph import HUE, Circle, Line, Rect
from explorer.blocks.recognise import Step, TorchRules, arg, is_one, only, square
from explorer.blocks.registry import register
from explorer.graph.params import Bool, Int, ParamSet
from explorer.graph.shapes import ShapeError, conv_out, need_image

_POOL_PARAMS = ParamSet((
    Int("kernel_size", 2, 1, 15, "side of the pooling window"),
    Int("stride", 0, 0, 8, "step between windows; 0 means the kernel size"),
    Int("padding", 0, 0, 7, "padding on each side (at most half the kernel)"),
    Bool("ceil_mode", False, "round the output size up, so a window that starts inside the input is kept (the "
         "original Caffe ResNets and timm's legacy SE-ResNets pool their stem so, without padding)"),
))


def pool_out(size: int, k: int, s: int, pad: int, ceil: bool) -> int:
    """PyTorch's output size of a pool: floor (or ceil) of the windows, a last ceil window that would start in
    the right padding dropped."""
    if not ceil:
        return conv_out(size, k, s, pad)
    out = -(-(size + 2 * pad - k) // s) + 1
    return out - 1 if (out - 1) * s >= size + pad else out


# four cells become one
POOL_GLYPH = (*(Rect(0.1 + dx, 0.28 + dy, 0.2, 0.2) for dx in (0, 0.22) for dy in (0, 0.22)),
              Line(0.58, 0.5, 0.7, 0.5), Rect(0.72, 0.4, 0.2, 0.2))


class _Pool(BlockType):
    params = _POOL_PARAMS
    face = ("kernel_size", "stride")

    def infer(self, p, in_shapes):
        c, h, w = need_image(in_shapes[0], self.title)
        k, s, pad = p["kernel_size"], p["stride"] or p["kernel_size"], p["padding"]
        if pad * 2 > k:
            raise ShapeError(f"padding {pad} is more than half the kernel {k}", f"use padding ≤ {k // 2}")
        ceil = p["ceil_mode"]
        ho, wo = pool_out(h, k, s, pad, ceil), pool_out(w, k, s, pad, ceil)
        if ho < 1 or wo < 1:
            raise ShapeError(f"a {k}×{k} window leaves nothing of a {h}×{w} input", "use a smaller window or fewer pooling layers")
        return (c, ho, wo)

    def build(self, p, in_shapes):
        from torch import nn
        cls = nn.MaxPool2d if self.name == "maxpool" else nn.AvgPool2d
        return cls(p["kernel_size"], p["stride"] or p["kernel_size"], p["padding"], ceil_mode=p["ceil_mode"])

    def code(self, p, in_shapes):
        func = "F.max_pool2d" if self.name == "maxpool" else "F.avg_pool2d"
        k = p["kernel_size"]
        s = p["stride"] or k
        if p["ceil_mode"]:
            return LayerCode(None, call(func, X, k, s, p["padding"], ceil_mode=True))
        args = (k, s, p["padding"]) if p["padding"] else (k,) if s == k else (k, s)
        return LayerCode(None, call(func, X, *args))


@register
class MaxPool(_Pool):
    name = "maxpool"
    color = "#8d6e63"
    glyph = POOL_GLYPH
    keeps_features = True
    title = "MaxPool"
    help = "Keeps the largest value in each window (ImageNet ResNets use 3×3, stride 2 after the stem)."

    def torch_rules(self):
        from torch import nn
        from torch.nn import functional as F
        return TorchRules(modules={nn.MaxPool2d: _max_module}, functions={F.max_pool2d: _max_call})


@register
class AvgPool(_Pool):
    name = "avgpool"
    color = "#8d6e63"
    glyph = POOL_GLYPH
    keeps_features = True
    title = "AvgPool"
    help = "Averages each window (DenseNet transitions use 2×2, stride 2)."

    def torch_rules(self):
        from torch import nn
        from torch.nn import functional as F
        return TorchRules(modules={nn.AvgPool2d: _avg_module}, functions={F.avg_pool2d: _avg_call})


@register
class GlobalAvgPool(BlockType):
    name = "global_avgpool"
    color = "#8d6e63"
    glyph = (Rect(0.1, 0.25, 0.45, 0.5), Line(0.6, 0.5, 0.72, 0.5), Circle(0.82, 0.5, 0.07, HUE))  # a map to a dot
    keeps_features = True
    title = "Global avg pool"
    help = "Averages each channel over the whole image: C×H×W becomes C×1×1."

    def infer(self, p, in_shapes):
        c, _, _ = need_image(in_shapes[0], "Global avg pool")
        return (c, 1, 1)

    def build(self, p, in_shapes):
        from torch import nn
        return nn.AdaptiveAvgPool2d(1)

    def torch_rules(self):
        import torch
        from torch import nn
        from torch.nn import functional as F
        return TorchRules(modules={nn.AdaptiveAvgPool2d: _adaptive_module},
                          functions={F.adaptive_avg_pool2d: _adaptive_call, torch.mean: _mean}, methods={"mean": _mean})

    def code(self, p, in_shapes):
        return LayerCode(None, "F.adaptive_avg_pool2d({0}, 1)")


# -- import: which torch pools are these blocks ------------------------------------------------------------
def _pool(kind: str, k, s, pad, ceil=False, dilation=1, count_include_pad=True, divisor=None) -> list[Step] | None:
    """A square pool our blocks compute exactly (no dilation, divisor or excluded padding; ceil mode kept)."""
    k, s, pad = square(k), square(s if s is not None and s != [] else k), square(pad)
    if None in (k, s, pad) or square(dilation) != 1 or not count_include_pad or divisor is not None:
        return None
    return [Step(kind, dict(kernel_size=k, stride=s, padding=pad, **({"ceil_mode": True} if ceil else {})))]


def _max_module(m, n, ctx):
    return None if m.return_indices else _pool(MaxPool.name, m.kernel_size, m.stride, m.padding, m.ceil_mode,
                                               m.dilation)


def _max_call(n, ctx):
    if arg(n, 6, "return_indices", False):
        return None
    return _pool(MaxPool.name, arg(n, 1, "kernel_size"), arg(n, 2, "stride", None), arg(n, 3, "padding", 0),
                 arg(n, 5, "ceil_mode", False), arg(n, 4, "dilation", 1))


def _avg_module(m, n, ctx):
    return _pool(AvgPool.name, m.kernel_size, m.stride, m.padding, m.ceil_mode, 1, m.count_include_pad,
                 m.divisor_override)


def _avg_call(n, ctx):
    return _pool(AvgPool.name, arg(n, 1, "kernel_size"), arg(n, 2, "stride", None), arg(n, 3, "padding", 0),
                 arg(n, 4, "ceil_mode", False), 1, arg(n, 5, "count_include_pad", True),
                 arg(n, 6, "divisor_override", None))


def _global() -> list[Step]:
    return [Step(GlobalAvgPool.name, {})]


def _adaptive_module(m, n, ctx):
    return _global() if is_one(m.output_size) else None


def _adaptive_call(n, ctx):
    return _global() if only(n, {"output_size"}, 2) and is_one(arg(n, 1, "output_size")) else None


def _mean(n, ctx):
    """``x.mean((2, 3))``: a global pool, then a flatten unless ``keepdim``."""
    dims, keep = arg(n, 1, "dim"), arg(n, 2, "keepdim", False)
    shape = ctx.shape(n.args[0])
    if shape is None or len(shape) != 4 or not isinstance(dims, (list, tuple)):
        return None
    if sorted(d % 4 for d in dims) != [2, 3] or set(n.kwargs) - {"dim", "keepdim"}:
        return None
    return _global() + ([] if keep else [Step("flatten", {})])
