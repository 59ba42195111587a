"""BatchNorm over channels (2-D for images, 1-D for vectors)."""
from __future__ import annotations

import math

from explorer.blocks.base import BlockType, Cost
from explorer.blocks.code import LayerCode, Snippet, call
from explorer.blocks.glyph import NONE, Poly
from explorer.blocks.recognise import Step, TorchRules

ZERO_INIT = Snippet("zero_init", '''
def zero_init(norm):
    """Start a BatchNorm's scale at 0, so the residual branch it ends starts as nothing."""
    nn.init.zeros_(norm.weight)
    return norm
''')
from explorer.blocks.registry import register
from explorer.graph.params import Bool, Float, ParamSet


@register
class BatchNorm(BlockType):
    name = "batchnorm"
    color = "#2a9d8f"
    glyph = (Poly(tuple((x, 0.82 - 0.6 * math.exp(-((x - 0.5) / 0.16) ** 2)) for x in (0.08 + 0.84 * i / 40 for i in range(41))),
                  closed=False, fill=NONE),)  # the normal curve
    keeps_features = True
    title = "BatchNorm"
    help = "Normalises each channel over the batch, then scales and shifts it (2 parameters per channel)."
    params = ParamSet((
        Float("momentum", 0.1, 0.0, 1.0, "how fast the running statistics follow the batches"),
        Float("eps", 1e-5, 1e-12, 1.0, "added to the variance for numerical safety"),
        Bool("zero_init", False, "start the scale at 0, so a residual branch starts as identity"),
    ))

    def infer(self, p, in_shapes):
        return tuple(in_shapes[0])

    def cost(self, p, in_shapes, out_shape):
        return Cost(2 * out_shape[0], 0, 0)

    def build(self, p, in_shapes):
        from torch import nn
        cls = nn.BatchNorm2d if len(in_shapes[0]) == 3 else nn.BatchNorm1d
        bn = cls(in_shapes[0][0], eps=p["eps"], momentum=p["momentum"])
        if p["zero_init"]:
            nn.init.zeros_(bn.weight)
        return bn

    def torch_rules(self):
        from torch import nn
        return TorchRules(modules={nn.BatchNorm2d: _from_module, nn.BatchNorm1d: _from_module})

    def code(self, p, in_shapes):
        cls = "nn.BatchNorm2d" if len(in_shapes[0]) == 3 else "nn.BatchNorm1d"
        init = call(cls, in_shapes[0][0], eps=p["eps"], momentum=p["momentum"], defaults={"eps": 1e-5, "momentum": 0.1})
        return LayerCode(f"zero_init({init})", needs=(ZERO_INIT,)) if p["zero_init"] else LayerCode(init)


def _from_module(m, n, ctx) -> list[Step] | None:
    """A BatchNorm with running statistics and a scale and shift, of the rank its input has (ours picks 1-D
    or 2-D from the input)."""
    from torch import nn

    if not (m.affine and m.track_running_stats and m.momentum is not None):
        return None
    if isinstance(m, nn.BatchNorm1d) != (len(ctx.shape(n.args[0])) != 4):
        return None
    return [Step(BatchNorm.name, dict(momentum=float(m.momentum), eps=float(m.eps)), takes_weights=True)]
