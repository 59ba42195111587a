"""Shape inference, cost totals and validation in one pass over the graph.

Each node's result is cached by (type, parameters, repeat, input shapes) in the block layer, so
re-running the pass after an edit of a 1000-block graph recomputes only what the edit touched.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from explorer.blocks.base import Cost, run_block
from explorer.blocks.registry import UnknownBlockError, get_block
from explorer.graph.model import Graph
from explorer.graph.shapes import ShapeError, TensorShape
from explorer.util.gc_pause import gc_paused


@dataclass(frozen=True)
class Problem:
    node_id: str | None
    message: str
    fix: str = ""
    severity: str = "error"  # or "warning"
    title: str = ""

    @property
    def text(self) -> str:
        where = f"{self.title} '{self.node_id}': " if self.node_id else ""
        return f"{where}{self.message}" + (f"; {self.fix}" if self.fix else "")


@dataclass
class NodeInfo:
    in_shapes: list[TensorShape] = field(default_factory=list)
    out_shape: TensorShape | None = None
    cost: Cost = Cost()
    problems: list[Problem] = field(default_factory=list)


@dataclass
class Analysis:
    nodes: dict[str, NodeInfo]
    problems: list[Problem]
    input_shape: TensorShape | None
    output_shape: TensorShape | None
    total: Cost

    @property
    def valid(self) -> bool:
        return not any(p.severity == "error" for p in self.problems)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]


def analyze(graph: Graph) -> Analysis:
    with gc_paused():  # one record per node: on a 200k-node graph the collector would rescan them all often
        return _analyze(graph)


def _analyze(graph: Graph) -> Analysis:
    nodes = graph.nodes
    infos: dict[str, NodeInfo] = {nid: NodeInfo() for nid in nodes}
    problems: list[Problem] = []

    def report(nid, message, fix="", severity="error"):
        title = _title(graph, nid) if nid else ""
        pr = Problem(nid, message, fix, severity, title)
        problems.append(pr)
        if nid:
            infos[nid].problems.append(pr)

    inputs, outputs = graph.nodes_with_role("input"), graph.nodes_with_role("output")
    if not inputs:
        report(None, "the graph has no Input node", "add an Input from the palette and connect it to the first layer")
    elif len(inputs) > 1:
        for nid in inputs[1:]:
            report(nid, "a network has exactly one Input", "delete this one or merge the paths")
    if not outputs:
        report(None, "the graph has no Output node", "add an Output and connect the last layer (the classifier) to it")
    elif len(outputs) > 1:
        for nid in outputs[1:]:
            report(nid, "a network has exactly one Output", "delete this one")

    cycle = graph.find_cycle()
    if cycle:
        report(cycle[0], f"is part of a cycle ({' → '.join(cycle + cycle[:1])})", "remove one of these edges")
        return Analysis(infos, problems, None, None, Cost())

    # Totals as plain ints, and each block's numeric parameters looked up once per type: this loop runs
    # once per node, and a 200k-node file must validate in seconds.
    params = macs = layers = 0
    blocks: dict[str, tuple] = {}
    # Shape and cost by (parameters, repeat, input shapes): a 200k-node file has a handful of distinct nodes,
    # each worked out (and its parameters frozen) once; the model keeps the parameter keys between analyses.
    worked: dict[tuple, tuple] = {}
    for nid in graph.topological_order():
        node = nodes[nid]
        info = infos[nid]
        found = blocks.get(node.type)
        if found is None:
            try:
                block = get_block(node.type)
            except UnknownBlockError as e:
                report(nid, str(e), "delete it or update Residual Explorer")
                continue
            found = blocks[node.type] = (block, tuple(p for p in block.params if p.minimum is not None
                                                      or p.maximum is not None))
        block, ranged = found
        for p in ranged:
            msg = p.range_problem(node.params.get(p.name))
            if msg:
                report(nid, msg, f"set it between {p.minimum:g} and {p.maximum:g}" if p.maximum is not None else "")
        srcs = graph.inputs_of(nid)
        if len(srcs) < block.min_inputs:
            need = "an input" if block.min_inputs == 1 else f"at least {block.min_inputs} inputs"
            report(nid, f"needs {need} but has {len(srcs)}", "drag an edge from an output port to its input")
            continue
        if len(srcs) > block.max_inputs:
            report(nid, f"takes at most {block.max_inputs} input(s) but has {len(srcs)}", "remove the extra edges")
            continue
        in_shapes = [infos[s].out_shape for s in srcs]
        if None in in_shapes or info.problems:
            continue  # the cause is reported upstream or above; one message per cause
        info.in_shapes = in_shapes
        key = (graph.params_key(nid), node.repeat, tuple(in_shapes))
        result = worked.get(key)
        if result is None:
            try:
                result = run_block(block, node.params, node.repeat, in_shapes)
            except ShapeError as e:
                result = e
            worked[key] = result
        if isinstance(result, ShapeError):
            report(nid, result.message, result.fix)
            continue
        out_shape, cost = result
        info.out_shape, info.cost = out_shape, cost
        if block.unbuildable:  # the shape is known (so later nodes get theirs) but nothing can run it
            report(nid, block.unbuildable, block.unbuildable_fix)
        params += cost.params
        macs += cost.macs
        layers += cost.weight_layers
    total = Cost(params, macs, layers)

    if len(outputs) == 1:
        feeding = graph.ancestors(outputs[0])
        feeding.add(outputs[0])
        feeding.update(inputs)
        for nid in nodes:
            if nid not in feeding:
                report(nid, "does not lead to the Output, so its result is unused",
                       "connect it onward or delete it", severity="warning")

    in_shape = infos[inputs[0]].out_shape if inputs else None
    out_shape = infos[outputs[0]].out_shape if len(outputs) == 1 else None
    return Analysis(infos, problems, in_shape, out_shape, total)


def _title(graph: Graph, nid: str) -> str:
    try:
        return graph.spec(nid).title
    except UnknownBlockError:
        return "Node"
