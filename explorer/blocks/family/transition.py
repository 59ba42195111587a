"""DenseNet transition: BN-ReLU-1×1 conv compressing channels by θ, then 2×2 average pooling."""
import math

from explorer.blocks.base import CompositeBlock
from explorer.blocks.glyph import Poly
from explorer.blocks.code import LayerCode, Snippet, call
from explorer.blocks.primitives.conv import CONV
from explorer.blocks.parts import bn_act_conv
from explorer.blocks.registry import register
from explorer.graph.params import Float, ParamSet

CODE = Snippet("Transition", '''
class Transition(nn.Module):
    """Between dense blocks: BN-ReLU-1×1 conv to the compressed width (⌊θ·C⌋), then 2×2 average pooling."""

    def __init__(self, in_channels, out_channels):
        super().__init__()
        self.bn = nn.BatchNorm2d(in_channels)
        self.conv = conv(in_channels, out_channels, 1)

    def forward(self, x):
        return F.avg_pool2d(self.conv(F.relu(self.bn(x))), 2)
''', needs=(CONV,))


@register
class TransitionBlock(CompositeBlock):
    name = "transition"
    color = "#bf360c"
    glyph = (Poly(((0.15, 0.15), (0.85, 0.35), (0.85, 0.65), (0.15, 0.85))),)  # a funnel: fewer channels, half size
    title = "Dense transition"
    help = "Between dense blocks: compress channels by θ (0.5 in DenseNet-BC) and halve the resolution."
    params = ParamSet((Float("compression", 0.5, 0.01, 1.0, "θ: output channels = floor(θ · input channels)"),))
    face = ("compression",)
    repeatable = False

    def expand(self, p, b, x):
        out = _compressed(b.channels(x), p)
        x = bn_act_conv(b, x, out, 1)
        return b.add("avgpool", x, node_id="pool", kernel_size=2, stride=2)

    def code(self, p, in_shapes):
        return LayerCode(call("Transition", in_shapes[0][0], _compressed(in_shapes[0][0], p)), needs=(CODE,))


def _compressed(channels: int, p) -> int:
    return max(1, math.floor(channels * p["compression"]))
