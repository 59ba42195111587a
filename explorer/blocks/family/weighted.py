"""Weighted residual block (Shen et al. 2016): ReLU moved into the branch, branch scaled by a learned λ."""
from explorer.blocks.base import CompositeBlock
from explorer.blocks.parts import residual_add, SHORTCUT, conv_bn_act, shortcut
from explorer.blocks.registry import register
from explorer.graph.params import Float, Int, ParamSet


@register
class WeightedResidualBlock(CompositeBlock):
    name = "weighted"
    color = "#d81b60"
    glyph = "scaled_skip"
    title = "Weighted residual"
    help = ("y = x + λ·F(x) with F = ReLU-conv-BN-ReLU-conv-BN and a learnable λ starting small, so a very "
            "deep stack starts close to identity and the shortcut stays free of ReLU.")
    params = ParamSet((Int("channels", 16, 1, 8192, "output channels"),
                       Int("stride", 1, 1, 4, "stride of the first conv and the shortcut"),
                       Float("init_weight", 0.1, -10, 10, "initial λ"),
                       SHORTCUT))
    face = ("channels", "stride", "init_weight")

    def expand(self, p, b, x):
        r = b.act(x, node_id="relu_in")
        r = conv_bn_act(b, r, p["channels"], 3, p["stride"], tag="1")
        r = conv_bn_act(b, r, p["channels"], 3, tag="2", act=False)
        r = b.add("scale", r, node_id="weight", init=p["init_weight"])
        return residual_add(b, r, shortcut(b, x, p["channels"], p["stride"], p["shortcut"]))
