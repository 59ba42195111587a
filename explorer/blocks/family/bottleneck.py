"""Bottleneck block (He et al. 2015): 1×1 reduce, 3×3, 1×1 expand, plus shortcut.

``groups`` > 1 turns the 3×3 into a grouped convolution, which is all a ResNeXt block is (see resnext.py).
"""
from explorer.blocks.base import CompositeBlock
from explorer.blocks.glyph import Poly, plus, skip_arc
from explorer.blocks.code import LayerCode, Snippet, call
from explorer.blocks.parts import (RESIDUAL, RESIDUAL_ADD, SE_REDUCTION, SHORTCUT,
                                   conv_bn_act, residual_add, shortcut, shortcut_kind,
                                   squeeze_excite)
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
                       SHORTCUT, SE_REDUCTION))
    face = ("width", "out_channels", "stride", "groups")
    shortcut_add = RESIDUAL_ADD

    def recognise(self, site):
        if len(site.convs) == 3:  # 1×1 reduce, 3×3 (maybe grouped), 1×1 expand
            reduce, middle, expand = site.convs
            yield dict(width=reduce["out_channels"], out_channels=expand["out_channels"], stride=middle["stride"],
                       groups=middle["groups"], shortcut=site.shortcut)

    def expand(self, p, b, x):
        r = conv_bn_act(b, x, p["width"], 1, tag="1")
        r = conv_bn_act(b, r, p["width"], 3, p["stride"], p["groups"], tag="2")
        r = conv_bn_act(b, r, p["out_channels"], 1, tag="3", act=False)
        r = squeeze_excite(b, r, p["se_reduction"])
        y = residual_add(b, r, shortcut(b, x, p["out_channels"], p["stride"], p["shortcut"]))
        return b.act(y, node_id="relu_out")

    def code(self, p, in_shapes):
        c, out, stride = in_shapes[0][0], p["out_channels"], p["stride"]
        return LayerCode(call("Bottleneck", c, p["width"], out, stride=stride, groups=p["groups"],
                              shortcut=shortcut_kind(c, out, stride, p["shortcut"]), se_reduction=p["se_reduction"],
                              defaults={"stride": 1, "groups": 1, "shortcut": "identity", "se_reduction": 0}),
                         needs=(CODE,))
