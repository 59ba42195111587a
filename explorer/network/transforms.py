"""Structural edits that replace nodes by others: open a composite block in place, split a stage into
its blocks, collapse a chain of identical blocks back into one repeated stage.

Each goes through the ordinary ``Graph`` methods, so subscribers (the canvas) see ordinary events, and
each checks everything it needs *before* the first edit, so a refused transform leaves the graph as it
was. No Qt, no torch.
"""
from __future__ import annotations

from explorer.blocks.registry import UnknownBlockError, get_block
from explorer.graph.layout import COLUMN, layered_layout
from explorer.graph.model import Edge, Graph, GraphError, Node
from explorer.graph.shapes import TensorShape
from explorer.network.inference import analyze


class TransformError(GraphError):
    """A transform that does not apply here; the message says what would make it apply."""


def _input_shape(graph: Graph, node_id: str) -> TensorShape:
    info = analyze(graph).nodes[node_id]
    if len(info.in_shapes) != 1 or info.in_shapes[0] is None:
        raise TransformError(f"'{node_id}' has no known input shape, and what is inside depends on it; "
                             "connect its input (and fix any problem upstream) first", node_id)
    return tuple(info.in_shapes[0])


def _flow_axis(graph: Graph, node_id: str) -> int:
    """0 when the graph flows left-to-right around this node, 1 when top-to-bottom."""
    me = graph.node(node_id).pos
    for other in graph.outputs_of(node_id) + graph.inputs_of(node_id):
        p = graph.node(other).pos
        dx, dy = abs(p[0] - me[0]), abs(p[1] - me[1])
        if dx or dy:
            return 0 if dx >= dy else 1
    return 0


def _make_room(graph: Graph, node_id: str, axis: int, extra: float) -> None:
    """Push everything downstream of ``node_id`` (and beyond it along the flow) ``extra`` further on."""
    if extra <= 0:
        return
    import networkx as nx

    origin = graph.node(node_id).pos[axis]
    for nid in nx.descendants(graph.networkx(), node_id):
        p = graph.node(nid).pos
        if p[axis] > origin:
            graph.move_node(nid, (p[0] + extra, p[1]) if axis == 0 else (p[0], p[1] + extra))


def _unique(graph: Graph, wanted: str) -> str:
    wanted = wanted[:60]
    if wanted not in graph:
        return wanted
    i = 2
    while f"{wanted}_{i}" in graph:
        i += 1
    return f"{wanted}_{i}"


def _out_edges(graph: Graph, node_id: str) -> list[Edge]:
    return [e for d in graph.outputs_of(node_id) for e in graph.in_edges(d) if e.src == node_id]


def expand_in_place(graph: Graph, node_id: str) -> list[str]:
    """Replace a composite node by the primitives inside it (every repetition of a stage), rewired
    to the same neighbours. Returns the new node ids in flow order."""
    node = graph.node(node_id)
    block = get_block(node.type)
    if not block.composite:
        raise TransformError(f"'{node_id}' ({block.title}) is a primitive: there is nothing inside to open",
                             node_id)
    shape = _input_shape(graph, node_id)
    # Everything is computed before the first edit: a shape error in repetition 5 must not leave
    # half a stage behind.
    insides = []
    p = dict(node.params)
    for i in range(node.repeat):
        pi = p if i == 0 else block.repeat_params(p, i)
        exp = block.expansion(pi, shape)
        insides.append(exp.graph)
        shape = exp.out_shape
    axis = _flow_axis(graph, node_id)
    spans = []
    for inner in insides:
        xs = [n.pos[0] for nid, n in inner.nodes.items() if not inner.spec(nid).role]
        spans.append(max(xs) - min(xs) + COLUMN)
    origin = node.pos
    _make_room(graph, node_id, axis, sum(spans) - COLUMN)

    src_edges = graph.in_edges(node_id)
    outs = _out_edges(graph, node_id)
    graph.remove_node(node_id)
    current = src_edges[0].src if src_edges else None
    offset = 0.0
    new_ids: list[str] = []
    for i, inner in enumerate(insides):
        prefix = node_id if node.repeat == 1 else f"{node_id}_{i + 1}"
        first_x = min(n.pos[0] for nid, n in inner.nodes.items() if not inner.spec(nid).role)
        ids: dict[str, str] = {}
        for nid in inner.topological_order():
            n = inner.node(nid)
            if inner.spec(nid).role:
                continue
            along, across = offset + n.pos[0] - first_x, n.pos[1]
            pos = (origin[0] + along, origin[1] + across) if axis == 0 else (origin[0] + across * 1.8,
                                                                              origin[1] + along * 0.55)
            ids[nid] = graph.add_node(n.type, n.params, node_id=_unique(graph, f"{prefix}_{nid}"), pos=pos)
            new_ids.append(ids[nid])
        last = None
        for nid in inner.topological_order():
            n = inner.node(nid)
            for e in inner.in_edges(nid):
                src = current if inner.spec(e.src).role == "input" else ids[e.src]
                if inner.spec(nid).role == "output":
                    last = src
                elif src is not None:
                    graph.connect(src, ids[nid], order=e.order)
        current = last
        offset += spans[i]
    if current is not None:
        for e in outs:
            graph.connect(current, e.dst, order=e.order)
    return new_ids


def expand_all(graph: Graph, layout: str | None = "LR") -> int:
    """Expand every composite block (every repetition of every stage) into primitives and lay the
    result out again; returns how many composite nodes were expanded. Best run on a graph nobody is
    watching (a copy), then swapped in with ``replace_with``: one reset instead of thousands of events."""
    count = 0
    for nid in list(graph.topological_order()):
        try:
            composite = get_block(graph.node(nid).type).composite
        except UnknownBlockError:
            continue
        if composite:
            expand_in_place(graph, nid)
            count += 1
    if layout:
        layered_layout(graph, layout)
    return count


def split_stage(graph: Graph, node_id: str) -> list[str]:
    """A stage of N repetitions → N single blocks in a chain (the first keeps id, stride and inputs)."""
    node = graph.node(node_id)
    block = get_block(node.type)
    if node.repeat < 2:
        raise TransformError(f"'{node_id}' is a single block, not a stage; set its repeat above 1 to make one",
                             node_id)
    n, axis, origin = node.repeat, _flow_axis(graph, node_id), node.pos
    _make_room(graph, node_id, axis, (n - 1) * COLUMN)
    outs = _out_edges(graph, node_id)
    for e in outs:
        graph.disconnect(e.src, e.dst)
    graph.set_repeat(node_id, 1)
    ids, prev = [node_id], node_id
    for i in range(1, n):
        step = i * COLUMN
        pos = (origin[0] + step, origin[1]) if axis == 0 else (origin[0], origin[1] + step * 0.55)
        nid = graph.add_node(node.type, block.repeat_params(dict(node.params), i),
                             node_id=_unique(graph, f"{node_id}_{i + 1}"), pos=pos)
        graph.connect(prev, nid)
        ids.append(nid)
        prev = nid
    for e in outs:
        graph.connect(prev, e.dst, order=e.order)
    return ids


def chain_order(graph: Graph, node_ids) -> list[str]:
    """The nodes as one chain a → b → … (each feeding only the next), or TransformError."""
    chosen = list(dict.fromkeys(node_ids))
    hint = ("select two or more blocks of the same type connected one after another, "
            "each feeding only the next")
    if len(chosen) < 2:
        raise TransformError(f"collapsing needs a chain of at least two blocks; {hint}")
    members = set(chosen)
    for nid in chosen:
        if nid not in graph:
            raise TransformError(f"no node '{nid}'", nid)
    heads = [n for n in chosen if not any(s in members for s in graph.inputs_of(n))]
    if len(heads) != 1:
        raise TransformError(f"the selected blocks are not one chain; {hint}")
    order = [heads[0]]
    while len(order) < len(chosen):
        cur = order[-1]
        outs = graph.outputs_of(cur)
        nxt = [d for d in outs if d in members]
        if len(outs) != 1 or len(nxt) != 1:
            raise TransformError(f"'{cur}' does not feed exactly one selected block; {hint}", cur)
        if graph.inputs_of(nxt[0]) != [cur]:
            raise TransformError(f"'{nxt[0]}' has inputs from outside the chain; {hint}", nxt[0])
        order.append(nxt[0])
    return order


def collapse_to_stage(graph: Graph, node_ids) -> str:
    """A chain of identical composite blocks → the first of them with repeat N. Returns its id."""
    order = chain_order(graph, node_ids)
    nodes = [graph.node(n) for n in order]
    first = nodes[0]
    block = get_block(first.type)
    if not block.composite:
        raise TransformError(f"'{first.id}' ({block.title}) is a primitive; only residual blocks form stages",
                             first.id)
    later = block.repeat_params(dict(first.params), 1)
    for n in nodes[1:]:
        if n.type != first.type:
            raise TransformError(f"'{n.id}' is a {get_block(n.type).title}, not a {block.title}; a stage repeats "
                                 "one block type", n.id)
        if n.params != later:
            diff = sorted(k for k in later if n.params.get(k) != later[k])
            raise TransformError(f"'{n.id}' differs from '{first.id}' in {', '.join(diff)}; a stage repeats "
                                 "one block (only the first may have a stride), so make them equal first", n.id)
    total = sum(n.repeat for n in nodes)
    outs = _out_edges(graph, order[-1])
    for n in order[1:]:
        graph.remove_node(n)
    graph.set_repeat(first.id, total)
    for e in outs:
        graph.connect(first.id, e.dst, order=e.order)
    return first.id


# -- copy and paste ----------------------------------------------------------------------------------
def extract(graph: Graph, node_ids) -> Graph:
    """The selected nodes and the edges among them, as a graph of their own (what Copy puts away)."""
    keep = [n for n in dict.fromkeys(node_ids) if n in graph]
    sub = Graph(name="clipboard")
    for nid in keep:
        n = graph.node(nid)
        sub.add_node(n.type, dict(n.params), node_id=n.id, pos=n.pos, repeat=n.repeat)
    members = set(keep)
    for e in graph.edges:
        if e.src in members and e.dst in members:
            sub.connect(e.src, e.dst, order=e.order)
    return sub


def prepare_paste(graph: Graph, sub: Graph, offset: tuple[float, float] = (40.0, 40.0)):
    """Copies of ``sub``'s nodes with ids that are free in ``graph`` and positions moved by ``offset``,
    and its edges renamed to match: ``(nodes, edges)`` ready for an undoable add."""
    taken = set(graph.nodes)
    rename: dict[str, str] = {}
    nodes = []
    for nid in sub.topological_order():
        n = sub.node(nid)
        base = n.id.rstrip("0123456789").rstrip("_") or n.type
        i = 1
        new = n.id if n.id not in taken else None
        while new is None or new in taken:
            new = f"{base}_{i}"
            i += 1
        taken.add(new)
        rename[nid] = new
        nodes.append(Node(new, n.type, dict(n.params), (n.pos[0] + offset[0], n.pos[1] + offset[1]), n.repeat))
    edges = [Edge(rename[e.src], rename[e.dst], e.order) for e in sub.edges]
    return nodes, edges
