"""Highway block (Srivastava et al. 2015): a learned gate mixes transform and carry, y = T·H(x) + (1−T)·x."""
from explorer.blocks.base import CompositeBlock
from explorer.blocks.glyph import Circle, Line, residual
from explorer.blocks.code import LayerCode, Snippet, call
from explorer.blocks.parts import RESIDUAL, SHORTCUT, conv_bn_act, shortcut, shortcut_kind
from explorer.blocks.registry import register
from explorer.graph.params import Float, Int, ParamSet

CODE = Snippet("HighwayBlock", '''
class HighwayBlock(Residual):
    """A sigmoid gate T mixes the transform and the carried input: y = T·H(x) + (1 − T)·x (Srivastava et al. 2015)."""

    def __init__(self, in_channels, channels, stride=1, gate_bias=-1.0, shortcut="identity"):
        super().__init__()
        self.conv1 = conv(in_channels, channels, 3, stride)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = conv(channels, channels, 3)
        self.bn2 = nn.BatchNorm2d(channels)
        if shortcut != "none":  # without a carry path there is nothing for a gate to choose between
            self.gate_conv = conv(in_channels, channels, 1, stride, bias=True, bias_init=gate_bias)
        self.add_shortcut(shortcut, in_channels, channels, stride)

    def forward(self, x):
        h = F.relu(self.bn1(self.conv1(x)))
        h = F.relu(self.bn2(self.conv2(h)))
        if self.shortcut_kind == "none":
            return h
        gate = torch.sigmoid(self.gate_conv(x))
        carry = self.shortcut(x)
        return carry + gate * (h - carry)
''', needs=(RESIDUAL,))


@register
class HighwayBlock(CompositeBlock):
    name = "highway"
    color = "#fb8c00"
    glyph = residual((Line(0.42, 0.1, 0.52, 0.28), Circle(0.42, 0.1, 0.03)))  # a gate on the shortcut: a switch
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

    def code(self, p, in_shapes):
        c, out, stride = in_shapes[0][0], p["channels"], p["stride"]
        return LayerCode(call("HighwayBlock", c, out, stride=stride, gate_bias=p["gate_bias"],
                              shortcut=shortcut_kind(c, out, stride, p["shortcut"]),
                              defaults={"stride": 1, "gate_bias": -1.0, "shortcut": "identity"}), needs=(CODE,))
