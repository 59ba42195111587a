"""Parameter-light tensor ops used inside residual blocks: zero-pad shortcut, channel slice, scale, scalar bias."""
from __future__ import annotations

from explorer.blocks.base import BlockType, Cost
from explorer.blocks.code import X, LayerCode, Snippet, call
from explorer.blocks.glyph import NONE, Poly, Rect
from explorer.blocks.recognise import Step, TorchRules, arg
from explorer.blocks.registry import register
from explorer.graph.params import Choice, Float, Int, ParamSet
from explorer.graph.shapes import ShapeError, need_image

SCALAR_GLYPH = (Poly(((0.5, 0.15), (0.85, 0.5), (0.5, 0.85), (0.15, 0.5))),)  # one number: a diamond

ZERO_PAD = Snippet("zero_pad", '''
def zero_pad(x, extra_channels, stride, both_sides=False):
    """ResNet option A shortcut: subsample by the stride, then add zero channels (appended, or split before
    and after as akamaster's CIFAR ResNets do); no parameters."""
    if stride > 1:
        x = x[:, :, ::stride, ::stride]
    before = extra_channels // 2 if both_sides else 0
    return F.pad(x, (0, 0, 0, 0, before, extra_channels - before)) if extra_channels else x
''')

SCALE = Snippet("Scale", '''
class Scale(nn.Module):
    """Multiplies by one learnable scalar (the weight of a weighted residual branch)."""

    def __init__(self, init):
        super().__init__()
        self.weight = nn.Parameter(torch.tensor(float(init)))

    def forward(self, x):
        return x * self.weight
''')

SCALAR_BIAS = Snippet("ScalarBias", '''
class ScalarBias(nn.Module):
    """Adds one learnable scalar, 0 at first (Fixup's biases, Zhang et al. 2019)."""

    def __init__(self):
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(()))

    def forward(self, x):
        return x + self.bias
''')


@register
class ZeroPadShortcut(BlockType):
    name = "zeropad_shortcut"
    color = "#607d8b"
    glyph = (Rect(0.15, 0.15, 0.7, 0.7, NONE), Rect(0.3, 0.3, 0.4, 0.4))  # zeros around the map
    title = "Zero-pad shortcut"
    help = ("Parameter-free shortcut (ResNet option A): subsample by the stride and pad the new channels "
            "with zeros.")
    params = ParamSet((Int("out_channels", 32, 1, 8192, "channels after padding (≥ input channels)"),
                       Int("stride", 2, 1, 8, "spatial subsampling"),
                       Choice("split", "end", ("end", "both"), "where the zero channels go: appended at the end "
                              "(fb.resnet.torch) or half before and half after (akamaster's CIFAR ResNets)")))
    face = ("out_channels", "stride")

    def torch_rules(self):
        import operator

        from torch.nn import functional as F
        return TorchRules(functions={F.pad: _pad, operator.getitem: _subsample})

    def infer(self, p, in_shapes):
        c, h, w = need_image(in_shapes[0], "Zero-pad shortcut")
        if p["out_channels"] < c:
            raise ShapeError(f"cannot pad {c} channels down to {p['out_channels']}", "use a projection shortcut")
        s = p["stride"]
        return (p["out_channels"], (h + s - 1) // s, (w + s - 1) // s)

    def build(self, p, in_shapes):
        from explorer.blocks import ops
        return ops.ZeroPadShortcut(p["out_channels"] - in_shapes[0][0], p["stride"], p["split"] == "both")

    def code(self, p, in_shapes):
        return LayerCode(None, call("zero_pad", X, p["out_channels"] - in_shapes[0][0], p["stride"],
                                    both_sides=p["split"] == "both", defaults={"both_sides": False}),
                         needs=(ZERO_PAD,))


@register
class ChannelSlice(BlockType):
    name = "channel_slice"
    color = "#607d8b"
    glyph = (Rect(0.2, 0.15, 0.6, 0.7, NONE), Rect(0.2, 0.15, 0.6, 0.3))  # the channels kept
    title = "Channel slice"
    help = "Keeps channels start..stop-1 (stop 0 = to the end). Dual path blocks split residual and dense parts."
    params = ParamSet((Int("start", 0, 0, 100000, "first channel kept"),
                       Int("stop", 0, 0, 100000, "one past the last channel kept; 0 = all the rest")))
    face = ("start", "stop")

    def torch_rules(self):
        import operator
        return TorchRules(functions={operator.getitem: _slice})

    def infer(self, p, in_shapes):
        c = in_shapes[0][0]
        stop = p["stop"] or c
        if not 0 <= p["start"] < stop <= c:
            raise ShapeError(f"slice {p['start']}:{stop} is outside the {c} channels", f"choose 0 ≤ start < stop ≤ {c}")
        return (stop - p["start"],) + tuple(in_shapes[0][1:])

    def build(self, p, in_shapes):
        from explorer.blocks import ops
        return ops.ChannelSlice(p["start"], p["stop"] or in_shapes[0][0])

    def code(self, p, in_shapes):
        stop = p["stop"] or in_shapes[0][0]
        return LayerCode(None, f"{{0}}[:, {p['start'] or ''}:{'' if stop == in_shapes[0][0] else stop}]")


@register
class Scale(BlockType):
    name = "scale"
    color = "#ad1457"
    glyph = SCALAR_GLYPH
    title = "Scale"
    help = "Multiplies by one learnable scalar (the weight of a weighted residual branch)."
    params = ParamSet((Float("init", 0.1, -100, 100, "initial value of the scalar"),))
    face = ("init",)

    def infer(self, p, in_shapes):
        return tuple(in_shapes[0])

    def cost(self, p, in_shapes, out_shape):
        return Cost(1, 0, 0)

    def build(self, p, in_shapes):
        from explorer.blocks import ops
        return ops.Scale(p["init"])

    def code(self, p, in_shapes):
        return LayerCode(call("Scale", p["init"]), needs=(SCALE,))


@register
class ScalarBias(BlockType):
    name = "bias"
    color = "#ad1457"
    glyph = SCALAR_GLYPH
    title = "Scalar bias"
    help = ("Adds one learnable scalar, 0 at first. Fixup (Zhang et al. 2019) puts one before each conv and "
            "activation of a residual branch in place of BatchNorm's shift.")
    params = ParamSet(())

    def infer(self, p, in_shapes):
        return tuple(in_shapes[0])

    def cost(self, p, in_shapes, out_shape):
        return Cost(1, 0, 0)

    def build(self, p, in_shapes):
        from explorer.blocks import ops
        return ops.ScalarBias()

    def code(self, p, in_shapes):
        return LayerCode("ScalarBias()", needs=(SCALAR_BIAS,))


# -- import: option A's pieces and channel slices as code writes them ------------------------------------
def _pad(n, ctx):
    """``F.pad(x, (0, 0, 0, 0, 0, extra))``: zero channels appended."""
    pad, mode, value = arg(n, 1, "pad"), arg(n, 2, "mode", "constant"), arg(n, 3, "value", None)
    shape = ctx.shape(n.args[0])
    if (shape is None or len(shape) != 4 or mode != "constant" or value not in (None, 0, 0.0)
            or not isinstance(pad, (list, tuple)) or len(pad) != 6 or tuple(pad[:5]) != (0, 0, 0, 0, 0)
            or not isinstance(pad[5], int) or pad[5] < 0):
        return None
    return [Step(ZeroPadShortcut.name, dict(out_channels=shape[1] + pad[5], stride=1))]


def _full(s) -> bool:
    return isinstance(s, slice) and s == slice(None)


def _index(n, ctx):
    """(shape, (channel, height, width) slices) of ``x[:, ...]`` on an image batch, else None."""
    shape, index = ctx.shape(n.args[0]), n.args[1]
    if shape is None or len(shape) != 4 or not isinstance(index, tuple) or len(index) < 2:
        return None
    index = index + (slice(None),) * (4 - len(index))
    if len(index) != 4 or not all(isinstance(i, slice) for i in index) or not _full(index[0]):
        return None
    return shape, index[1:]


def _subsample(n, ctx):
    """``x[:, :, ::s, ::s]``: option A's subsampling."""
    found = _index(n, ctx)
    if found is None:
        return None
    shape, (ch, h, w) = found
    if _full(ch) and h.start is None and h.stop is None and h == w and isinstance(h.step, int) and h.step >= 1:
        return [Step(ZeroPadShortcut.name, dict(out_channels=shape[1], stride=h.step))]
    return None


def _slice(n, ctx):
    """``x[:, a:b]``: a channel slice."""
    found = _index(n, ctx)
    if found is None:
        return None
    shape, (ch, h, w) = found
    if _full(h) and _full(w) and ch.step in (None, 1):
        start, stop = ch.start or 0, shape[1] if ch.stop is None else ch.stop
        if isinstance(start, int) and isinstance(stop, int) and 0 <= start < stop <= shape[1]:
            return [Step(ChannelSlice.name, dict(start=start, stop=0 if stop == shape[1] else stop))]
    return None
