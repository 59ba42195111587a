"""Dual path block (Chen et al. 2017): a ResNeXt residual path and a DenseNet path in one block.

The tensor between blocks is [residual part (residual_channels) | dense part]; each block adds its
residual output to the first part and appends ``increment`` new channels to the second.
"""
from explorer.blocks.base import CompositeBlock
from explorer.blocks.glyph import Line, Rect, plus
from explorer.blocks.code import LayerCode, Snippet, call
from explorer.blocks.primitives.conv import CONV
from explorer.blocks.parts import BN_EPS, DEFAULT_EPS, bn_act_conv
from explorer.blocks.registry import register
from explorer.graph.params import Choice, Int, ParamSet

CODE = Snippet("DualPathBlock", '''
class DualPathBlock(nn.Module):
    """A grouped bottleneck shared by a residual path and a dense path (Chen et al. 2017). The tensor between
    blocks is [residual part | dense part]: the residual part is added to, the dense part grows by ``increment``."""

    def __init__(self, in_channels, residual_channels, increment, width, groups, stride=1, project=True, eps=1e-5):
        super().__init__()
        self.residual_channels, self.project = residual_channels, project
        if project:  # the first block of a stage makes both parts from its input
            self.bn_proj = nn.BatchNorm2d(in_channels, eps=eps)
            self.conv_proj = conv(in_channels, residual_channels + 2 * increment, 1, stride)
        self.bn1 = nn.BatchNorm2d(in_channels, eps=eps)
        self.conv1 = conv(in_channels, width, 1)
        self.bn2 = nn.BatchNorm2d(width, eps=eps)
        self.conv2 = conv(width, width, 3, stride, groups=groups)
        self.bn3 = nn.BatchNorm2d(width, eps=eps)
        self.conv3 = conv(width, residual_channels + increment, 1)

    def forward(self, x):
        skip = self.conv_proj(F.relu(self.bn_proj(x))) if self.project else x
        out = self.conv1(F.relu(self.bn1(x)))
        out = self.conv2(F.relu(self.bn2(out)))
        out = self.conv3(F.relu(self.bn3(out)))
        r = self.residual_channels
        dense = torch.cat([skip[:, r:], out[:, r:]], 1)
        return torch.cat([skip[:, :r] + out[:, :r], dense], 1)
''', needs=(CONV,))


@register
class DualPathBlock(CompositeBlock):
    name = "dual_path"
    color = "#6d4c41"
    glyph = (Rect(0.3, 0.4, 0.3, 0.24), Line(0.05, 0.3, 0.86, 0.3), *plus(0.86, 0.3, 0.08),  # residual track, add
             Line(0.05, 0.82, 0.7, 0.82), Rect(0.7, 0.72, 0.06, 0.2), Rect(0.78, 0.72, 0.06, 0.2),  # dense track, concat
             Line(0.45, 0.64, 0.45, 0.82))
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
                              "or split an existing [residual | dense] tensor; auto decides from shapes"),
                       BN_EPS))
    face = ("residual_channels", "increment", "width", "stride")

    def expand(self, p, b, x):
        res, inc, stride, eps = p["residual_channels"], p["increment"], p["stride"], p["bn_eps"]
        if _projects(p, b.channels(x)):
            s = bn_act_conv(b, x, res + 2 * inc, 1, stride, tag="_proj", eps=eps)
        else:
            s = x
        s_res = b.add("channel_slice", s, node_id="split_res", start=0, stop=res)
        s_dense = b.add("channel_slice", s, node_id="split_dense", start=res, stop=0)
        o = bn_act_conv(b, x, p["width"], 1, tag="1", eps=eps)
        o = bn_act_conv(b, o, p["width"], 3, stride, p["groups"], tag="2", eps=eps)
        o = bn_act_conv(b, o, res + inc, 1, tag="3", eps=eps)
        o_res = b.add("channel_slice", o, node_id="out_res", start=0, stop=res)
        o_dense = b.add("channel_slice", o, node_id="out_dense", start=res, stop=0)
        r = b.add("add", s_res, o_res, node_id="add")
        d = b.add("concat", s_dense, o_dense, node_id="concat_dense")
        return b.add("concat", r, d, node_id="concat")

    def code(self, p, in_shapes):
        c = in_shapes[0][0]
        return LayerCode(call("DualPathBlock", c, p["residual_channels"], p["increment"], p["width"], p["groups"],
                              stride=p["stride"], project=_projects(p, c), eps=p["bn_eps"],
                              defaults={"stride": 1, "project": True, "eps": DEFAULT_EPS}), needs=(CODE,))


def _projects(p, in_channels: int) -> bool:
    """Whether the input is projected into residual and dense parts (else it is split as it is)."""
    return p["entry"] == "projection" or (p["entry"] == "auto" and (p["stride"] != 1 or in_channels <= p["residual_channels"]))
