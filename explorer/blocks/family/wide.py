"""Wide residual block (Zagoruyko & Komodakis 2016): a pre-activation basic block k times wider, with dropout."""
from explorer.blocks.base import CompositeBlock
from explorer.blocks.glyph import Rect, plus, skip_arc
from explorer.blocks.parts import RESIDUAL_ADD, SE_REDUCTION, SHORTCUT
from explorer.blocks.family.preact import INIT
from explorer.blocks.registry import get_block, register
from explorer.graph.params import Float, Int, ParamSet


@register
class WideBlock(CompositeBlock):
    name = "wide"
    color = "#43a047"
    glyph = (Rect(0.12, 0.42, 0.28, 0.42), Rect(0.46, 0.42, 0.28, 0.42), *skip_arc(0.06, 0.86, 0.52, 0.08),
             *plus(0.86, 0.63))  # two wide layers
    title = "Wide residual"
    help = ("Fewer, wider blocks: a pre-activation basic block with channels × k and dropout between the convs. "
            "WRN-28-10 beats a 1001-layer thin ResNet and trains several times faster.")
    params = ParamSet((Int("channels", 16, 1, 4096, "base channels before widening (16, 32, 64 in WRN)"),
                       Int("widen_factor", 4, 1, 64, "k: output channels = channels × k"),
                       Int("stride", 1, 1, 4, "stride of the first conv and the shortcut"),
                       Float("dropout", 0.3, 0.0, 0.9, "dropout between the two convs"),
                       SHORTCUT, SE_REDUCTION, INIT))
    face = ("channels", "widen_factor", "stride", "dropout")
    shortcut_add = RESIDUAL_ADD

    def expand(self, p, b, x):
        return get_block("preact").expand(self._preact(p), b, x)

    def code(self, p, in_shapes):
        return get_block("preact").code(self._preact(p), in_shapes)

    @staticmethod
    def _preact(p):
        return {"out_channels": p["channels"] * p["widen_factor"], "stride": p["stride"], "variant": "basic",
                "width": 0, "dropout": p["dropout"], "shortcut": p["shortcut"], "se_reduction": p["se_reduction"], "init": p["init"], "stride_on": "3x3",
                "shortcut_input": "preactivated", "pad_split": "end", "bn_eps": 1e-5}
