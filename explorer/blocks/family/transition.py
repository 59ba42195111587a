"""DenseNet transition: BN-ReLU-1×1 conv compressing channels by θ, then 2×2 average pooling."""
import math

from explorer.blocks.base import CompositeBlock
from explorer.blocks.parts import bn_act_conv
from explorer.blocks.registry import register
from explorer.graph.params import Float, ParamSet


@register
class TransitionBlock(CompositeBlock):
    name = "transition"
    color = "#bf360c"
    glyph = "shrink"
    title = "Dense transition"
    help = "Between dense blocks: compress channels by θ (0.5 in DenseNet-BC) and halve the resolution."
    params = ParamSet((Float("compression", 0.5, 0.01, 1.0, "θ: output channels = floor(θ · input channels)"),))
    face = ("compression",)
    repeatable = False

    def expand(self, p, b, x):
        out = max(1, math.floor(b.channels(x) * p["compression"]))
        x = bn_act_conv(b, x, out, 1)
        return b.add("avgpool", x, node_id="pool", kernel_size=2, stride=2)
