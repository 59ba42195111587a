"""Dense block (Huang et al. 2017): every layer sees the concatenation of all earlier feature maps."""
from explorer.blocks.base import CompositeBlock
from explorer.blocks.glyph import Curve, Rect
from explorer.blocks.code import LayerCode, Snippet, call
from explorer.blocks.primitives.conv import CONV
from explorer.blocks.parts import bn_act_conv
from explorer.blocks.registry import register
from explorer.graph.params import Bool, Float, Int, ParamSet

CODE = Snippet("DenseBlock", '''
class DenseBlock(nn.Module):
    """``layers`` layers, each adding ``growth_rate`` feature maps to the concatenation of all before it
    (Huang et al. 2017). Layer i: BN-ReLU-1×1 conv to bn_size·k (the bottleneck), then BN-ReLU-3×3 conv to k."""

    def __init__(self, in_channels, growth_rate, layers, bottleneck=True, bn_size=4, dropout=0.0):
        super().__init__()
        self.layers, self.bottleneck = layers, bottleneck
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        channels = in_channels
        for i in range(1, layers + 1):
            c = channels
            if bottleneck:
                self.add_module(f"bn{i}a", nn.BatchNorm2d(c))
                self.add_module(f"conv{i}a", conv(c, bn_size * growth_rate, 1))
                c = bn_size * growth_rate
            self.add_module(f"bn{i}b", nn.BatchNorm2d(c))
            self.add_module(f"conv{i}b", conv(c, growth_rate, 3))
            channels += growth_rate

    def forward(self, x):
        for i in range(1, self.layers + 1):
            h = x
            if self.bottleneck:
                h = getattr(self, f"conv{i}a")(F.relu(getattr(self, f"bn{i}a")(h)))
            h = getattr(self, f"conv{i}b")(F.relu(getattr(self, f"bn{i}b")(h)))
            x = torch.cat([x, self.dropout(h)], 1)
        return x
''', needs=(CONV,))


_LAYERS_X = (0.12, 0.38, 0.64, 0.9)  # the glyph's four layers


@register
class DenseBlock(CompositeBlock):
    name = "dense"
    color = "#f4511e"
    glyph = (*(Rect(x - 0.06, 0.6, 0.12, 0.3) for x in _LAYERS_X),  # every layer feeds every later one
             *(Curve((a, 0.6), (a, 0.6 - (b - a) * 0.6), (b, 0.6 - (b - a) * 0.6), (b, 0.6))
               for i, a in enumerate(_LAYERS_X) for b in _LAYERS_X[i + 1:]))
    twin_note = "keeps its concatenations (it has no identity shortcut to remove)"
    title = "Dense block"
    help = ("L layers, each adding k (growth rate) new feature maps to the running concatenation: "
            "features are reused instead of re-learned. Follow it with a transition to shrink.")
    params = ParamSet((Int("growth_rate", 12, 1, 1024, "k: channels each layer adds"),
                       Int("layers", 4, 1, 256, "number of layers in the block"),
                       Bool("bottleneck", True, "1×1 conv to bn_size·k channels before each 3×3 (DenseNet-B)"),
                       Int("bn_size", 4, 1, 16, "bottleneck width as a multiple of k"),
                       Float("dropout", 0.0, 0.0, 0.9, "dropout after each layer's 3×3 conv")))
    face = ("growth_rate", "layers")

    def expand(self, p, b, x):
        k = p["growth_rate"]
        for i in range(1, p["layers"] + 1):
            h = x
            if p["bottleneck"]:
                h = bn_act_conv(b, h, p["bn_size"] * k, 1, tag=f"{i}a")
            h = bn_act_conv(b, h, k, 3, tag=f"{i}b")
            if p["dropout"] > 0:
                h = b.add("dropout", h, node_id=f"dropout{i}", p=p["dropout"])
            x = b.add("concat", x, h, node_id=f"concat{i}")
        return x

    def code(self, p, in_shapes):
        return LayerCode(call("DenseBlock", in_shapes[0][0], p["growth_rate"], p["layers"], bottleneck=p["bottleneck"],
                              bn_size=p["bn_size"], dropout=p["dropout"],
                              defaults={"bottleneck": True, "bn_size": 4, "dropout": 0.0}), needs=(CODE,))
