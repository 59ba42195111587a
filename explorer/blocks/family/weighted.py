"""Weighted residual block (Shen et al. 2016): ReLU moved into the branch, branch scaled by a learned λ."""
from explorer.blocks.base import CompositeBlock
from explorer.blocks.glyph import INK, Poly, residual
from explorer.blocks.code import LayerCode, Snippet, call
from explorer.blocks.parts import RESIDUAL_ADD, RESIDUAL, SHORTCUT, conv_bn_act, residual_add, shortcut, shortcut_kind
from explorer.blocks.primitives.channel_ops import SCALE
from explorer.blocks.registry import register
from explorer.graph.params import Float, Int, ParamSet

CODE = Snippet("WeightedBlock", '''
class WeightedBlock(Residual):
    """y = shortcut(x) + λ·F(x), F = ReLU-conv-BN-ReLU-conv-BN, λ learnable and small at first (Shen et al. 2016)."""

    def __init__(self, in_channels, channels, stride=1, init_weight=0.1, shortcut="identity"):
        super().__init__()
        self.conv1 = conv(in_channels, channels, 3, stride)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = conv(channels, channels, 3)
        self.bn2 = nn.BatchNorm2d(channels)
        self.weight = Scale(init_weight)
        self.add_shortcut(shortcut, in_channels, channels, stride)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(F.relu(x))))
        out = self.weight(self.bn2(self.conv2(out)))
        return self.residual(out, x)
''', needs=(RESIDUAL, SCALE))


@register
class WeightedResidualBlock(CompositeBlock):
    name = "weighted"
    color = "#d81b60"
    glyph = residual((Poly(((0.76, 0.5), (0.8, 0.44), (0.84, 0.5), (0.8, 0.56)), fill=INK),))  # the learnable scale
    title = "Weighted residual"
    help = ("y = x + λ·F(x) with F = ReLU-conv-BN-ReLU-conv-BN and a learnable λ starting small, so a very "
            "deep stack starts close to identity and the shortcut stays free of ReLU.")
    params = ParamSet((Int("channels", 16, 1, 8192, "output channels"),
                       Int("stride", 1, 1, 4, "stride of the first conv and the shortcut"),
                       Float("init_weight", 0.1, -10, 10, "initial λ"),
                       SHORTCUT))
    face = ("channels", "stride", "init_weight")
    shortcut_add = RESIDUAL_ADD

    def expand(self, p, b, x):
        r = b.act(x, node_id="relu_in")
        r = conv_bn_act(b, r, p["channels"], 3, p["stride"], tag="1")
        r = conv_bn_act(b, r, p["channels"], 3, tag="2", act=False)
        r = b.add("scale", r, node_id="weight", init=p["init_weight"])
        return residual_add(b, r, shortcut(b, x, p["channels"], p["stride"], p["shortcut"]))

    def code(self, p, in_shapes):
        c, out, stride = in_shapes[0][0], p["channels"], p["stride"]
        return LayerCode(call("WeightedBlock", c, out, stride=stride, init_weight=p["init_weight"],
                              shortcut=shortcut_kind(c, out, stride, p["shortcut"]),
                              defaults={"stride": 1, "init_weight": 0.1, "shortcut": "identity"}), needs=(CODE,))
