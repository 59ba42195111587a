"""Plain block: two conv-BN-ReLU layers and no shortcut, the baseline that degrades with depth."""
from explorer.blocks.base import CompositeBlock
from explorer.blocks.glyph import Line, layers
from explorer.blocks.code import LayerCode, Snippet, call
from explorer.blocks.primitives.conv import CONV
from explorer.blocks.parts import conv_bn_act
from explorer.blocks.registry import register
from explorer.graph.params import Int, ParamSet

CODE = Snippet("PlainBlock", '''
class PlainBlock(nn.Module):
    """Two 3×3 conv-BN-ReLU layers and no shortcut: the baseline that degrades with depth."""

    def __init__(self, in_channels, channels, stride=1):
        super().__init__()
        self.conv1 = conv(in_channels, channels, 3, stride)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = conv(channels, channels, 3)
        self.bn2 = nn.BatchNorm2d(channels)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(x)))
''', needs=(CONV,))


@register
class PlainBlock(CompositeBlock):
    name = "plain"
    color = "#757575"
    glyph = (*layers(y=0.33), Line(0.05, 0.5, 0.22, 0.5), Line(0.38, 0.5, 0.52, 0.5), Line(0.68, 0.5, 0.95, 0.5))
    title = "Plain (no shortcut)"
    help = ("Two 3×3 conv-BN-ReLU layers without a shortcut. Stack many and training gets worse, not better: "
            "the degradation problem residual learning solves (He et al. 2015).")
    params = ParamSet((Int("channels", 16, 1, 8192, "output channels of both convs"),
                       Int("stride", 1, 1, 4, "stride of the first conv; 2 halves the resolution")))
    face = ("channels", "stride")

    def expand(self, p, b, x):
        x = conv_bn_act(b, x, p["channels"], 3, p["stride"], tag="1")
        return conv_bn_act(b, x, p["channels"], 3, tag="2")

    def code(self, p, in_shapes):
        return LayerCode(call("PlainBlock", in_shapes[0][0], p["channels"], stride=p["stride"], defaults={"stride": 1}),
                         needs=(CODE,))
