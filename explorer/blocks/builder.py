"""Build graphs in code through the same API a person's edits use: presets and block expansions.

The builder adds nodes and edges with ``Graph.add_node``/``Graph.connect`` and infers each new node's
shape at once, so code that builds a network can ask ``b.shape(x)`` to decide, say, whether a
shortcut needs a projection.
"""
from __future__ import annotations

from dataclasses import dataclass

from explorer.blocks.base import Cost, run_block
from explorer.blocks.registry import get_block
from explorer.graph.model import Graph
from explorer.graph.shapes import TensorShape


@dataclass(frozen=True)
class Expansion:
    graph: Graph
    out_shape: TensorShape
    cost: Cost


class Builder:
    def __init__(self, name: str = "untitled"):
        self.graph = Graph(name=name)
        self._shapes: dict[str, TensorShape] = {}
        self.cost = Cost()
        self._out: str | None = None
        self._column = 0

    def shape(self, handle: str) -> TensorShape:
        return self._shapes[handle]

    def channels(self, handle: str) -> int:
        return self._shapes[handle][0]

    def input(self, shape, node_id: str = "input") -> str:
        return self.add("input", node_id=node_id, shape=list(shape))

    def output(self, handle: str, node_id: str = "output") -> str:
        self._out = self.add("output", handle, node_id=node_id)
        return self._out

    def add(self, type_name: str, *inputs: str, node_id: str | None = None, repeat: int = 1, **params) -> str:
        block = get_block(type_name)
        nid = self.graph.add_node(type_name, params, node_id=node_id, pos=(self._column * 200.0, 0.0), repeat=repeat)
        self._column += 1
        for src in inputs:
            self.graph.connect(src, nid)
        if block.min_inputs == 0 or inputs:
            out, cost = run_block(block, self.graph.node(nid).params, repeat, [self._shapes[s] for s in inputs])
            self._shapes[nid] = out
            self.cost = self.cost + cost
        return nid

    # -- the few layers every block uses -----------------------------------------------------------
    def conv(self, x: str, out: int, k: int = 3, stride: int = 1, groups: int = 1, bias: bool = False,
             node_id: str | None = None, **extra) -> str:
        return self.add("conv2d", x, node_id=node_id, out_channels=out, kernel_size=k, stride=stride,
                        groups=groups, bias=bias, **extra)

    def bn(self, x: str, node_id: str | None = None, **extra) -> str:
        return self.add("batchnorm", x, node_id=node_id, **extra)

    def act(self, x: str, kind: str = "relu", node_id: str | None = None) -> str:
        return self.add("activation", x, node_id=node_id, kind=kind)

    def finish(self) -> Expansion:
        from explorer.graph.layout import layered_layout

        layered_layout(self.graph)
        out = self._shapes[self.graph.inputs_of(self._out)[0]] if self._out else None
        return Expansion(self.graph, out, self.cost)
