"""Plain block: two conv-BN-ReLU layers and no shortcut, the baseline that degrades with depth."""
from explorer.blocks.base import CompositeBlock
from explorer.blocks.parts import conv_bn_act
from explorer.blocks.registry import register
from explorer.graph.params import Int, ParamSet


@register
class PlainBlock(CompositeBlock):
    name = "plain"
    color = "#757575"
    glyph = "two_layers"
    title = "Plain (no shortcut)"
    help = ("Two 3×3 conv-BN-ReLU layers without a shortcut. Stack many and training gets worse, not better: "
            "the degradation problem residual learning solves (He et al. 2015).")
    params = ParamSet((Int("channels", 16, 1, 8192, "output channels of both convs"),
                       Int("stride", 1, 1, 4, "stride of the first conv; 2 halves the resolution")))
    face = ("channels", "stride")

    def expand(self, p, b, x):
        x = conv_bn_act(b, x, p["channels"], 3, p["stride"], tag="1")
        return conv_bn_act(b, x, p["channels"], 3, tag="2")
