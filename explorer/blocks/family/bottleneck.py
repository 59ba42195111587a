"""Bottleneck block (He et al. 2015): 1×1 reduce, 3×3, 1×1 expand, plus shortcut.

``groups`` > 1 turns the 3×3 into a grouped convolution, which is all a ResNeXt block is (see resnext.py).
"""
from explorer.blocks.base import CompositeBlock
from explorer.blocks.glyph import Poly, plus, skip_arc
from explorer.blocks.code import LayerCode, Snippet, call
from explorer.blocks.parts import (BN_EPS, FIXUP_BLOCKS, PAD_SPLIT, RESIDUAL, RESIDUAL_ADD, SE_REDUCTION, SHORTCUT,
                                   STRIDE_ON, branch_scale, conv_bn_act, conventions_default, fixup_gain,
                                   init_param, residual_add, scalar_bias, shortcut, shortcut_kind, squeeze_excite)
from explorer.blocks.registry import register
from explorer.graph.params import Int, ParamSet

CODE = Snippet("Bottleneck", '''
class Bottleneck(Residual):
    """1×1 reduce, 3×3 (grouped: ResNeXt), 1×1 expand, and a shortcut (He et al. 2015; Xie et al. 2017)."""

    def __init__(self, in_channels, width, out_channels, stride=1, groups=1, shortcut="identity", se_reduction=0):
        super().__init__()
        self.conv1 = conv(in_channels, width, 1)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = conv(width, width, 3, stride, groups=groups)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = conv(width, out_channels, 1)
        self.bn3 = nn.BatchNorm2d(out_channels)
        self.add_squeeze_excite(out_channels, se_reduction)
        self.add_shortcut(shortcut, in_channels, out_channels, stride)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = F.relu(self.bn2(self.conv2(out)))
        out = self.squeeze_excite(self.bn3(self.conv3(out)))
        return F.relu(self.residual(out, x))
''', needs=(RESIDUAL,))


@register
class BottleneckBlock(CompositeBlock):
    name = "bottleneck"
    color = "#3949ab"
    glyph = (Poly(((0.14, 0.32), (0.32, 0.52), (0.52, 0.52), (0.7, 0.32), (0.7, 0.92), (0.52, 0.72), (0.32, 0.72),
                   (0.14, 0.92))),  # wide-narrow-wide hourglass: 1×1 reduce, 3×3, 1×1 expand
             *skip_arc(0.08, 0.86, 0.5, 0.02), *plus(0.86, 0.62))
    title = "Bottleneck residual"
    help = ("1×1 conv reduces channels, 3×3 conv works on the narrow tensor, 1×1 conv expands (usually ×4). "
            "Cheaper than two 3×3 convs at the same output width; used by ResNet-50 and deeper.")
    params = ParamSet((Int("width", 64, 1, 8192, "channels of the narrow 3×3 conv"),
                       Int("out_channels", 256, 1, 16384, "channels after the expanding 1×1 (width × 4 in ResNet-50)"),
                       Int("stride", 1, 1, 4, "stride of the 3×3 conv and the shortcut"),
                       Int("groups", 1, 1, 1024, "groups of the 3×3 conv (ResNeXt cardinality)"),
                       SHORTCUT, SE_REDUCTION, init_param(), FIXUP_BLOCKS, STRIDE_ON, PAD_SPLIT, BN_EPS))
    face = ("width", "out_channels", "stride", "groups")
    shortcut_add = RESIDUAL_ADD

    def recognise(self, site):
        if site.after_add and len(site.convs) == 3:  # 1×1 reduce, 3×3 (maybe grouped), 1×1 expand
            reduce, middle, expand = site.convs
            yield dict(width=reduce["out_channels"], out_channels=expand["out_channels"], stride=middle["stride"],
                       groups=middle["groups"], shortcut=site.shortcut)

    def expand(self, p, b, x):
        if p["init"] == "fixup":
            return _fixup(p, b, x)
        eps, (s1, s2) = p["bn_eps"], _strides(p)
        r = conv_bn_act(b, x, p["width"], 1, s1, tag="1", eps=eps)
        r = conv_bn_act(b, r, p["width"], 3, s2, p["groups"], tag="2", eps=eps)
        r = conv_bn_act(b, r, p["out_channels"], 1, tag="3", act=False, zero_gamma=p["init"] == "zero_gamma",
                        eps=eps)
        r = squeeze_excite(b, r, p["se_reduction"])
        r = branch_scale(b, r, p["init"])
        y = residual_add(b, r, shortcut(b, x, p["out_channels"], p["stride"], p["shortcut"], split=p["pad_split"],
                                        eps=eps))
        return b.act(y, node_id="relu_out")

    def code(self, p, in_shapes):
        if p["init"] != "default" or not conventions_default(p):
            return None  # written out from its expansion
        c, out, stride = in_shapes[0][0], p["out_channels"], p["stride"]
        return LayerCode(call("Bottleneck", c, p["width"], out, stride=stride, groups=p["groups"],
                              shortcut=shortcut_kind(c, out, stride, p["shortcut"]), se_reduction=p["se_reduction"],
                              defaults={"stride": 1, "groups": 1, "shortcut": "identity", "se_reduction": 0}),
                         needs=(CODE,))


def _fixup(p, b, x):
    """Zhang et al.'s FixupBottleneck: no BN; biases before each conv and activation, a multiplier at the end,
    conv1 and conv2 scaled by L^(-1/4), conv3 at 0; the shortcut sees x + bias1a."""
    width, out, gain, (s1, s2) = p["width"], p["out_channels"], fixup_gain(p, 3), _strides(p)
    xa = scalar_bias(b, x, "1a")
    r = b.act(scalar_bias(b, b.conv(xa, width, 1, s1, node_id="conv1", init_gain=gain), "1b"), node_id="relu1")
    r = b.conv(scalar_bias(b, r, "2a"), width, 3, s2, p["groups"], node_id="conv2", init_gain=gain)
    r = b.act(scalar_bias(b, r, "2b"), node_id="relu2")
    r = b.conv(scalar_bias(b, r, "3a"), out, 1, node_id="conv3", init_gain=0.0)
    r = scalar_bias(b, b.add("scale", r, node_id="fixup_scale", init=1.0), "3b")
    r = squeeze_excite(b, r, p["se_reduction"])
    y = residual_add(b, r, shortcut(b, xa, out, p["stride"], p["shortcut"], bn=False, split=p["pad_split"]))
    return b.act(y, node_id="relu_out")


def _strides(p) -> tuple[int, int]:
    """(stride of the first 1×1, stride of the 3×3)."""
    return (p["stride"], 1) if p["stride_on"] == "1x1" else (1, p["stride"])
