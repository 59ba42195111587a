"""ResNeXt block (Xie et al. 2017): a bottleneck whose 3×3 is split into C groups of width d."""
from explorer.blocks.base import CompositeBlock
from explorer.blocks.glyph import Line, Rect, plus, skip_arc
from explorer.blocks.parts import (BN_EPS, FIXUP_BLOCKS, PAD_SPLIT, RESIDUAL_ADD, SE_REDUCTION, SHORTCUT, STRIDE_ON,
                                   init_param)
from explorer.blocks.registry import get_block, register
from explorer.graph.params import Int, ParamSet


@register
class ResNeXtBlock(CompositeBlock):
    name = "resnext"
    color = "#8e24aa"
    glyph = (*(s for y in (0.34, 0.56, 0.78)  # parallel grouped paths
               for s in (Rect(0.28, y - 0.07, 0.36, 0.13), Line(0.12, 0.56, 0.28, y), Line(0.64, y, 0.8, 0.56))),
             *skip_arc(0.12, 0.86, 0.56, 0.0), *plus(0.86, 0.56, 0.08))
    title = "ResNeXt (grouped)"
    help = ("Aggregated transformations: C parallel paths of width d, implemented as one grouped 3×3 conv. "
            "More paths (cardinality) help more than more width or depth at the same cost.")
    params = ParamSet((Int("cardinality", 32, 1, 1024, "number of groups C"),
                       Int("group_width", 4, 1, 1024, "channels per group d; the 3×3 conv has C·d channels"),
                       Int("out_channels", 256, 1, 16384, "channels after the expanding 1×1"),
                       Int("stride", 1, 1, 4, "stride of the grouped conv and the shortcut"),
                       SHORTCUT, SE_REDUCTION, init_param(), FIXUP_BLOCKS, STRIDE_ON, PAD_SPLIT, BN_EPS))
    face = ("cardinality", "group_width", "out_channels", "stride")
    shortcut_add = RESIDUAL_ADD

    def expand(self, p, b, x):
        return get_block("bottleneck").expand(self._bottleneck(p), b, x)

    def code(self, p, in_shapes):
        return get_block("bottleneck").code(self._bottleneck(p), in_shapes)  # torchvision writes ResNeXt so too

    @staticmethod
    def _bottleneck(p):
        return {"width": p["cardinality"] * p["group_width"], "groups": p["cardinality"],
                "out_channels": p["out_channels"], "stride": p["stride"], "shortcut": p["shortcut"],
                "se_reduction": p["se_reduction"], "init": p["init"], "fixup_blocks": p["fixup_blocks"],
                **{k: p[k] for k in ("stride_on", "pad_split", "bn_eps")}}
