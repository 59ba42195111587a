"""Basic residual block (He et al. 2015): y = ReLU(F(x) + shortcut(x)), F = two 3×3 convs."""
from explorer.blocks.base import CompositeBlock
from explorer.blocks.glyph import Line, residual
from explorer.blocks.code import LayerCode, Snippet, call
from explorer.blocks.parts import (BN_EPS, FIXUP_BLOCKS, PAD_SPLIT, RESIDUAL, RESIDUAL_ADD, SE_REDUCTION, SHORTCUT,
                                   branch_scale, conv_bn_act, conventions_default, fixup_gain, init_param,
                                   residual_add, scalar_bias, shortcut, shortcut_kind, squeeze_excite)
from explorer.blocks.registry import register
from explorer.graph.params import Int, ParamSet

CODE = Snippet("BasicBlock", '''
class BasicBlock(Residual):
    """Two 3×3 convs and a shortcut (He et al. 2015): y = relu(F(x) + shortcut(x))."""

    def __init__(self, in_channels, channels, stride=1, shortcut="identity", se_reduction=0):
        super().__init__()
        self.conv1 = conv(in_channels, channels, 3, stride)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = conv(channels, channels, 3)
        self.bn2 = nn.BatchNorm2d(channels)
        self.add_squeeze_excite(channels, se_reduction)
        self.add_shortcut(shortcut, in_channels, channels, stride)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.squeeze_excite(self.bn2(self.conv2(out)))
        return F.relu(self.residual(out, x))
''', needs=(RESIDUAL,))


@register
class BasicBlock(CompositeBlock):
    name = "basic"
    color = "#1e88e5"
    glyph = residual((Line(0.05, 0.62, 0.22, 0.62), Line(0.68, 0.62, 0.78, 0.62)))
    title = "Basic residual"
    help = ("Two 3×3 convs plus an identity shortcut, so the block learns a residual F(x) = H(x) − x. "
            "When the shape changes the shortcut zero-pads or projects.")
    params = ParamSet((Int("channels", 16, 1, 8192, "output channels"),
                       Int("stride", 1, 1, 4, "stride of the first conv and of the shortcut"),
                       SHORTCUT, SE_REDUCTION, init_param(), FIXUP_BLOCKS, PAD_SPLIT, BN_EPS))
    face = ("channels", "stride", "shortcut")
    shortcut_add = RESIDUAL_ADD

    def recognise(self, site):
        if site.after_add and len(site.convs) == 2:  # conv-bn-relu, conv-bn; the expansion check does the rest
            first = site.convs[0]
            yield dict(channels=first["out_channels"], stride=first["stride"], shortcut=site.shortcut)

    def expand(self, p, b, x):
        if p["init"] == "fixup":
            return _fixup(p, b, x)
        eps = p["bn_eps"]
        r = conv_bn_act(b, x, p["channels"], 3, p["stride"], tag="1", eps=eps)
        r = conv_bn_act(b, r, p["channels"], 3, tag="2", act=False, zero_gamma=p["init"] == "zero_gamma", eps=eps)
        r = squeeze_excite(b, r, p["se_reduction"])
        r = branch_scale(b, r, p["init"])
        y = residual_add(b, r, shortcut(b, x, p["channels"], p["stride"], p["shortcut"], split=p["pad_split"],
                                        eps=eps))
        return b.act(y, node_id="relu_out")

    def code(self, p, in_shapes):
        if p["init"] != "default" or not conventions_default(p):
            return None  # written out from its expansion
        c, out, stride = in_shapes[0][0], p["channels"], p["stride"]
        return LayerCode(call("BasicBlock", c, out, stride=stride, shortcut=shortcut_kind(c, out, stride, p["shortcut"]),
                              se_reduction=p["se_reduction"], defaults={"stride": 1, "shortcut": "identity",
                                                                        "se_reduction": 0}), needs=(CODE,))


def _fixup(p, b, x):
    """Zhang et al.'s FixupBasicBlock: no BN; biases before each conv and activation, a multiplier at the end,
    conv1 scaled by L^(-1/2), conv2 at 0; the shortcut sees x + bias1a."""
    c, stride = p["channels"], p["stride"]
    xa = scalar_bias(b, x, "1a")
    r = b.conv(xa, c, 3, stride, node_id="conv1", init_gain=fixup_gain(p, 2))
    r = b.act(scalar_bias(b, r, "1b"), node_id="relu1")
    r = b.conv(scalar_bias(b, r, "2a"), c, 3, node_id="conv2", init_gain=0.0)
    r = scalar_bias(b, b.add("scale", r, node_id="fixup_scale", init=1.0), "2b")
    r = squeeze_excite(b, r, p["se_reduction"])
    y = residual_add(b, r, shortcut(b, xa, c, stride, p["shortcut"], bn=False, split=p["pad_split"]))
    return b.act(y, node_id="relu_out")
