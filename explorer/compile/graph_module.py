"""Graph -> nn.Module: runs the nodes in topological order, one submodule per node.

Submodules live in ``self.nodes[node_id]`` (a stage of N repeats is an ``nn.Sequential``), so every
parameter name reads ``nodes.<node id>[.<repeat>].<inner>``: gradients and lesions map straight back
to the canvas. Nothing is generated as source code.
"""
from __future__ import annotations

from torch import nn

from explorer.blocks.base import repeats
from explorer.blocks.registry import get_block
from explorer.graph.model import Graph


class CompileError(ValueError):
    """The graph is not valid; carries the first problem so the message names the node and the fix."""

    def __init__(self, problem):
        super().__init__(problem.text)
        self.problem = problem


def build_node(block, params: dict, repeat: int, in_shapes: list) -> nn.Module:
    parts = [block.build(p, shapes) for p, shapes, _ in repeats(block, params, repeat, in_shapes)]
    return parts[0] if repeat == 1 else nn.Sequential(*parts)


class GraphModule(nn.Module):
    def __init__(self, graph: Graph, analysis=None):
        super().__init__()
        from explorer.graph.inference import analyze

        analysis = analysis or analyze(graph)
        errors = [p for p in analysis.problems if p.severity == "error"]
        if errors:
            raise CompileError(errors[0])
        self.node_ids: list[str] = []
        self.repeats: dict[str, int] = {}
        self.nodes = nn.ModuleDict()
        slot = {}
        plan = []
        self._out_slot = 0
        for nid in graph.topological_order():
            node = graph.node(nid)
            if node.type == "input":
                slot[nid] = 0
                continue
            srcs = [slot[s] for s in graph.inputs_of(nid) if s in slot]
            if node.type == "output":
                self._out_slot = srcs[0]
                continue
            info = analysis.nodes[nid]
            self.nodes[nid] = build_node(get_block(node.type), node.params, node.repeat, info.in_shapes)
            slot[nid] = len(plan) + 1
            plan.append((nid, tuple(srcs)))
            self.node_ids.append(nid)
            self.repeats[nid] = node.repeat
        self._plan = plan
        self.input_shape = analysis.input_shape
        self.output_shape = analysis.output_shape

    def forward(self, x):
        values = [x]
        nodes = self.nodes
        for nid, srcs in self._plan:
            values.append(nodes[nid](*[values[i] for i in srcs]))
        return values[self._out_slot]


def node_of_param(name: str) -> str:
    """``nodes.stage1.3.conv1.weight`` -> ``stage1``."""
    parts = name.split(".")
    return parts[1] if parts[0] == "nodes" and len(parts) > 1 else parts[0]


def compile_graph(graph: Graph, analysis=None) -> GraphModule:
    """The trainable module of a valid graph; raises CompileError naming the first problem."""
    return GraphModule(graph, analysis)
