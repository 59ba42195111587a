"""Bottleneck block (He et al. 2015): 1×1 reduce, 3×3, 1×1 expand, plus shortcut.

``groups`` > 1 turns the 3×3 into a grouped convolution, which is all a ResNeXt block is (see resnext.py).
"""
from explorer.blocks.base import CompositeBlock
from explorer.blocks.parts import residual_add, SE_REDUCTION, SHORTCUT, conv_bn_act, shortcut, squeeze_excite
from explorer.blocks.registry import register
from explorer.graph.params import Int, ParamSet


@register
class BottleneckBlock(CompositeBlock):
    name = "bottleneck"
    color = "#3949ab"
    glyph = "narrow_middle_skip"
    title = "Bottleneck residual"
    help = ("1×1 conv reduces channels, 3×3 conv works on the narrow tensor, 1×1 conv expands (usually ×4). "
            "Cheaper than two 3×3 convs at the same output width; used by ResNet-50 and deeper.")
    params = ParamSet((Int("width", 64, 1, 8192, "channels of the narrow 3×3 conv"),
                       Int("out_channels", 256, 1, 16384, "channels after the expanding 1×1 (width × 4 in ResNet-50)"),
                       Int("stride", 1, 1, 4, "stride of the 3×3 conv and the shortcut"),
                       Int("groups", 1, 1, 1024, "groups of the 3×3 conv (ResNeXt cardinality)"),
                       SHORTCUT, SE_REDUCTION))
    face = ("width", "out_channels", "stride", "groups")

    def expand(self, p, b, x):
        r = conv_bn_act(b, x, p["width"], 1, tag="1")
        r = conv_bn_act(b, r, p["width"], 3, p["stride"], p["groups"], tag="2")
        r = conv_bn_act(b, r, p["out_channels"], 1, tag="3", act=False)
        r = squeeze_excite(b, r, p["se_reduction"])
        y = residual_add(b, r, shortcut(b, x, p["out_channels"], p["stride"], p["shortcut"]))
        return b.act(y, node_id="relu_out")
