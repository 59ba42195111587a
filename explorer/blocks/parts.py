"""Pieces shared by the residual blocks: the shortcut decision (in one place) and squeeze-excitation,
as graph expansions and as the code an exported module writes for them."""
from __future__ import annotations

from explorer.blocks.code import Snippet
from explorer.blocks.primitives.channel_ops import ZERO_PAD
from explorer.blocks.primitives.conv import CONV
from explorer.graph.params import Choice, Float, Int, Param
from explorer.graph.shapes import ShapeError, fmt_shape

SHORTCUTS = ("auto", "identity", "zero_pad", "projection", "none")
SHORTCUT = Choice("shortcut", "auto", SHORTCUTS,
                  "skip path when the shape changes: auto = identity if it fits else projection; "
                  "zero_pad = parameter-free (ResNet option A); projection = 1×1 conv (option B); "
                  "none = no shortcut at all (the block's plain twin)")
SE_REDUCTION = Int("se_reduction", 0, 0, 256, "squeeze-excitation on the residual branch: channel reduction "
                   "ratio (16 in Hu et al.), 0 = off", label="SE reduction")

# The published codebases differ in these details; ours are the defaults, the others are options so that a
# preset can be built exactly as each reference builds it (and load its weights).
PAD_SPLIT = Choice("pad_split", "end", ("end", "both"), "zero-pad shortcut: the new channels appended at the end "
                   "(ours, fb.resnet.torch) or split before and after (akamaster's CIFAR ResNets)")
STRIDE_ON = Choice("stride_on", "3x3", ("3x3", "1x1"), "bottleneck: which conv carries the stride, the 3×3 "
                   "(ours, torchvision, fb.resnet.torch) or the first 1×1 (the original Caffe ResNets, the authors' "
                   "resnet-1k-layers, timm's legacy SE-ResNets)")
BN_EPS = Float("bn_eps", 1e-5, 1e-12, 1.0, "eps of the block's BatchNorms (timm's DPN uses 1e-3)", label="BN eps")
DEFAULT_EPS = 1e-5


def eps_args(eps: float) -> dict:
    """A BatchNorm node's parameters for ``eps``: none when it is the default (the node stays as it was)."""
    return {} if eps == DEFAULT_EPS else {"eps": eps}


def conventions_default(p: dict) -> bool:
    """Whether a block uses our conventions throughout (its hand-written export class covers only those)."""
    return (p.get("pad_split", "end") == "end" and p.get("stride_on", "3x3") == "3x3"
            and p.get("bn_eps", DEFAULT_EPS) == DEFAULT_EPS and p.get("shortcut_input", "preactivated") == "preactivated")


# How a residual branch starts, so that a network trains without normalisation (or trains faster with it).
INITS = ("default", "zero_gamma", "skipinit", "fixup")
INIT_HELP = {"default": "default = He initialisation",
             "zero_gamma": "zero_gamma = the branch's last BN starts with γ = 0 (Goyal et al. 2017)",
             "skipinit": "skipinit = a scalar α = 0 multiplies the branch (SkipInit, De & Smith 2020; ReZero)",
             "fixup": "fixup = no BN; scalar biases before each conv and activation, a multiplier, the last conv "
                      "at 0 and the others scaled by L^(-1/(2m-2)) (Zhang et al. 2019)"}


def init_param(choices: tuple[str, ...] = INITS, zero_gamma: str = "") -> Param:
    """The ``init`` choice of a residual block; ``zero_gamma`` rewords that choice where the branch ends in a conv."""
    parts = [INIT_HELP[c] if not (c == "zero_gamma" and zero_gamma) else zero_gamma for c in choices]
    return Choice("init", "default", choices, "how the residual branch starts: " + "; ".join(parts))


FIXUP_BLOCKS = Int("fixup_blocks", 1, 1, 100000, "Fixup's L: residual branches in the whole network (set by "
                   "`with_init`; the branch's convs but the last start scaled by L^(-1/(2m-2)))", label="Fixup L")


def fixup_gain(p: dict, layers: int) -> float:
    """Zhang et al.'s scale for the first ``layers`` − 1 convs of a branch of ``layers`` convs."""
    return float(p["fixup_blocks"]) ** (-1.0 / (2 * layers - 2))


def scalar_bias(b, x: str, tag: str) -> str:
    return b.add("bias", x, node_id=f"bias{tag}")


def branch_scale(b, r: str, init: str) -> str:
    """SkipInit: the branch times a learnable α that starts at 0; any other init leaves the branch as it is."""
    return b.add("scale", r, node_id="skip_alpha", init=0.0) if init == "skipinit" else r


def shortcut_kind(in_channels: int, out_channels: int, stride: int, kind: str) -> str:
    """What a shortcut setting becomes for this change of shape: "none", "identity", "zero_pad" or
    "projection" ("auto" resolved; a zero-pad that would have to drop channels is refused by ``shortcut``)."""
    if kind == "none":
        return "none"
    same = in_channels == out_channels and stride == 1
    if kind == "identity" or (same and kind != "projection"):
        return "identity"
    return "zero_pad" if kind == "zero_pad" else "projection"


def shortcut(b, x: str, out_channels: int, stride: int, kind: str, bn: bool = True, split: str = "end",
             eps: float = DEFAULT_EPS) -> str | None:
    """The skip path from ``x`` to a tensor of ``out_channels`` at ``stride``; identity when it can be,
    None for kind "none". ``split``: where a zero-pad puts its channels; ``eps``: the projection's BN."""
    c = b.channels(x)
    if kind == "zero_pad" and out_channels < c:
        raise ShapeError(f"a zero-pad shortcut cannot turn {c} channels into {out_channels}: padding only adds "
                         "channels", "set shortcut to projection (a 1×1 conv) or auto")
    kind = shortcut_kind(c, out_channels, stride, kind)
    if kind == "none":
        return None
    if kind == "identity":
        if not (c == out_channels and stride == 1):
            h = b.shape(x)
            raise ShapeError(f"an identity shortcut cannot turn {fmt_shape(h)} into {out_channels} channels at stride {stride}",
                             "set shortcut to projection or zero_pad")
        return x
    if kind == "zero_pad":
        return b.add("zeropad_shortcut", x, node_id="shortcut", out_channels=out_channels, stride=stride,
                     **({"split": split} if split != "end" else {}))
    y = b.conv(x, out_channels, 1, stride, node_id="shortcut_conv")
    return b.bn(y, node_id="shortcut_bn", **eps_args(eps)) if bn else y


RESIDUAL_ADD = "add"  # the node id of ``residual_add``: a block that uses it declares ``shortcut_add = RESIDUAL_ADD``


def residual_add(b, branch: str, skip: str | None) -> str:
    """branch + skip: the residual connection itself (just the branch when there is no shortcut).
    The branch is input 0 and the shortcut input 1, which a lesion relies on."""
    return branch if skip is None else b.add("add", branch, skip, node_id=RESIDUAL_ADD)


def squeeze_excite(b, x: str, reduction: int) -> str:
    """Channel attention (Hu et al. 2018): x · sigmoid(W2 relu(W1 avgpool(x))); identity when reduction is 0."""
    if not reduction:
        return x
    c = b.channels(x)
    g = b.add("global_avgpool", x, node_id="se_pool")
    g = b.conv(g, max(1, c // reduction), 1, bias=True, node_id="se_reduce")
    g = b.act(g, node_id="se_relu")
    g = b.conv(g, c, 1, bias=True, node_id="se_expand")
    g = b.act(g, "sigmoid", node_id="se_gate")
    return b.add("multiply", x, g, node_id="se_scale")


def bn_act_conv(b, x: str, out: int, k: int, stride: int = 1, groups: int = 1, tag: str = "",
                zero: bool = False, eps: float = DEFAULT_EPS) -> str:
    """Pre-activation unit: BN → ReLU → conv; ``zero`` starts the conv at 0 (the end of a branch that must
    start as nothing)."""
    x = b.bn(x, node_id=f"bn{tag}", **eps_args(eps))
    x = b.act(x, node_id=f"relu{tag}")
    return b.conv(x, out, k, stride, groups, node_id=f"conv{tag}", **({"init_gain": 0.0} if zero else {}))


def conv_bn_act(b, x: str, out: int, k: int, stride: int = 1, groups: int = 1, tag: str = "", act: bool = True,
                zero_gamma: bool = False, eps: float = DEFAULT_EPS) -> str:
    """Post-activation unit: conv → BN (→ ReLU); ``zero_gamma`` starts the BN's scale at 0."""
    x = b.conv(x, out, k, stride, groups, node_id=f"conv{tag}")
    x = b.bn(x, node_id=f"bn{tag}", **({"zero_init": True} if zero_gamma else {}), **eps_args(eps))
    return b.act(x, node_id=f"relu{tag}") if act else x


# -- the same pieces as exported code: a base class every residual block of the exported file extends --
RESIDUAL = Snippet("Residual", '''
class Residual(nn.Module):
    """Base of the residual blocks: the shortcut and squeeze-excitation, decided in one place.

    Shortcut kinds: "identity"; "zero_pad" (subsample, append zero channels: ResNet option A);
    "projection" (1×1 conv, then BatchNorm unless bn=False: option B); "none" (no skip: a plain block).
    """

    def add_shortcut(self, kind, in_channels, out_channels, stride, bn=True):
        self.shortcut_kind, self.shortcut_stride = kind, stride
        self.shortcut_pad = out_channels - in_channels
        if kind == "projection":
            self.shortcut_conv = conv(in_channels, out_channels, 1, stride)
            self.shortcut_bn = nn.BatchNorm2d(out_channels) if bn else nn.Identity()

    def shortcut(self, x):
        if self.shortcut_kind == "projection":
            return self.shortcut_bn(self.shortcut_conv(x))
        if self.shortcut_kind == "zero_pad":
            return zero_pad(x, self.shortcut_pad, self.shortcut_stride)
        return x

    def residual(self, branch, x):
        """branch + shortcut(x): the residual connection itself."""
        return branch if self.shortcut_kind == "none" else branch + self.shortcut(x)

    def add_squeeze_excite(self, channels, reduction):
        """Channel attention on the branch (Hu et al. 2018); reduction 0 means none."""
        self.se = reduction > 0
        if self.se:
            hidden = max(1, channels // reduction)
            self.se_reduce = conv(channels, hidden, 1, bias=True)
            self.se_expand = conv(hidden, channels, 1, bias=True)

    def squeeze_excite(self, x):
        if not self.se:
            return x
        gate = F.adaptive_avg_pool2d(x, 1)
        return x * torch.sigmoid(self.se_expand(F.relu(self.se_reduce(gate))))
''', needs=(CONV, ZERO_PAD))
