"""Pre-activation residual block (He et al. 2016): BN-ReLU-conv order and a clean identity path.

Basic (two 3×3) or bottleneck (1×1, 3×3, 1×1) variant; optional dropout between the convs, which is
what the wide block (wide.py) uses.
"""
from explorer.blocks.base import CompositeBlock
from explorer.blocks.glyph import Circle, Line, Rect, plus
from explorer.blocks.code import LayerCode, Snippet, call
from explorer.blocks.parts import (BN_EPS, PAD_SPLIT, RESIDUAL, RESIDUAL_ADD, SE_REDUCTION, SHORTCUT, STRIDE_ON,
                                   bn_act_conv, branch_scale, conventions_default, eps_args, init_param,
                                   residual_add, shortcut, shortcut_kind, squeeze_excite)
from explorer.blocks.registry import register
from explorer.graph.params import Choice, Float, Int, ParamSet

CODE = Snippet("PreActBlock", '''
class PreActBlock(Residual):
    """BN-ReLU before each conv and nothing after the addition (He et al. 2016). The wide block
    (Zagoruyko & Komodakis 2016) is the basic variant, widened, with dropout between the convs."""

    def __init__(self, in_channels, out_channels, stride=1, bottleneck=False, width=0, dropout=0.0,
                 shortcut="identity", se_reduction=0):
        super().__init__()
        self.bottleneck = bottleneck
        self.bn_in = nn.BatchNorm2d(in_channels)
        if bottleneck:
            width = width or max(1, out_channels // 4)
            self.conv1 = conv(in_channels, width, 1)
            self.bn2 = nn.BatchNorm2d(width)
            self.conv2 = conv(width, width, 3, stride)
            self.bn3 = nn.BatchNorm2d(width)
            self.conv3 = conv(width, out_channels, 1)
        else:
            self.conv1 = conv(in_channels, out_channels, 3, stride)
            self.bn2 = nn.BatchNorm2d(out_channels)
            self.conv2 = conv(out_channels, out_channels, 3)
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.add_squeeze_excite(out_channels, se_reduction)
        self.add_shortcut(shortcut, in_channels, out_channels, stride, bn=False)

    def forward(self, x):
        pre = F.relu(self.bn_in(x))
        out = self.conv1(pre)
        if self.bottleneck:
            out = self.dropout(self.conv2(F.relu(self.bn2(out))))
            out = self.conv3(F.relu(self.bn3(out)))
        else:
            out = self.conv2(self.dropout(F.relu(self.bn2(out))))
        out = self.squeeze_excite(out)
        # The identity carries x itself; a projection or zero-pad sees the pre-activated input, as in the authors' code.
        return self.residual(out, x if self.shortcut_kind == "identity" else pre)
''', needs=(RESIDUAL,))


# Fixup is defined for post-activation blocks (Zhang et al. 2019); a pre-activation branch ends in a conv.
INIT = init_param(("default", "zero_gamma", "skipinit"), zero_gamma="zero_gamma = the branch's last conv starts at "
                  "0 (it ends in a conv, not a BN: the same start as Goyal et al.'s γ = 0)")


SHORTCUT_INPUT = Choice("shortcut_input", "preactivated", ("preactivated", "raw"),
                        "what a projection or zero-pad shortcut sees: the pre-activated input BN-ReLU(x) (ours, the "
                        "authors' code) or x itself (bearpaw, fb.resnet.torch preresnet.lua)")


@register
class PreActBlock(CompositeBlock):
    name = "preact"
    color = "#00897b"
    glyph = (*(s for x in (0.2, 0.54) for s in (Circle(x, 0.62, 0.05), Rect(x + 0.08, 0.45, 0.14, 0.34))),  # BN-ReLU, conv
             Line(0.05, 0.25, 0.95, 0.25), Line(0.05, 0.25, 0.05, 0.62), Line(0.86, 0.25, 0.86, 0.52),  # clean path
             *plus(0.86, 0.62))
    title = "Pre-activation residual"
    help = ("BN and ReLU come before each conv, and nothing follows the addition, so the identity path "
            "carries the signal unchanged from block to block: 1000-layer networks still train.")
    params = ParamSet((Int("out_channels", 16, 1, 16384, "output channels"),
                       Int("stride", 1, 1, 4, "stride of the (3×3) conv and the shortcut"),
                       Choice("variant", "basic", ("basic", "bottleneck"), "two 3×3 convs, or 1×1-3×3-1×1"),
                       Int("width", 0, 0, 8192, "bottleneck width; 0 = out_channels / 4"),
                       Float("dropout", 0.0, 0.0, 0.9, "dropout between the convs (Wide ResNet uses 0.3)"),
                       SHORTCUT, SE_REDUCTION, INIT, STRIDE_ON, SHORTCUT_INPUT, PAD_SPLIT, BN_EPS))
    face = ("out_channels", "stride", "variant")
    shortcut_add = RESIDUAL_ADD

    def recognise(self, site):
        # BN-ReLU-conv twice (basic) or three times (bottleneck), nothing after the Add; the projection may see
        # the pre-activated input or x itself. The expansion check rejects what does not fit.
        if site.after_add:
            return
        last = site.convs[-1]["out_channels"] if site.convs else 0
        inputs = ("preactivated", "raw")
        if len(site.convs) == 2:
            for source in inputs:
                yield dict(out_channels=last, stride=site.convs[0]["stride"], variant="basic", shortcut=site.shortcut,
                           shortcut_input=source)
        elif len(site.convs) == 3:
            reduce, middle, _ = site.convs
            on, stride = ("1x1", reduce["stride"]) if reduce["stride"] > 1 else ("3x3", middle["stride"])
            for source in inputs:
                yield dict(out_channels=last, stride=stride, variant="bottleneck", width=reduce["out_channels"],
                           stride_on=on, shortcut=site.shortcut, shortcut_input=source)

    def expand(self, p, b, x):
        out, stride, eps = p["out_channels"], p["stride"], p["bn_eps"]
        pre = b.act(b.bn(x, node_id="bn_in", **eps_args(eps)), node_id="relu_in")
        zero = p["init"] == "zero_gamma"  # the branch ends in a conv, not a BN: that conv starts at 0
        if p["variant"] == "basic":
            r = b.conv(pre, out, 3, stride, node_id="conv1")
            r = b.act(b.bn(r, node_id="bn2", **eps_args(eps)), node_id="relu2")
            r = _dropout(b, r, p["dropout"])
            r = b.conv(r, out, 3, node_id="conv2", **({"init_gain": 0.0} if zero else {}))
        else:
            width = p["width"] or max(1, out // 4)
            s1, s2 = (stride, 1) if p["stride_on"] == "1x1" else (1, stride)
            r = b.conv(pre, width, 1, s1, node_id="conv1")
            r = bn_act_conv(b, r, width, 3, s2, tag="2", eps=eps)
            r = _dropout(b, r, p["dropout"])
            r = bn_act_conv(b, r, out, 1, tag="3", zero=zero, eps=eps)
        r = squeeze_excite(b, r, p["se_reduction"])
        r = branch_scale(b, r, p["init"])
        # The projection sees the pre-activated input, as in the authors' code (or x itself, as bearpaw's and
        # fb.resnet.torch's preresnet.lua do: shortcut_input "raw"); the identity always sees x itself.
        same = b.channels(x) == out and stride == 1 and p["shortcut"] != "projection"
        source = x if same or p["shortcut_input"] == "raw" else pre
        return residual_add(b, r, shortcut(b, source, out, stride, p["shortcut"], bn=False, split=p["pad_split"]))

    def code(self, p, in_shapes):
        if p["init"] != "default" or not conventions_default(p):
            return None  # written out from its expansion
        c, out, stride = in_shapes[0][0], p["out_channels"], p["stride"]
        bottleneck = p["variant"] == "bottleneck"
        return LayerCode(call("PreActBlock", c, out, stride=stride, bottleneck=bottleneck,
                              width=p["width"] if bottleneck else 0, dropout=p["dropout"],
                              shortcut=shortcut_kind(c, out, stride, p["shortcut"]), se_reduction=p["se_reduction"],
                              defaults={"stride": 1, "bottleneck": False, "width": 0, "dropout": 0.0,
                                        "shortcut": "identity", "se_reduction": 0}), needs=(CODE,))


def _dropout(b, x, rate):
    return b.add("dropout", x, node_id="dropout", p=rate) if rate > 0 else x
