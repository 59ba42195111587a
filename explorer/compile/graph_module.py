"""Graph -> nn.Module with a generated, straight-line ``forward``.

Submodules live in ``self.nodes[node_id]`` (a stage of N repeats is an ``nn.Sequential``; a composite
block is compiled from its expansion into a nested ``GraphModule``), so every parameter name reads
``nodes.<node id>[.<repeat>].<inner>``: gradients and lesions map straight back to the canvas.

``forward`` is generated once per module as one call per node, the way a person writes a torchvision
block, instead of walking a plan on every call. The generated text contains no name taken from the
graph: modules are looked up by string literals (``repr``) and values are numbered, so a node id can
never become code. Submodules are still called through ``__call__``, so forward hooks (the per-layer
statistics, lesions) see every node.
"""
from __future__ import annotations

import itertools
import linecache
import types

from torch import nn

from explorer.blocks.base import repeats
from explorer.blocks.ops import inplace_where_safe
from explorer.blocks.registry import get_block
from explorer.graph.model import Graph

_serial = itertools.count()


class CompileError(ValueError):
    """The graph is not valid; carries the first problem so the message names the node and the fix."""

    def __init__(self, problem):
        super().__init__(problem.text)
        self.problem = problem


def _build_one(block, params: dict, in_shapes: list) -> nn.Module:
    if block.composite:
        return GraphModule(block.expansion(params, tuple(in_shapes[0])).graph, body=True)
    return block.build(params, in_shapes)


def build_node(block, params: dict, repeat: int, in_shapes: list) -> nn.Module:
    parts = [_build_one(block, p, shapes) for p, shapes, _ in repeats(block, params, repeat, in_shapes)]
    return parts[0] if repeat == 1 else nn.Sequential(*parts)


def forward_source(plan: list[tuple[str, tuple[int, ...]]], out_slot: int) -> str:
    """Python source of ``forward(self, x)`` for a plan of ``(node id, input slots)``; slot 0 is ``x``
    and the k-th planned node writes slot k."""
    lines = ["def forward(self, x):", "    n = self.nodes._modules", "    v0 = x"]
    for k, (nid, srcs) in enumerate(plan, start=1):
        args = ", ".join(f"v{i}" for i in srcs)
        lines.append(f"    v{k} = n[{nid!r}]({args})")
    lines.append(f"    return v{out_slot}")
    return "\n".join(lines) + "\n"


def _make_forward(source: str, label: str):
    filename = f"<compiled network {next(_serial)}: {label}>"
    # Registered so that a traceback through the generated forward shows its lines.
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace: dict = {}
    exec(compile(source, filename, "exec"), namespace)  # noqa: S102 - source built above from numbers and repr()
    return namespace["forward"]


class GraphModule(nn.Module):
    def __init__(self, graph: Graph, analysis=None, body: bool = False):
        super().__init__()
        from explorer.network.inference import analyze

        analysis = analysis or analyze(graph)
        errors = [p for p in analysis.problems if p.severity == "error"]
        if errors:
            raise CompileError(errors[0])
        self.node_ids: list[str] = []
        self.repeats: dict[str, int] = {}
        self.nodes = nn.ModuleDict()
        slot: dict[str, int] = {}
        plan: list[tuple[str, tuple[int, ...]]] = []
        out_slot = 0
        for nid in graph.topological_order():
            node = graph.node(nid)
            block = get_block(node.type)
            if block.role == "input":
                slot[nid] = 0
                continue
            srcs = tuple(slot[s] for s in graph.inputs_of(nid) if s in slot)
            if block.role == "output":
                out_slot = srcs[0]
                continue
            info = analysis.nodes[nid]
            _put(self.nodes, nid, build_node(block, node.params, node.repeat, info.in_shapes))
            slot[nid] = len(plan) + 1
            plan.append((nid, srcs))
            self.node_ids.append(nid)
            self.repeats[nid] = node.repeat
        if body:  # a composite block's body: in place where a hand-written block would be
            inplace_where_safe([self.nodes[nid] for nid, _ in plan], [srcs for _, srcs in plan], out_slot)
        self.forward_source = forward_source(plan, out_slot)
        self.forward = types.MethodType(_make_forward(self.forward_source, graph.name), self)
        self.input_shape = analysis.input_shape
        self.output_shape = analysis.output_shape


_RESERVED = frozenset(dir(nn.ModuleDict()))


def _put(nodes: nn.ModuleDict, node_id: str, module: nn.Module) -> None:
    """Store a node's module under its id. An id that names an attribute every torch module has
    (``training``, ``forward``, ``eval``) cannot be a child's name, so it is refused with the fix."""
    if node_id in _RESERVED:
        raise CompileError(_Reserved(node_id))
    nodes[node_id] = module


class _Reserved:
    def __init__(self, node_id: str):
        self.node_id = node_id
        self.text = (f"node id '{node_id}' is a name torch modules use themselves, so the network cannot be "
                     f"built with it; rename the node (e.g. '{node_id}_1')")


def node_of_param(name: str) -> str:
    """``nodes.stage1.3.conv1.weight`` -> ``stage1``."""
    parts = name.split(".")
    return parts[1] if parts[0] == "nodes" and len(parts) > 1 else parts[0]


def compile_graph(graph: Graph, analysis=None) -> GraphModule:
    """The trainable module of a valid graph; raises CompileError naming the first problem."""
    return GraphModule(graph, analysis)
