"""Dual path block (Chen et al. 2017): a ResNeXt residual path and a DenseNet path in one block.

The tensor between blocks is [residual part (residual_channels) | dense part]; each block adds its
residual output to the first part and appends ``increment`` new channels to the second.
"""
from explorer.blocks.base import CompositeBlock
from explorer.blocks.parts import bn_act_conv
from explorer.blocks.registry import register
from explorer.graph.params import Choice, Int, ParamSet


@register
class DualPathBlock(CompositeBlock):
    name = "dual_path"
    color = "#6d4c41"
    glyph = "dual_paths"
    twin_note = "keeps its concatenations (it has no identity shortcut to remove)"
    title = "Dual path (DPN)"
    help = ("Residual paths re-use features, dense paths explore new ones; DPN shares one grouped bottleneck "
            "between both and splits its output.")
    params = ParamSet((Int("residual_channels", 256, 1, 16384, "width of the residual part"),
                       Int("increment", 16, 1, 4096, "channels the dense part grows by per block"),
                       Int("width", 96, 1, 8192, "bottleneck width of the grouped 3×3"),
                       Int("groups", 32, 1, 1024, "groups of the 3×3 conv"),
                       Int("stride", 1, 1, 4, "stride (2 starts a new stage)"),
                       Choice("entry", "auto", ("auto", "projection", "split"),
                              "how the input becomes residual+dense parts: projection (first block of a stage) "
                              "or split an existing [residual | dense] tensor; auto decides from shapes")))
    face = ("residual_channels", "increment", "width", "stride")

    def expand(self, p, b, x):
        res, inc, stride = p["residual_channels"], p["increment"], p["stride"]
        project = p["entry"] == "projection" or (p["entry"] == "auto" and (stride != 1 or b.channels(x) <= res))
        if project:
            s = bn_act_conv(b, x, res + 2 * inc, 1, stride, tag="_proj")
        else:
            s = x
        s_res = b.add("channel_slice", s, node_id="split_res", start=0, stop=res)
        s_dense = b.add("channel_slice", s, node_id="split_dense", start=res, stop=0)
        o = bn_act_conv(b, x, p["width"], 1, tag="1")
        o = bn_act_conv(b, o, p["width"], 3, stride, p["groups"], tag="2")
        o = bn_act_conv(b, o, res + inc, 1, tag="3")
        o_res = b.add("channel_slice", o, node_id="out_res", start=0, stop=res)
        o_dense = b.add("channel_slice", o, node_id="out_dense", start=res, stop=0)
        r = b.add("add", s_res, o_res, node_id="add")
        d = b.add("concat", s_dense, o_dense, node_id="concat_dense")
        return b.add("concat", r, d, node_id="concat")
