"""Opaque: the stand-in for an imported PyTorch operation that no block type expresses.

The importer (``python main.py import``) turns every operation it cannot map into one of these, so an
unfamiliar model still arrives whole on the canvas: the node keeps the output shape and the parameter
count that tracing measured, the rest of the network's shapes follow from it, and inference reports it
as the one thing to replace before the network can be compiled or trained. The operation's name is the
node's id (``roll``, ``layer_norm``, ``attn``), because parameters hold numbers and choices, not text.
"""
from __future__ import annotations

from explorer.blocks.base import BlockType, Cost
from explorer.blocks.glyph import DEFAULT
from explorer.blocks.registry import register
from explorer.graph.params import Choice, Int, ParamSet, Shape

OP_KINDS = ("function", "method", "module", "value")
_KIND_TEXT = {"function": "PyTorch function", "method": "tensor method", "module": "module",
              "value": "constant or attribute"}


@register
class Opaque(BlockType):
    name = "opaque"
    color = "#9e9e9e"
    glyph = DEFAULT
    title = "Opaque (not mapped)"
    help = ("An operation of an imported PyTorch model that no block here expresses. It keeps the output shape "
            "measured when the model was traced, so the shapes after it stay right, but it cannot be compiled or "
            "trained: replace it with blocks from the palette. Its id is the operation's name.")
    params = ParamSet((
        Choice("op_kind", "function", OP_KINDS, "what the traced operation was: a torch function, a tensor "
               "method, a submodule call or a constant", label="Operation"),
        Shape("shape", [1], 1, 2**31 - 1, help="output shape of one sample, as measured by tracing"),
        Int("weights", 0, 0, 2**40, "parameters the original operation held (counted, not kept)"),
    ))
    min_inputs = 0
    max_inputs = 64
    face = ("op_kind", "shape")
    placeable = False
    unbuildable = ("stands for an imported operation that no block expresses, so the network cannot be "
                   "compiled or trained")
    unbuildable_fix = "replace it with blocks from the palette that do the same, then delete it"

    def describe(self, p):
        return f"{_KIND_TEXT.get(p['op_kind'], p['op_kind'])}, out {'×'.join(map(str, p['shape']))}"

    def infer(self, p, in_shapes):
        return tuple(p["shape"])

    def cost(self, p, in_shapes, out_shape):
        return Cost(p["weights"], 0, 0)

    def build(self, p, in_shapes):
        raise NotImplementedError(f"an opaque node ({self.unbuildable}); {self.unbuildable_fix}")

