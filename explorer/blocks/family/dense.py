"""Dense block (Huang et al. 2017): every layer sees the concatenation of all earlier feature maps."""
from explorer.blocks.base import CompositeBlock
from explorer.blocks.parts import bn_act_conv
from explorer.blocks.registry import register
from explorer.graph.params import Bool, Float, Int, ParamSet


@register
class DenseBlock(CompositeBlock):
    name = "dense"
    color = "#f4511e"
    glyph = "concat_stack"
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
