"""Pieces shared by the residual blocks: the shortcut decision (in one place) and squeeze-excitation."""
from __future__ import annotations

from explorer.graph.params import Choice, Int
from explorer.graph.shapes import ShapeError, fmt_shape

SHORTCUTS = ("auto", "identity", "zero_pad", "projection", "none")
SHORTCUT = Choice("shortcut", "auto", SHORTCUTS,
                  "skip path when the shape changes: auto = identity if it fits else projection; "
                  "zero_pad = parameter-free (ResNet option A); projection = 1×1 conv (option B); "
                  "none = no shortcut at all (the block's plain twin)")
SE_REDUCTION = Int("se_reduction", 0, 0, 256, "squeeze-excitation on the residual branch: channel reduction "
                   "ratio (16 in Hu et al.), 0 = off", label="SE reduction")


def shortcut(b, x: str, out_channels: int, stride: int, kind: str, bn: bool = True) -> str | None:
    """The skip path from ``x`` to a tensor of ``out_channels`` at ``stride``; identity when it can be,
    None for kind "none"."""
    if kind == "none":
        return None
    c = b.channels(x)
    same = c == out_channels and stride == 1
    if kind == "identity" or (same and kind != "projection"):
        if not same:
            h = b.shape(x)
            raise ShapeError(f"an identity shortcut cannot turn {fmt_shape(h)} into {out_channels} channels at stride {stride}",
                             "set shortcut to projection or zero_pad")
        return x
    if kind == "zero_pad" and out_channels >= c:
        return b.add("zeropad_shortcut", x, node_id="shortcut", out_channels=out_channels, stride=stride)
    y = b.conv(x, out_channels, 1, stride, node_id="shortcut_conv")
    return b.bn(y, node_id="shortcut_bn") if bn else y


def residual_add(b, branch: str, skip: str | None) -> str:
    """branch + skip: the residual connection itself (just the branch when there is no shortcut)."""
    return branch if skip is None else b.add("add", branch, skip, node_id="add")


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


def bn_act_conv(b, x: str, out: int, k: int, stride: int = 1, groups: int = 1, tag: str = "") -> str:
    """Pre-activation unit: BN → ReLU → conv."""
    x = b.bn(x, node_id=f"bn{tag}")
    x = b.act(x, node_id=f"relu{tag}")
    return b.conv(x, out, k, stride, groups, node_id=f"conv{tag}")


def conv_bn_act(b, x: str, out: int, k: int, stride: int = 1, groups: int = 1, tag: str = "", act: bool = True) -> str:
    """Post-activation unit: conv → BN (→ ReLU)."""
    x = b.conv(x, out, k, stride, groups, node_id=f"conv{tag}")
    x = b.bn(x, node_id=f"bn{tag}")
    return b.act(x, node_id=f"relu{tag}") if act else x
