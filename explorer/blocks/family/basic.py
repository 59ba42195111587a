"""Basic residual block (He et al. 2015): y = ReLU(F(x) + shortcut(x)), F = two 3×3 convs."""
from explorer.blocks.base import CompositeBlock
from explorer.blocks.parts import residual_add, SE_REDUCTION, SHORTCUT, conv_bn_act, shortcut, squeeze_excite
from explorer.blocks.registry import register
from explorer.graph.params import Int, ParamSet


@register
class BasicBlock(CompositeBlock):
    name = "basic"
    color = "#1e88e5"
    glyph = "two_layers_skip"
    title = "Basic residual"
    help = ("Two 3×3 convs plus an identity shortcut, so the block learns a residual F(x) = H(x) − x. "
            "When the shape changes the shortcut zero-pads or projects.")
    params = ParamSet((Int("channels", 16, 1, 8192, "output channels"),
                       Int("stride", 1, 1, 4, "stride of the first conv and of the shortcut"),
                       SHORTCUT, SE_REDUCTION))
    face = ("channels", "stride", "shortcut")

    def expand(self, p, b, x):
        r = conv_bn_act(b, x, p["channels"], 3, p["stride"], tag="1")
        r = conv_bn_act(b, r, p["channels"], 3, tag="2", act=False)
        r = squeeze_excite(b, r, p["se_reduction"])
        y = residual_add(b, r, shortcut(b, x, p["channels"], p["stride"], p["shortcut"]))
        return b.act(y, node_id="relu_out")
