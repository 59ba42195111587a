"""Conv2d: the weight layer of every block (groups give ResNeXt, 1×1 gives projections)."""
from __future__ import annotations

from explorer.blocks.base import BlockType, Cost
from explorer.blocks.code import LayerCode, Snippet, call
from explorer.blocks.glyph import grid_box
from explorer.blocks.recognise import Step, TorchRules, square
from explorer.blocks.registry import register
from explorer.graph.params import Bool, Float, Int, ParamSet
from explorer.graph.shapes import ShapeError, conv_out, need_image


CONV = Snippet("conv", '''
def conv(in_channels, out_channels, kernel_size, stride=1, padding=None, dilation=1, groups=1, bias=False,
         bias_init=0.0, init_gain=1.0):
    """A convolution initialised as He et al. do for ReLU networks, times init_gain; padding None keeps the size."""
    if padding is None:
        padding = dilation * (kernel_size - 1) // 2
    layer = nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias=bias)
    nn.init.kaiming_normal_(layer.weight, mode="fan_out", nonlinearity="relu")
    if init_gain != 1.0:
        with torch.no_grad():
            layer.weight.mul_(init_gain)
    if bias:
        nn.init.constant_(layer.bias, bias_init)
    return layer
''')


def _padding(p) -> int:
    return p["dilation"] * (p["kernel_size"] - 1) // 2 if p["padding"] < 0 else p["padding"]


@register
class Conv2d(BlockType):
    name = "conv2d"
    color = "#3b78c4"
    glyph = grid_box()  # the kernel's taps
    classifier_param = "out_channels"
    title = "Conv2d"
    help = "2-D convolution. Stride 2 halves the resolution; groups > 1 splits channels into independent groups."
    params = ParamSet((
        Int("out_channels", 16, 1, 8192, "number of output feature maps"),
        Int("kernel_size", 3, 1, 15, "side of the square kernel"),
        Int("stride", 1, 1, 8, "step between kernel positions; 2 halves height and width"),
        Int("padding", -1, -1, 16, "zeros added on each side; -1 keeps the size (k//2 × dilation)"),
        Int("dilation", 1, 1, 8, "spacing between kernel taps"),
        Int("groups", 1, 1, 4096, "channel groups; must divide in and out channels (ResNeXt cardinality)"),
        Bool("bias", False, "add a learnable bias (not needed before BatchNorm)"),
        Float("bias_init", 0.0, -20, 20, "initial bias value, e.g. a negative highway gate bias"),
        Float("init_gain", 1.0, 0.0, 10.0, "the He initialisation times this (Fixup scales a branch's convs "
              "by L^(-1/(2m-2)) and starts its last at 0)"),
    ))
    face = ("out_channels", "kernel_size", "stride", "groups")

    def as_classifier(self, p, num_classes):
        # A grouped conv could not produce an arbitrary number of outputs.
        return {**p, "out_channels": int(num_classes), "groups": 1}

    def infer(self, p, in_shapes):
        c, h, w = need_image(in_shapes[0], "Conv2d")
        g, out = p["groups"], p["out_channels"]
        if c % g or out % g:
            raise ShapeError(f"groups {g} must divide input channels {c} and output channels {out}",
                             "set groups to a common divisor of both")
        k, s, pad, d = p["kernel_size"], p["stride"], _padding(p), p["dilation"]
        ho, wo = conv_out(h, k, s, pad, d), conv_out(w, k, s, pad, d)
        if ho < 1 or wo < 1:
            raise ShapeError(f"a {k}×{k} kernel with stride {s} leaves nothing of a {h}×{w} input",
                             "reduce the stride or kernel, or use a larger input")
        return (out, ho, wo)

    def cost(self, p, in_shapes, out_shape):
        cin = in_shapes[0][0]
        k, g = p["kernel_size"], p["groups"]
        weights = out_shape[0] * (cin // g) * k * k
        return Cost(weights + (out_shape[0] if p["bias"] else 0), weights * out_shape[1] * out_shape[2], 1)

    def build(self, p, in_shapes):
        from torch import nn
        conv = nn.Conv2d(in_shapes[0][0], p["out_channels"], p["kernel_size"], p["stride"], _padding(p),
                         p["dilation"], p["groups"], bias=p["bias"])
        # He et al. initialise convolutions for ReLU networks this way; it is what makes plain vs residual fair.
        nn.init.kaiming_normal_(conv.weight, mode="fan_out", nonlinearity="relu")
        if p["init_gain"] != 1.0:
            import torch
            with torch.no_grad():
                conv.weight.mul_(p["init_gain"])
        if conv.bias is not None:
            nn.init.constant_(conv.bias, p["bias_init"])
        return conv

    def torch_rules(self):
        from torch import nn
        return TorchRules(modules={nn.Conv2d: _from_module})

    def code(self, p, in_shapes):
        init = call("conv", in_shapes[0][0], p["out_channels"], p["kernel_size"], stride=p["stride"],
                    padding=None if p["padding"] < 0 else p["padding"], dilation=p["dilation"], groups=p["groups"],
                    bias=p["bias"], bias_init=p["bias_init"] if p["bias"] else 0.0, init_gain=p["init_gain"],
                    defaults={"stride": 1, "padding": None, "dilation": 1, "groups": 1, "bias": False,
                              "bias_init": 0.0, "init_gain": 1.0})
        return LayerCode(init, needs=(CONV,))


def _from_module(m, n, ctx) -> list[Step] | None:
    """An ``nn.Conv2d`` with square settings and zero padding (``"same"`` and ``"valid"`` included)."""
    k, s, d = square(m.kernel_size), square(m.stride), square(m.dilation)
    if None in (k, s, d) or m.padding_mode != "zeros":
        return None
    if m.padding == "same":
        pad = d * (k - 1) // 2 if (d * (k - 1)) % 2 == 0 and s == 1 else None
    elif m.padding == "valid":
        pad = 0
    else:
        pad = square(m.padding)
    if pad is None:
        return None
    return [Step(Conv2d.name, dict(out_channels=m.out_channels, kernel_size=k, stride=s,
                                   padding=-1 if pad == d * (k - 1) // 2 else pad, dilation=d, groups=m.groups,
                                   bias=m.bias is not None), takes_weights=True)]
