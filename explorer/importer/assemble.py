"""Turn a measured fx trace into a graph of our primitives, with opaque nodes for the rest.

Every value gets a handle: a graph node for a tensor an operation produced, the handle of its input for a
pass-through, nothing for sizes and constants. Node ids come from the traced names (``layer1.0.conv1`` ->
``layer1_0_conv1``), so the canvas reads like the code and the weight map (``sources``: compiled module path
-> traced submodule) is a plain dictionary. Finally each mapped node's inferred shape is held against the
measured one; a node that disagrees (a mapping that was not exact after all) becomes opaque too.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from torch import fx

from explorer.graph.model import ID_RE, Graph
from explorer.importer.mapping import Context, map_node, tensor_inputs
from explorer.importer.trace import Traced
from explorer.network.inference import analyze


@dataclass
class Assembled:
    graph: Graph
    sources: dict[str, str]                 # "nodes.<id>" -> traced submodule whose state_dict it loads
    traced_shapes: dict[str, tuple]          # node id -> measured per-sample shape
    fallback: dict[str, dict] = field(default_factory=dict)  # node id -> its opaque parameters, if need be
    opaque: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)


def record_shape(shape) -> list[int]:
    """A measured per-sample shape as an opaque node's ``shape`` holds it (1 to 3 sizes): a scalar is [1],
    dimensions beyond the third are folded into it."""
    dims = [max(1, int(d)) for d in shape]
    if not dims:
        return [1]
    if len(dims) > 3:
        dims = dims[:2] + [_prod(dims[2:])]
    return dims


def _prod(xs) -> int:
    out = 1
    for x in xs:
        out *= x
    return out


class NodeIds:
    """Valid, unused node ids made from traced names."""

    def __init__(self, graph: Graph):
        self.graph = graph

    def make(self, wanted: str) -> str:
        base = re.sub(r"[^A-Za-z0-9_]", "_", wanted).strip("_") or "node"
        if not (base[0].isalpha() or base[0] == "_"):
            base = f"n_{base}"
        base = base[:56]
        nid, i = base, 1
        while nid in self.graph or not ID_RE.fullmatch(nid):
            i += 1
            nid = f"{base}_{i}"
        return nid


def assemble(traced: Traced, input_shape: tuple[int, ...], name: str) -> Assembled:
    graph = Graph(name=name)
    ids = NodeIds(graph)
    modules = dict(traced.module.named_modules())
    ctx = Context(modules, traced.shapes)
    handle: dict[str, str] = {}   # fx node name -> graph node id
    out = Assembled(graph, {}, {})
    unmapped: list[str] = []

    def sample_shape(n: fx.Node) -> tuple:
        full = traced.shapes.get(n.name) or ()
        return tuple(full[1:]) if len(full) > 1 else (1,)

    def add(type_name: str, params: dict, srcs: list[str], wanted: str, shape: tuple) -> str:
        nid = graph.add_node(type_name, params, node_id=ids.make(wanted))
        for s in srcs:
            graph.connect(s, nid, check_cycle=False)  # fx order is topological
        if shape is not None:
            out.traced_shapes[nid] = shape
        return nid

    placeholders = 0
    for n in traced.graph.nodes:
        if n.op == "placeholder":
            placeholders += 1
            if placeholders == 1:
                handle[n.name] = add("input", {"shape": list(input_shape)}, [], "input", tuple(input_shape))
            continue
        if n.op == "output":
            add("output", {}, [_output_source(n, handle, out)], "output", ())
            continue
        if n.op == "get_attr" or (traced.shapes.get(n.name) is None and n.name not in traced.multi):
            continue  # a size, a constant or a parameter used by a function: not an edge of the picture
        srcs = [handle[a.name] for a in tensor_inputs(n, ctx) if a.name in handle]
        steps = map_node(n, ctx) if n.name not in traced.multi else None
        wanted = n.target if n.op == "call_module" else n.name
        if steps == [] and len(srcs) == 1:
            handle[n.name] = srcs[0]
            continue
        if not steps:
            nid = add("opaque", _opaque_params(n, modules, sample_shape(n)), srcs, wanted, sample_shape(n))
            out.opaque.append(nid)
            unmapped.append(_op_name(n))
            handle[n.name] = nid
            continue
        x = None
        for i, step in enumerate(steps):
            x = add(step.type, step.params, srcs if i == 0 else [x],
                    wanted if i == 0 else f"{wanted}_{step.type}", sample_shape(n) if i == len(steps) - 1 else None)
            if i == 0:
                out.fallback[x] = _opaque_params(n, modules, sample_shape(n))
            if step.takes_weights:
                out.sources[f"nodes.{x}"] = n.target
        handle[n.name] = x
    _merge_subsample_pad(out)
    _opaque_where_shapes_differ(out)
    if traced.kept_whole:
        out.notices.append(f"fx could not follow {len(traced.kept_whole)} submodule(s), kept whole as opaque nodes: "
                           + ", ".join(traced.kept_whole[:6]))
    if out.opaque:
        out.notices.append(f"{len(out.opaque)} operation(s) have no block here and became opaque nodes "
                           f"(replace them before training): {', '.join(out.opaque[:8])}"
                           + (" …" if len(out.opaque) > 8 else ""))
    return out


def _output_source(n: fx.Node, handle: dict[str, str], out: Assembled) -> str:
    found: list[str] = []
    fx.node.map_arg(n.args, lambda a: found.append(handle[a.name]) if a.name in handle else None)
    if not found:
        from explorer.importer.errors import ImporterError
        raise ImporterError("the model's forward returns no tensor computed from its input")
    if len(found) > 1 or not isinstance(n.args[0], fx.Node):
        out.notices.append(f"the model returns {len(found)} tensors; the graph's Output takes the first")
    return found[0]


def _op_name(n: fx.Node) -> str:
    if n.op == "call_module":
        return str(n.target)
    return getattr(n.target, "__name__", str(n.target))


def _opaque_params(n: fx.Node, modules: dict, shape: tuple) -> dict:
    kind = {"call_function": "function", "call_method": "method", "call_module": "module"}.get(n.op, "value")
    weights = sum(p.numel() for p in modules[n.target].parameters()) if n.op == "call_module" else 0
    return {"op_kind": kind, "shape": record_shape(shape), "weights": int(weights)}


def _retype(graph: Graph, nid: str, type_name: str, params: dict) -> None:
    """Give node ``nid`` another type in place: same id, same edges in the same input positions."""
    ins = graph.in_edges(nid)
    outs = [e for s in graph.outputs_of(nid) for e in graph.in_edges(s) if e.src == nid]
    graph.remove_node(nid)
    graph.add_node(type_name, params, node_id=nid)
    for e in ins + outs:
        graph.connect(e.src, e.dst, e.order, check_cycle=False)


def _merge_subsample_pad(out: Assembled) -> None:
    """``F.pad(x[:, :, ::2, ::2], ...)`` was mapped as two zero-pad steps; one node does both."""
    g = out.graph
    for nid in list(g.nodes_of_type("zeropad_shortcut")):
        if nid not in g:
            continue
        srcs = g.inputs_of(nid)
        first = srcs[0] if srcs else None
        if (first is None or g.node(first).type != "zeropad_shortcut" or g.node(nid).params["stride"] != 1
                or len(g.outputs_of(first)) != 1):
            continue
        stride = g.node(first).params["stride"]
        (feed,) = g.inputs_of(first)
        g.remove_node(first)
        g.connect(feed, nid, 0, check_cycle=False)
        g.set_param(nid, "stride", stride)


def _opaque_where_shapes_differ(out: Assembled) -> None:
    """A mapped node whose inferred shape is not the measured one (or that inference refuses) becomes opaque,
    earliest first, until the graph agrees with the trace everywhere its inputs do."""
    g = out.graph
    for _ in range(len(g)):
        a = analyze(g)
        bad = None
        for nid in g.topological_order():
            node = g.node(nid)
            want = out.traced_shapes.get(nid)
            if want is None or node.type in ("input", "output", "opaque"):
                continue
            info = a.nodes[nid]
            ins_ok = all(a.nodes[s].out_shape is not None
                         and tuple(a.nodes[s].out_shape) == tuple(out.traced_shapes.get(s, a.nodes[s].out_shape))
                         for s in g.inputs_of(nid))
            if ins_ok and tuple(info.out_shape or ()) != tuple(want):
                bad = nid
                break
        if bad is None:
            return
        params = out.fallback.get(bad) or {"op_kind": "function", "weights": 0}
        _retype(g, bad, "opaque", {**params, "shape": record_shape(out.traced_shapes[bad])})
        out.sources.pop(f"nodes.{bad}", None)
        out.opaque.append(bad)
