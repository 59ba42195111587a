"""The architecture as data: nodes with typed parameters, ordered edges, change events.

Every edit goes through a handful of methods that check the graph's own rules (typed errors for a
cycle, a duplicate link, a taken input port) and then notify subscribers, so an undo stack and a
canvas can sit on top without the model knowing about them.

Nodes and edges live in the model's own dicts (a node's inputs in input order, its outputs in
connection order); networkx is a read-only view built on demand for the algorithms that need one
(layout, paths), so a 200k-node file never pays for networkx's bookkeeping. ``Graph.from_records``
builds a whole graph from a file's records in one pass, with the same checks (and the same errors,
the node named) as the edit methods, which it shares with them.
"""
from __future__ import annotations

import bisect
import heapq
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, NamedTuple

import networkx as nx

from explorer.graph.catalog import CATALOG, Catalog, UnknownBlockError
from explorer.graph.params import ParamError, frozen

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


class MissingNodeError(GraphError):
    """No node has this id (``node_id``)."""


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


class RecordProblem(NamedTuple):
    """One record ``Graph.from_records`` refused: which list (``"node"`` or ``"edge"``), its index there, and
    the error the edit method would have raised for it."""

    kind: str
    index: int
    error: Exception


class RecordsError(GraphError):
    """``Graph.from_records`` refused records; ``problems`` lists each one (at most ``limit``)."""

    def __init__(self, problems: list[RecordProblem]):
        first = problems[0].error
        super().__init__(str(first), getattr(first, "node_id", None))
        self.problems = problems


@dataclass(eq=False)  # a graph is a document: equal when it is the same one (``same_as`` compares content)
class Graph:
    """A directed acyclic graph of blocks; edit only through the methods."""

    name: str = "untitled"
    _nodes: dict[str, Node] = field(default_factory=dict, repr=False)
    _listeners: list[Callable[[GraphEvent], None]] = field(default_factory=list, repr=False)
    revision: int = 0
    _topo: list[str] | None = field(default=None, repr=False)
    # Each node's incoming edges in input order, and its outgoing edges by destination in connection order.
    _inputs: dict[str, list[Edge]] = field(default_factory=dict, repr=False)
    _outputs: dict[str, dict[str, Edge]] = field(default_factory=dict, repr=False)
    _view: nx.DiGraph | None = field(default=None, repr=False, compare=False)  # networkx(), until an edit
    # Each node's parameters as a hashable key (``params_key``), made once per distinct parameter set and
    # kept until the node's parameters change: analysis looks shapes and costs up by it.
    _keys: dict[str, tuple] = field(default_factory=dict, repr=False, compare=False)
    catalog: Catalog = field(default=CATALOG, repr=False, compare=False)
    # How the document is laid out (one of DIRECTIONS): part of the document, saved in its file.
    direction: str = field(default="LR", compare=False)

    # -- queries --------------------------------------------------------------------------------
    @property
    def nodes(self) -> dict[str, Node]:
        return dict(self._nodes)

    def node(self, node_id: str) -> Node:
        try:
            return self._nodes[node_id]
        except (KeyError, TypeError):
            raise MissingNodeError(f"no node '{node_id}'", node_id) from None

    def __contains__(self, node_id: str) -> bool:
        return node_id in self._nodes

    def __len__(self) -> int:
        return len(self._nodes)

    @property
    def edges(self) -> list[Edge]:
        return [e for outs in self._outputs.values() for e in outs.values()]

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
        try:
            return list(self._outputs[node_id])
        except KeyError:
            raise GraphError(f"no node '{node_id}'", node_id) from None

    def has_cycle(self) -> bool:
        return len(self._sorted()) < len(self._nodes)

    def find_cycle(self) -> list[str]:
        """The nodes of one cycle in edge order, or [] when there is none (one sort, linear in the graph)."""
        order = self._sorted()
        if len(order) == len(self._nodes):
            return []
        placed = set(order)
        # Every node the sort could not place has an input it could not place either: walking back along
        # such inputs from any of them must come round to a node already walked, and that loop is a cycle.
        walk: dict[str, int] = {}
        n = next(n for n in self._nodes if n not in placed)
        while n not in walk:
            walk[n] = len(walk)
            n = next(e.src for e in self._inputs[n] if e.src not in placed)
        back = list(walk)[walk[n]:]
        return back[:1] + back[:0:-1]  # the walk went against the edges: reverse it, starting where it closed

    def topological_order(self) -> list[str]:
        """Node ids in an order where every edge goes forward; ties keep insertion order."""
        order = self._sorted()
        if len(order) < len(self._nodes):
            raise nx.NetworkXUnfeasible("the graph has a cycle, so it has no topological order")
        return order

    def _sorted(self) -> list[str]:
        """Kahn's sort with ties broken by insertion order, cached until the structure changes; on a
        cyclic graph it stops short, leaving out the cycles and what follows them."""
        if self._topo is None:
            index = {n: i for i, n in enumerate(self._nodes)}
            ids = list(self._nodes)
            waiting = {n: len(ins) for n, ins in self._inputs.items() if ins}
            ready = [i for i, n in enumerate(ids) if n not in waiting]  # ascending: already a heap
            order = []
            succ = self._outputs
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
        return [n for n, node in self._nodes.items() if node.type == type_name]

    def nodes_with_role(self, role: str) -> list[str]:
        """The network's ``"input"`` or ``"output"`` nodes, as their block types declare."""
        specs = self.catalog
        matches: dict[str, bool] = {}  # per type, not per node: analysis asks this of every large graph
        found = []
        for n, node in self._nodes.items():
            t = node.type
            hit = matches.get(t)
            if hit is None:
                hit = matches[t] = t in specs and specs.get(t).role == role
            if hit:
                found.append(n)
        return found

    def params_key(self, node_id: str) -> tuple:
        """The node's type and parameters as a hashable value, equal for equal parameter sets."""
        key = self._keys.get(node_id)
        if key is None:
            node = self.node(node_id)
            key = self._keys[node_id] = (node.type, frozen(node.params))
        return key

    def spec(self, node_id: str):
        """The description of a node's block type."""
        return self.catalog.get(self.node(node_id).type)

    def networkx(self) -> nx.DiGraph:
        """A read-only networkx view for algorithms (layout, paths): built on the first call after an edit
        (node data ``node``, edge data ``edge``, nodes and edges in the model's order)."""
        if self._view is None:
            g = nx.DiGraph()
            g.add_nodes_from((n, {"node": node}) for n, node in self._nodes.items())
            g.add_edges_from((e.src, e.dst, {"edge": e}) for e in self.edges)
            self._view = g.copy(as_view=True)
        return self._view

    # -- a whole graph at once ------------------------------------------------------------------
    @classmethod
    def from_records(cls, nodes: Iterable[tuple], edges: Iterable[tuple], *, name: str = "untitled",
                     direction: str = "LR", catalog: Catalog = CATALOG, limit: int = 100) -> "Graph":
        """A graph from records in one pass: ``nodes`` as ``(index, id, type, params, pos, repeat)``,
        ``edges`` as ``(index, src, dst, order)`` (the index: where the record stands in its file). Each
        record gets the checks ``add_node`` / ``connect(check_cycle=False)`` make, raising the same errors;
        the edges of a refused node are skipped (they cannot be judged without it). Raises RecordsError with
        every problem (up to ``limit``); the caller checks for cycles once (``find_cycle``), as a file
        reader does. No events are sent: nobody listens to a graph being made."""
        g = cls(name=name, catalog=catalog, direction=direction)
        problems: list[RecordProblem] = []
        refused: set[str] = set()
        # Each distinct (type, parameters) record is completed, coerced and keyed once: (params, key, has lists).
        completed: dict[tuple, tuple[dict, tuple, bool]] = {}
        last: list = [None]

        def complete(block, type_name, params):
            try:
                record = (type_name, tuple(params.items())) if params else (type_name,)
                done = completed.get(record)
            except TypeError:  # a list value: not worth a cache key
                last[0] = None
                return block.params.complete(type_name, params)
            if done is None:
                full = block.params.complete(type_name, params)
                done = completed[record] = (full, (type_name, frozen(full)), any(type(v) is list for v in full.values()))
            last[0] = done[1]
            return _copy_params(done[0]) if done[2] else dict(done[0])

        for i, nid, type_name, params, pos, repeat in nodes:
            try:
                g._insert(g._new_node(type_name, params, nid, pos, repeat, complete))
                if last[0] is not None:
                    g._keys[nid] = last[0]
            except (GraphError, ParamError, UnknownBlockError) as e:
                problems.append(RecordProblem("node", i, e))
                if isinstance(nid, str):
                    refused.add(nid)
                if len(problems) >= limit:
                    raise RecordsError(problems) from None
        for i, src, dst, order in edges:
            if src in refused or dst in refused:
                continue
            problem = g.connection_problem(src, dst, check_cycle=False)
            if problem is None:
                g._link(Edge(src, dst, int(order)))
                continue
            problems.append(RecordProblem("edge", i, problem))
            if len(problems) >= limit:
                break
        if problems:
            raise RecordsError(problems)
        return g

    # -- edits ----------------------------------------------------------------------------------
    def new_id(self, type_name: str) -> str:
        prefix = re.sub(r"[^A-Za-z0-9_]", "_", type_name) or "node"
        i = 1
        while f"{prefix}_{i}" in self._nodes:
            i += 1
        return f"{prefix}_{i}"

    def add_node(self, type_name: str, params: dict | None = None, *, node_id: str | None = None,
                 pos: tuple[float, float] = (0.0, 0.0), repeat: int = 1) -> str:
        node = self._new_node(type_name, params, node_id or self.new_id(type_name), pos, repeat)
        self._insert(node)
        self._changed("node_added", node.id, structure=True)
        return node.id

    def _new_node(self, type_name: str, params: dict | None, node_id: str, pos, repeat: int,
                  complete: Callable | None = None) -> Node:
        """The node ``add_node`` would add (checked against the catalog and this graph), or its error.
        ``complete(block, type_name, params)``: a stand-in for completing the parameters (a cache)."""
        block = self.catalog.get(type_name)
        full = complete(block, type_name, params) if complete else block.params.complete(type_name, params)
        if not isinstance(node_id, str) or not ID_RE.fullmatch(node_id):
            raise NodeIdError(f"node id '{node_id}' must be letters, digits and _ and not start with a digit", node_id)
        if node_id in self._nodes:
            raise NodeIdError(f"a node called '{node_id}' already exists", node_id)
        repeat = _check_repeat(repeat, block.repeatable, node_id)
        return Node(node_id, type_name, full, (float(pos[0]), float(pos[1])), repeat)

    def _insert(self, node: Node) -> None:
        self._nodes[node.id] = node
        self._inputs[node.id] = []
        self._outputs[node.id] = {}

    def remove_node(self, node_id: str) -> tuple[Node, list[Edge]]:
        """Remove a node and its edges; returns both so an undo can put them back."""
        node = self.node(node_id)
        edges = self.in_edges(node_id) + list(self._outputs[node_id].values())
        for e in edges:
            self.disconnect(e.src, e.dst)
        del self._nodes[node_id], self._inputs[node_id], self._outputs[node_id]
        self._keys.pop(node_id, None)
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
        if dst in self._outputs[src]:
            return DuplicateLinkError(f"'{src}' is already connected to '{dst}'", dst)
        if check_cycle and self._reaches(dst, src):
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
        self._link(edge)
        self._changed("edge_added", dst, structure=True, edge=edge)
        return edge

    def _link(self, edge: Edge) -> None:
        self._outputs[edge.src][edge.dst] = edge
        inputs = self._inputs[edge.dst]
        if inputs and edge.order < inputs[-1].order:
            bisect.insort_right(inputs, edge, key=_by_order)  # after equal orders: ties keep connection order
        else:
            inputs.append(edge)

    def _reaches(self, start: str, goal: str) -> bool:
        """Whether a path leads from ``start`` to ``goal``."""
        seen, todo = {start}, [start]
        while todo:
            for m in self._outputs[todo.pop()]:
                if m == goal:
                    return True
                if m not in seen:
                    seen.add(m)
                    todo.append(m)
        return start == goal

    def disconnect(self, src: str, dst: str) -> Edge:
        edge = self._outputs.get(src, {}).get(dst)
        if edge is None:
            raise GraphError(f"'{src}' is not connected to '{dst}'", dst)
        del self._outputs[src][dst]
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
        self._keys.pop(node_id, None)
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
        self._nodes = {n: _copy_node(node) for n, node in other._nodes.items()}
        self._inputs = {n: list(edges) for n, edges in other._inputs.items()}
        self._outputs = {n: dict(edges) for n, edges in other._outputs.items()}
        self._keys = dict(other._keys)
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
            self._view = None
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
    return Node(n.id, n.type, _copy_params(n.params), n.pos, n.repeat)


def _copy_params(params: dict[str, Any]) -> dict[str, Any]:
    """Parameter values are JSON scalars or flat lists, so this is a full copy, much cheaper than deepcopy."""
    return {k: (list(v) if isinstance(v, list) else v) for k, v in params.items()}


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
