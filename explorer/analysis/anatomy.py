"""Block anatomy: what each block is made of and what share of the network's cost it takes.

For every node: its parameters and multiply-accumulates (all repetitions) as a share of the network's;
for a composite block also its expanded primitive graph, layer by layer, with each layer's output shape,
parameters and MACs (for the first repetition, which carries the stride; later ones say how they differ
in total). Computed from the cost model alone: no torch, instant for a 1000-layer network.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from explorer.blocks.base import repeats
from explorer.blocks.registry import get_block
from explorer.graph.model import Graph
from explorer.graph.shapes import fmt_shape
from explorer.network.inference import analyze


@dataclass
class Layer:
    node: str
    type: str
    out_shape: str
    params: int
    macs: int


@dataclass
class BlockAnatomy:
    node: str
    type: str
    title: str
    repeat: int
    params: int
    macs: int
    params_share: float
    macs_share: float
    layers: list[Layer] = field(default_factory=list)   # one repetition's primitives (empty for a primitive)

    def to_json(self) -> dict:
        return {"node": self.node, "type": self.type, "title": self.title, "repeat": self.repeat,
                "params": self.params, "macs": self.macs, "params_share": self.params_share,
                "macs_share": self.macs_share,
                "layers": [{"node": la.node, "type": la.type, "out_shape": la.out_shape, "params": la.params,
                            "macs": la.macs} for la in self.layers]}


class AnatomyError(ValueError):
    """The graph is not valid, or the node asked for is not in it."""


def anatomy(graph: Graph, node: str | None = None) -> list[BlockAnatomy]:
    """Every node with a cost (or only ``node``), in network order."""
    a = analyze(graph)
    if not a.valid:
        raise AnatomyError(a.errors[0].text)
    if node is not None and node not in graph:
        raise AnatomyError(f"no node '{node}' in {graph.name or 'the graph'}; `python main.py info ARCH` lists them")
    total_p, total_m = max(1, a.total.params), max(1, a.total.macs)
    out = []
    for nid in graph.topological_order():
        n = graph.node(nid)
        block = get_block(n.type)
        cost = a.nodes[nid].cost
        if (node is None and block.role) or (node is not None and nid != node):
            continue
        layers = []
        if block.composite:
            p, shapes, _ = next(iter(repeats(block, n.params, n.repeat, a.nodes[nid].in_shapes)))
            inner = block.expansion(p, tuple(shapes[0])).graph
            ia = analyze(inner)
            for m in inner.topological_order():
                spec = get_block(inner.node(m).type)
                if spec.role:
                    continue
                info = ia.nodes[m]
                layers.append(Layer(m, spec.name, fmt_shape(info.out_shape), info.cost.params, info.cost.macs))
        out.append(BlockAnatomy(nid, block.name, block.title, n.repeat, cost.params, cost.macs,
                                cost.params / total_p, cost.macs / total_m, layers))
    return out
