"""What every block type declares: parameters, ports, shape rule, cost and how to build its module.

Declarations (parameters, ports, role, colour, twin rule) come from ``explorer.graph.catalog.BlockSpec``.
Primitive blocks implement ``infer``, ``cost`` and ``build`` directly. Composite blocks implement only
``expand`` (their inside as a small graph of primitives); shape, cost and module are derived from that
expansion, so the picture a person opens, the numbers in the summary and the trained module cannot
disagree.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any, ClassVar, Iterator

from explorer.graph.catalog import BlockSpec
from explorer.graph.params import frozen
from explorer.graph.shapes import TensorShape


@dataclass(frozen=True)
class Cost:
    params: int = 0
    macs: int = 0
    weight_layers: int = 0  # conv + linear layers: the "depth" papers count

    def __add__(self, other: "Cost") -> "Cost":
        return Cost(self.params + other.params, self.macs + other.macs, self.weight_layers + other.weight_layers)

    def __mul__(self, n: int) -> "Cost":
        return Cost(self.params * n, self.macs * n, self.weight_layers * n)


freeze = frozen  # a hashable twin of a JSON-like value, for cache keys (the graph model keys nodes by it too)


class BlockType(BlockSpec):
    """Base of all block types: the declarations of ``BlockSpec`` plus shape rule, cost and module.
    Subclasses are registered once with ``explorer.blocks.registry.register``."""

    # -- shape and cost -------------------------------------------------------------------------
    def infer(self, p: dict, in_shapes: list[TensorShape]) -> TensorShape:
        raise NotImplementedError

    def cost(self, p: dict, in_shapes: list[TensorShape], out_shape: TensorShape) -> Cost:
        return Cost()

    def build(self, p: dict, in_shapes: list[TensorShape]):
        """An ``nn.Module`` taking the inputs in edge order (primitives only; the compiler builds
        composites from their expansion). Imports torch lazily."""
        raise NotImplementedError

    def torch_rules(self):
        """Which traced PyTorch operations are this block (a ``explorer.blocks.recognise.TorchRules``), for
        ``python main.py import``; None: the importer never makes one from torch code. Imports torch lazily."""
        return None

    def code(self, p: dict, in_shapes: list[TensorShape]):
        """How one node of this type is written in an exported module: a ``explorer.blocks.code.LayerCode``,
        or None when the type declares no code (a composite is then written from its expansion)."""
        return None

    def as_classifier(self, p: dict, num_classes: int) -> dict:
        """Parameters that make this block (a ``classifier_param`` block) produce ``num_classes`` outputs."""
        return {**p, self.classifier_param: int(num_classes)}

    def repeat_params(self, p: dict, index: int) -> dict:
        """Parameters of repetition ``index`` (> 0) in a stage: by default the same, stride 1."""
        if "stride" in p and p["stride"] != 1:
            return {**p, "stride": 1}
        return p

    def describe(self, p: dict) -> str:
        """Short text of the key parameters for the node face."""
        parts = []
        for key in self.face:
            v = p.get(key)
            if key in ("stride", "groups", "dilation") and v == 1:
                continue  # the common case says nothing
            if isinstance(v, bool):
                if v:
                    parts.append(key)
            elif isinstance(v, list):
                parts.append(f"{key} {'×'.join(map(str, v))}")
            else:
                parts.append(f"{key} {v}")
        return ", ".join(parts)


class CompositeBlock(BlockType):
    """A block whose inside is a graph of primitives built by ``expand``."""

    category: ClassVar[str] = "Residual blocks"
    composite: ClassVar[bool] = True
    repeatable: ClassVar[bool] = True
    # The node of the expansion that adds the residual branch (its input 0) to the shortcut (input 1);
    # a lesion (Veit et al. 2016) keeps only the shortcut there. None: the block has no such add.
    shortcut_add: ClassVar[str | None] = None

    def expand(self, p: dict, b, x) -> Any:
        """Add the inside to builder ``b`` starting from handle ``x``; return the output handle."""
        raise NotImplementedError

    def recognise(self, site) -> Iterator[dict]:
        """Parameters that may make this block out of an imported ``explorer.blocks.recognise.ResidualSite``
        (the importer keeps a guess only when the expansion matches the traced nodes exactly). None by
        default: the block is then imported as its primitives."""
        return iter(())

    def expansion(self, p: dict, in_shape: TensorShape):
        """The inside as an ``Expansion`` (graph + shapes + cost), cached per parameters and shape."""
        return _expansion(self.name, freeze(p), tuple(in_shape))

    def infer(self, p, in_shapes):
        return self.expansion(p, in_shapes[0]).out_shape

    def cost(self, p, in_shapes, out_shape):
        return self.expansion(p, in_shapes[0]).cost


@lru_cache(maxsize=4096)
def _expansion(type_name: str, frozen_params: tuple, in_shape: tuple):
    from explorer.blocks.builder import Builder
    from explorer.blocks.registry import get_block

    block = get_block(type_name)
    p = {k: (list(v) if isinstance(v, tuple) else v) for k, v in frozen_params}
    b = Builder(name=type_name)
    x = b.input(in_shape)
    b.output(block.expand(p, b, x))
    return b.finish()


def repeats(block: BlockType, p: dict, repeat: int, in_shapes: list[TensorShape]):
    """Yield ``(params, in_shapes, out_shape)`` for each repetition of a node, threading shapes."""
    shapes = list(in_shapes)
    for i in range(repeat):
        pi = p if i == 0 else block.repeat_params(p, i)
        out = block.infer(pi, shapes)
        yield pi, shapes, out
        shapes = [out]


def run_block(block: BlockType, p: dict, repeat: int, in_shapes: list[TensorShape]) -> tuple[TensorShape, Cost]:
    """Output shape and cost of a node (all repetitions); raises ShapeError. Cached."""
    return _run_block(block.name, freeze(p), repeat, tuple(tuple(s) for s in in_shapes))


@lru_cache(maxsize=65536)
def _run_block(type_name: str, frozen_params: tuple, repeat: int, in_shapes: tuple):
    from explorer.blocks.registry import get_block

    block = get_block(type_name)
    p = {k: (list(v) if isinstance(v, tuple) else v) for k, v in frozen_params}
    total = Cost()
    out = None
    for pi, shapes, out in repeats(block, p, repeat, list(in_shapes)):
        total = total + block.cost(pi, shapes, out)
    return tuple(out), total


def clear_caches() -> None:
    """Forget every cached expansion and block result (benchmarks time the cold path with this)."""
    _run_block.cache_clear()
    _expansion.cache_clear()
