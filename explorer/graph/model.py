"""The architecture as data: nodes with typed parameters, ordered edges, change events.

Every edit goes through a handful of methods that check the graph's own rules (typed errors for a
cycle, a duplicate link, a taken input port) and then notify subscribers, so an undo stack and a
canvas can sit on top without the model knowing about them.
"""
from __future__ import annotations

import bisect
import heapq
import re
from dataclasses import dataclass, field
from typing import Any, Callable, NamedTuple

import networkx as nx

from explorer.graph.catalog import CATALOG, Catalog
from explorer.graph.params import ParamError

ID_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")  # always with fullmatch: "$" would let a final newline pass
# A stage of 1000 blocks already makes a several-thousand-layer network (the deepest published ResNet has
# 1001 layers); beyond it a repeat count is a typo or an attack, and a stage of 10**7 would hang analysis.
MAX_REPEAT = 1000
DIRECTIONS = ("LR", "TB")  # layout directions: left to right, top to bottom


class GraphError(ValueError):
    """An edit the graph refuses; ``node_id`` names where."""

    def __init__(self, message: str, node_id: str | None = None):
        super().__init__(message)
        self.node_id = node_id


class CycleError(GraphError):
    pass


class DuplicateLinkError(GraphError):
    pass


class PortError(GraphError):
    pass


class NodeIdError(GraphError):
    pass


@dataclass
class Node:
    id: str
    type: str
    params: dict[str, Any]
    pos: tuple[float, float] = (0.0, 0.0)
    repeat: int = 1


class Edge(NamedTuple):
    """An immutable link (a named tuple: a 10⁵-edge file creates it 10⁵ times, a frozen dataclass is 6× dearer)."""

    src: str
    dst: str
    order: int = 0  # position among the destination's inputs (Concat and Subtract care)


@dataclass(frozen=True)
class GraphEvent:
    kind: str  # node_added | node_removed | edge_added | edge_removed | param_changed | node_moved | repeat_changed | direction_changed | reset
    node_id: str | None = None
    edge: Edge | None = None
    name: str | None = None
    old: Any = None
    new: Any = None


@dataclass
class Graph:
    """A directed acyclic graph of blocks kept in networkx; edit only through the methods."""

    name: str = "untitled"
    _g: nx.DiGraph = field(default_factory=nx.DiGraph, repr=False)
    _listeners: list[Callable[[GraphEvent], None]] = field(default_factory=list, repr=False)
    revision: int = 0
    _topo: list[str] | None = field(default=None, repr=False)
    # Each node's incoming edges in input order, kept beside networkx by the edit methods: analysis and
    # the compiler ask for them once per node, and networkx would build views and sort on every call.
    _inputs: dict[str, list[Edge]] = field(default_factory=dict, repr=False)
    catalog: Catalog = field(default=CATALOG, repr=False, compare=False)
    # How the document is laid out (one of DIRECTIONS): part of the document, saved in its file.
    direction: str = field(default="LR", compare=False)

    # -- queries --------------------------------------------------------------------------------
    @property
    def nodes(self) -> dict[str, Node]:
        return {n: d["node"] for n, d in self._g.nodes(data=True)}

    def node(self, node_id: str) -> Node:
        try:
            return self._g.nodes[node_id]["node"]
        except KeyError:
            raise GraphError(f"no node '{node_id}'", node_id) from None

    def __contains__(self, node_id: str) -> bool:
        return node_id in self._g

    def __len__(self) -> int:
        return self._g.number_of_nodes()

    @property
    def edges(self) -> list[Edge]:
        return [d["edge"] for _, _, d in self._g.edges(data=True)]

    def in_edges(self, node_id: str) -> list[Edge]:
        try:
            return list(self._inputs[node_id])
        except KeyError:
            raise GraphError(f"no node '{node_id}'", node_id) from None

    def inputs_of(self, node_id: str) -> list[str]:
        try:
            return [e.src for e in self._inputs[node_id]]
        except KeyError:
            raise GraphError(f"no node '{node_id}'", node_id) from None

    def ancestors(self, node_id: str) -> set[str]:
        """Every node with a path to ``node_id`` (not itself)."""
        inputs = self._inputs
        seen: set[str] = set()
        todo = [node_id]
        while todo:
            for e in inputs[todo.pop()]:
                if e.src not in seen:
                    seen.add(e.src)
                    todo.append(e.src)
        return seen

    def outputs_of(self, node_id: str) -> list[str]:
        return list(self._g.successors(node_id))

    def has_cycle(self) -> bool:
        return len(self._sorted()) < len(self._g)

    def find_cycle(self) -> list[str]:
        """The nodes of one cycle in edge order, or [] when there is none (one sort, linear in the graph)."""
        order = self._sorted()
        if len(order) == len(self._g):
            return []
        placed = set(order)  # every cycle lies among the nodes the sort could not place
        rest = self._g.subgraph(n for n in self._g if n not in placed)
        return [u for u, _ in nx.find_cycle(rest)]

    def topological_order(self) -> list[str]:
        """Node ids in an order where every edge goes forward; ties keep insertion order."""
        order = self._sorted()
        if len(order) < len(self._g):
            raise nx.NetworkXUnfeasible("the graph has a cycle, so it has no topological order")
        return order

    def _sorted(self) -> list[str]:
        """Kahn's sort with ties broken by insertion order, cached until the structure changes; on a
        cyclic graph it stops short, leaving out the cycles and what follows them."""
        if self._topo is None:
            g = self._g
            index = {n: i for i, n in enumerate(g)}
            ids = list(g)
            waiting = {n: d for n, d in g.in_degree() if d}
            ready = [i for i, n in enumerate(ids) if n not in waiting]  # ascending: already a heap
            order = []
            succ = g.succ
            while ready:
                n = ids[heapq.heappop(ready)]
                order.append(n)
                for m in succ[n]:
                    left = waiting[m] - 1
                    if left:
                        waiting[m] = left
                    else:
                        del waiting[m]
                        heapq.heappush(ready, index[m])
            self._topo = order
        return self._topo

    def nodes_of_type(self, type_name: str) -> list[str]:
        return [n for n, d in self._g.nodes(data=True) if d["node"].type == type_name]

    def nodes_with_role(self, role: str) -> list[str]:
        """The network's ``"input"`` or ``"output"`` nodes, as their block types declare."""
        specs = self.catalog
        matches: dict[str, bool] = {}  # per type, not per node: analysis asks this of every large graph
        found = []
        for n, d in self._g.nodes(data=True):
            t = d["node"].type
            hit = matches.get(t)
            if hit is None:
                hit = matches[t] = t in specs and specs.get(t).role == role
            if hit:
                found.append(n)
        return found

    def spec(self, node_id: str):
        """The description of a node's block type."""
        return self.catalog.get(self.node(node_id).type)

    def networkx(self) -> nx.DiGraph:
        """A read-only view for algorithms (layout, paths)."""
        return self._g.copy(as_view=True)

    # -- edits ----------------------------------------------------------------------------------
    def new_id(self, type_name: str) -> str:
        prefix = re.sub(r"[^A-Za-z0-9_]", "_", type_name) or "node"
        i = 1
        while f"{prefix}_{i}" in self._g:
            i += 1
        return f"{prefix}_{i}"

    def add_node(self, type_name: str, params: dict | None = None, *, node_id: str | None = None,
                 pos: tuple[float, float] = (0.0, 0.0), repeat: int = 1) -> str:
        block = self.catalog.get(type_name)
        full = block.params.complete(type_name, params)
        node_id = node_id or self.new_id(type_name)
        if not isinstance(node_id, str) or not ID_RE.fullmatch(node_id):
            raise NodeIdError(f"node id '{node_id}' must be letters, digits and _ and not start with a digit", node_id)
        if node_id in self._g:
            raise NodeIdError(f"a node called '{node_id}' already exists", node_id)
        repeat = _check_repeat(repeat, block.repeatable, node_id)
        self._g.add_node(node_id, node=Node(node_id, type_name, full, (float(pos[0]), float(pos[1])), repeat))
        self._inputs[node_id] = []
        self._changed("node_added", node_id, structure=True)
        return node_id

    def remove_node(self, node_id: str) -> tuple[Node, list[Edge]]:
        """Remove a node and its edges; returns both so an undo can put them back."""
        node = self.node(node_id)
        edges = self.in_edges(node_id) + [self._g.edges[node_id, s]["edge"] for s in self._g.successors(node_id)]
        for e in edges:
            self.disconnect(e.src, e.dst)
        self._g.remove_node(node_id)
        del self._inputs[node_id]
        self._changed("node_removed", node_id, structure=True, old=node)
        return node, edges

    def restore_node(self, node: Node) -> None:
        """Put back a node returned by ``remove_node`` (same id, params, position)."""
        self.add_node(node.type, node.params, node_id=node.id, pos=node.pos, repeat=node.repeat)

    def connection_problem(self, src: str, dst: str, check_cycle: bool = True) -> GraphError | None:
        """Why ``connect(src, dst)`` would be refused (a typed error to raise or show), or None.
        The canvas asks this while a link is dragged, so the rules live only here. ``check_cycle=False``
        skips the path search (linear in the graph) for bulk loads, which check once at the end."""
        try:
            s, d = self.node(src), self.node(dst)
        except GraphError as e:
            return e
        sb, db = self.catalog.get(s.type), self.catalog.get(d.type)
        if not sb.has_output:
            return PortError(f"'{src}' ({sb.title}) has no output to connect from", src)
        if db.max_inputs == 0:
            return PortError(f"'{dst}' ({db.title}) takes no input", dst)
        if src == dst:
            return CycleError(f"cannot connect '{src}' to itself", src)
        if self._g.has_edge(src, dst):
            return DuplicateLinkError(f"'{src}' is already connected to '{dst}'", dst)
        if check_cycle and nx.has_path(self._g, dst, src):
            return CycleError(f"connecting '{src}' to '{dst}' would make a cycle", dst)
        if len(self._inputs[dst]) >= db.max_inputs:
            what = "one input" if db.max_inputs == 1 else f"at most {db.max_inputs} inputs"
            return PortError(f"'{dst}' ({db.title}) takes {what} and it is already connected; "
                             f"disconnect it first or use an Add/Concat node", dst)
        return None

    def connect(self, src: str, dst: str, order: int | None = None, check_cycle: bool = True) -> Edge:
        problem = self.connection_problem(src, dst, check_cycle)
        if problem is not None:
            raise problem
        inputs = self._inputs[dst]
        if order is None:
            order = max((e.order for e in inputs), default=-1) + 1
        edge = Edge(src, dst, int(order))
        self._g.add_edge(src, dst, edge=edge)
        bisect.insort_right(inputs, edge, key=_by_order)  # after equal orders: ties keep connection order
        self._changed("edge_added", dst, structure=True, edge=edge)
        return edge

    def disconnect(self, src: str, dst: str) -> Edge:
        if not self._g.has_edge(src, dst):
            raise GraphError(f"'{src}' is not connected to '{dst}'", dst)
        edge = self._g.edges[src, dst]["edge"]
        self._g.remove_edge(src, dst)
        self._inputs[dst].remove(edge)
        self._changed("edge_removed", dst, structure=True, edge=edge)
        return edge

    def set_param(self, node_id: str, name: str, value: Any) -> None:
        node = self.node(node_id)
        p = self.catalog.get(node.type).params.get(name)
        if p is None:
            raise ParamError(f"{node.type} has no parameter '{name}'")
        value = p.coerce(value)
        old = node.params[name]
        if old == value:
            return
        node.params[name] = value
        self._changed("param_changed", node_id, name=name, old=old, new=value)

    def set_repeat(self, node_id: str, repeat: int) -> None:
        node = self.node(node_id)
        repeat = _check_repeat(repeat, self.catalog.get(node.type).repeatable, node_id)
        if repeat == node.repeat:
            return
        old, node.repeat = node.repeat, repeat
        self._changed("repeat_changed", node_id, old=old, new=repeat)

    def move_node(self, node_id: str, pos: tuple[float, float]) -> None:
        node = self.node(node_id)
        pos = (float(pos[0]), float(pos[1]))
        if pos == node.pos:
            return
        old, node.pos = node.pos, pos
        self._changed("node_moved", node_id, old=old, new=pos)

    def set_direction(self, direction: str) -> None:
        if direction not in DIRECTIONS:
            raise GraphError(f"layout direction must be one of {', '.join(DIRECTIONS)}, not {direction!r}")
        if direction == self.direction:
            return
        old, self.direction = self.direction, direction
        self._changed("direction_changed", old=old, new=direction)

    def replace_with(self, other: "Graph") -> None:
        """Take over another graph's content (open file, new) with one 'reset' event."""
        self._g = other._g.copy()
        for n, data in self._g.nodes(data=True):
            data["node"] = _copy_node(data["node"])
        self._inputs = {n: list(edges) for n, edges in other._inputs.items()}
        self.name = other.name
        self.direction = other.direction
        self._changed("reset", structure=True)

    def copy(self) -> "Graph":
        g = Graph(name=self.name, catalog=self.catalog)
        g.replace_with(self)
        g.revision = 0
        return g

    # -- notifications --------------------------------------------------------------------------
    def subscribe(self, fn: Callable[[GraphEvent], None]) -> None:
        self._listeners.append(fn)

    def unsubscribe(self, fn: Callable[[GraphEvent], None]) -> None:
        if fn in self._listeners:
            self._listeners.remove(fn)

    def _changed(self, kind: str, node_id: str | None = None, structure: bool = False, **what: Any) -> None:
        self.revision += 1
        if structure:
            self._topo = None
        if self._listeners:  # no event object when nobody listens: a file load adds 10⁵ nodes unobserved
            event = GraphEvent(kind, node_id, **what)
            for fn in list(self._listeners):
                fn(event)

    # -- comparison -----------------------------------------------------------------------------
    def same_as(self, other: "Graph") -> bool:
        """Same nodes (id, type, params, position, repeat) and the same edges, in any order."""
        mine = {n.id: (n.type, n.params, n.pos, n.repeat) for n in self.nodes.values()}
        theirs = {n.id: (n.type, n.params, n.pos, n.repeat) for n in other.nodes.values()}
        return mine == theirs and set(self.edges) == set(other.edges)


def _copy_node(n: Node) -> Node:
    """Parameter values are JSON scalars or flat lists, so this is a full copy, much cheaper than deepcopy."""
    params = {k: (list(v) if isinstance(v, list) else v) for k, v in n.params.items()}
    return Node(n.id, n.type, params, n.pos, n.repeat)


def _by_order(e: Edge) -> int:
    return e.order


def _check_repeat(repeat: Any, repeatable: bool, node_id: str) -> int:
    if isinstance(repeat, bool) or not isinstance(repeat, int) or repeat < 1:
        raise GraphError(f"repeat of '{node_id}' must be a whole number ≥ 1, got {_show(repeat)}", node_id)
    if repeat > MAX_REPEAT:
        raise GraphError(f"repeat of '{node_id}' is {_show(repeat)}, more than the {MAX_REPEAT} a stage may have; "
                         "use a smaller count or several stages", node_id)
    if repeat > 1 and not repeatable:
        raise GraphError(f"'{node_id}' is a primitive and cannot repeat; only residual blocks form stages", node_id)
    return repeat


def _show(value: Any) -> str:
    r = repr(value)
    return r if len(r) <= 40 else f"a {len(r)}-character value"
