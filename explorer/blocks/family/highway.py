"""Highway block (Srivastava et al. 2015): a learned gate mixes transform and carry, y = T·H(x) + (1−T)·x."""
from explorer.blocks.base import CompositeBlock
from explorer.blocks.parts import SHORTCUT, conv_bn_act, shortcut
from explorer.blocks.registry import register
from explorer.graph.params import Float, Int, ParamSet


@register
class HighwayBlock(CompositeBlock):
    name = "highway"
    color = "#fb8c00"
    glyph = "gated_skip"
    title = "Highway (gated)"
    help = ("A sigmoid gate T decides per unit how much of the transform H(x) and how much of x passes. "
            "A negative gate bias starts the block close to carrying x; residual blocks are the gate fixed open.")
    params = ParamSet((Int("channels", 16, 1, 8192, "output channels"),
                       Int("stride", 1, 1, 4, "stride of the transform, gate and carry path"),
                       Float("gate_bias", -1.0, -20, 20, "initial bias of the gate (negative = carry more)"),
                       SHORTCUT))
    face = ("channels", "stride", "gate_bias")

    def expand(self, p, b, x):
        c, stride = p["channels"], p["stride"]
        h = conv_bn_act(b, x, c, 3, stride, tag="1")
        h = conv_bn_act(b, h, c, 3, tag="2")
        if p["shortcut"] == "none":
            return h  # no carry path: nothing for a gate to choose between
        t = b.conv(x, c, 1, stride, bias=True, bias_init=p["gate_bias"], node_id="gate_conv")
        t = b.act(t, "sigmoid", node_id="gate")
        carry = shortcut(b, x, c, stride, p["shortcut"])
        # y = T·H + (1 − T)·carry, written as carry + T·(H − carry) so it needs only primitives.
        d = b.add("subtract", h, carry, node_id="transform_minus_carry")
        g = b.add("multiply", t, d, node_id="gated")
        return b.add("add", carry, g, node_id="mix")
