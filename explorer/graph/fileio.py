"""The graph file format: JSON with a format name and version, stable key order, atomic saves.

Reading checks every field's type before anything touches the model and refuses unknown versions;
files are plain data (``json``), so opening one never runs code.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from explorer.graph.model import DIRECTIONS, Graph, MissingNodeError, RecordProblem, RecordsError
from explorer.graph.params import ParamError
from explorer.util.atomic import write_atomic
from explorer.util.gc_pause import gc_paused
from explorer.util.untrusted import UntrustedInputError, read_regular_file, whole_number

FORMAT = "residual-explorer-graph"
VERSION = 1
MAX_BYTES = 32 * 1024 * 1024
MAX_NODES = 250_000         # far beyond any network worth drawing (ResNet-1001 is ~350 nodes with repeats)
MAX_EDGES_PER_NODE = 8      # a dense block's concat takes many inputs, but not thousands per node on average
MAX_ORDER = 2 ** 31         # an edge's position among its destination's inputs


class FileFormatError(ValueError):
    """The file is not a graph this version can read; the message says what is wrong and where.
    ``problems`` lists every problem found (nodes and edges are all checked before refusing)."""

    def __init__(self, message: str, problems: list[str] | None = None):
        super().__init__(message)
        self.problems = problems or [message]


MAX_LISTED = 100  # problems collected from one file: enough to fix, bounded for a hostile one


def to_dict(graph: Graph) -> dict[str, Any]:
    """The file form of ``graph``. Parameters equal to their block type's default are left out (a file
    that lists every default is twice the size and hides what was chosen); reading fills them in."""
    specs = graph.catalog
    return {
        "format": FORMAT,
        "version": VERSION,
        "name": graph.name,
        "layout": {"direction": graph.direction},
        "nodes": [
            {"id": n.id, "type": n.type, "params": _chosen(specs, n),
             "pos": [round(n.pos[0], 2), round(n.pos[1], 2)], "repeat": n.repeat}
            for n in graph.nodes.values()
        ],
        "edges": [{"from": e.src, "to": e.dst, "order": e.order}
                  for e in sorted(graph.edges, key=lambda e: (e.dst, e.order, e.src))],
    }


def _chosen(specs, node) -> dict[str, Any]:
    defaults = specs.get(node.type).params.defaults() if node.type in specs else {}
    return {k: node.params[k] for k in sorted(node.params) if k not in defaults or node.params[k] != defaults[k]}


def dumps_graph(graph: Graph) -> str:
    return json.dumps(to_dict(graph), indent=1, ensure_ascii=False) + "\n"


def save_graph(graph: Graph, path: str | os.PathLike) -> None:
    """Write atomically: a crash mid-save leaves the old file, never half a file."""
    write_atomic(Path(path), dumps_graph(graph))


def load_graph(path: str | os.PathLike) -> Graph:
    """Read a graph file: regular files only (a FIFO would block, /dev/zero never ends), size checked first."""
    try:
        raw = read_regular_file(path, MAX_BYTES, "graph file")
    except UntrustedInputError as e:
        raise FileFormatError(str(e)) from None
    return loads_graph(raw, source=str(path))


def loads_graph(text: str | bytes, source: str = "graph") -> Graph:
    if len(text) > MAX_BYTES:
        raise FileFormatError(f"{source}: too large for a graph file")
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            raise FileFormatError(f"{source}: not a text file (expected a JSON graph)") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise FileFormatError(f"{source}: not valid JSON (line {e.lineno}, column {e.colno}: {e.msg}); "
                              "the file may be truncated") from None
    except RecursionError:
        raise FileFormatError(f"{source}: nested too deeply to be a graph file") from None
    except ValueError as e:  # Python refuses integers of more than 4300 digits while parsing
        raise FileFormatError(f"{source}: not a usable JSON graph ({e})") from None
    return from_dict(data, source)


def from_dict(data: Any, source: str = "graph") -> Graph:
    with gc_paused():  # a 200k-node file: the collector would walk every node built so far, again and again
        return _from_dict(data, source)


def _from_dict(data: Any, source: str) -> Graph:
    def fail(msg: str):
        raise FileFormatError(f"{source}: {msg}")

    if not isinstance(data, dict):
        fail("expected a JSON object at the top")
    if data.get("format") != FORMAT:
        fail(f"not a Residual Explorer graph (format is {data.get('format')!r}, expected {FORMAT!r})")
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        fail("missing or invalid 'version'")
    if version > VERSION:
        fail(f"written by a newer Residual Explorer (format version {version}; this one reads up to {VERSION})")
    if version < 1:
        fail(f"unknown format version {version}")
    name = data.get("name", "untitled")
    if not isinstance(name, str) or len(name) > 1000:
        fail("'name' must be text of at most 1000 characters")
    direction = _direction(data.get("layout"))
    if direction is None:
        fail(f"'layout' must be an object whose 'direction' is one of {', '.join(DIRECTIONS)}")
    nodes, edges = data.get("nodes"), data.get("edges")
    if not isinstance(nodes, list):
        fail("missing 'nodes' list")
    if not isinstance(edges, list):
        fail("missing 'edges' list")

    if len(nodes) > MAX_NODES:
        fail(f"{len(nodes):,} nodes are more than a graph file may hold ({MAX_NODES:,}); "
             "use repeat counts for long stages")
    if len(edges) > MAX_EDGES_PER_NODE * max(len(nodes), 1):
        fail(f"{len(edges):,} edges for {len(nodes):,} nodes; a graph file has at most "
             f"{MAX_EDGES_PER_NODE} per node")

    # Each node and edge is checked on its own, so one reading lists every bad one (validate --all): the
    # file's shape here, the graph's rules in one pass of Graph.from_records. A node that fails is left out,
    # and so are its edges, which cannot be judged without it.
    found: list[tuple[int, int, str]] = []  # (0 node / 1 edge, index, problem): listed in file order
    skipped: set[str] = set()
    node_records = []
    for i, nd in enumerate(nodes):
        record = _node_record(i, nd)
        if isinstance(record, str):
            found.append((0, i, record))
            if isinstance(nd, dict) and isinstance(nd.get("id"), str):
                skipped.add(nd["id"])
            if len(found) >= MAX_LISTED:
                break
        else:
            node_records.append(record)
    edge_records = []
    for i, ed in enumerate(edges):
        if len(found) >= MAX_LISTED:
            break
        record = _edge_record(i, ed)
        if isinstance(record, str):
            found.append((1, i, record))
        elif record[1] not in skipped and record[2] not in skipped:
            edge_records.append(record)
    try:
        g = Graph.from_records(node_records, edge_records, name=name, direction=direction,
                               limit=max(1, MAX_LISTED - len(found)))
    except RecordsError as e:
        found += [_said(p, nodes, edges) for p in e.problems]
    if found:
        problems = [text for _, _, text in sorted(found)][:MAX_LISTED]
        more = len(problems) - 1
        raise FileFormatError(f"{source}: {problems[0]}" + (f" (and {more} more problem{'s' * (more > 1)})"
                                                            if more else ""),
                              [f"{source}: {p}" for p in problems])
    cycle = g.find_cycle()  # once for the whole file: a per-edge path search is quadratic
    if cycle:
        fail(f"node '{cycle[0]}' is part of a cycle ({' → '.join(cycle + cycle[:1])}); remove one of these edges")
    g.revision = 0
    return g


def _direction(layout: Any) -> str | None:
    """The optional top-level ``layout`` field: files written before it existed are laid out left to
    right. (It needs no new format version: readers before it ignore keys they do not know.)"""
    if layout is None:
        return "LR"
    if not isinstance(layout, dict):
        return None
    direction = layout.get("direction", "LR")
    return direction if isinstance(direction, str) and direction in DIRECTIONS else None


def _node_record(i: int, nd: Any) -> tuple | str:
    """File node #i as a record for ``Graph.from_records``, or what is wrong with its shape as a sentence."""
    if not isinstance(nd, dict):
        return f"node #{i + 1} is not an object"
    nid, typ = nd.get("id"), nd.get("type")
    if not isinstance(nid, str) or not isinstance(typ, str):
        return f"node #{i + 1} needs text 'id' and 'type'"
    params = nd.get("params", {})
    if not isinstance(params, dict):
        return f"node '{nid}': 'params' must be an object"
    pos = nd.get("pos", (0, 0))
    if not isinstance(pos, (list, tuple)) or len(pos) != 2 or not (_coordinate(pos[0]) and _coordinate(pos[1])):
        return f"node '{nid}': 'pos' must be two numbers"
    return i, nid, typ, params, (pos[0], pos[1]), nd.get("repeat", 1)


def _edge_record(i: int, ed: Any) -> tuple | str:
    """File edge #i as a record for ``Graph.from_records``, or what is wrong with its shape as a sentence."""
    if not isinstance(ed, dict) or not isinstance(ed.get("from"), str) or not isinstance(ed.get("to"), str):
        return f"edge #{i + 1} needs text 'from' and 'to'"
    src, dst = ed["from"], ed["to"]
    try:
        order = whole_number(ed.get("order", 0), f"'order' of edge #{i + 1} ({src} → {dst})", -MAX_ORDER, MAX_ORDER)
    except UntrustedInputError as e:
        return str(e)
    return i, src, dst, order


def _said(p: RecordProblem, nodes: list, edges: list) -> tuple[int, int, str]:
    """A problem of ``Graph.from_records`` as the sentence the file's reader shows, naming the node."""
    if p.kind == "node":
        nd = nodes[p.index]
        nid, typ = nd["id"], nd["type"]
        if isinstance(p.error, ParamError):
            return 0, p.index, f"node '{nid}' ({typ}): {p.error}"
        return 0, p.index, f"node '{nid}': {p.error}"
    ed = edges[p.index]
    if isinstance(p.error, MissingNodeError):
        return 1, p.index, f"edge #{p.index + 1} refers to a missing node '{p.error.node_id}'"
    return 1, p.index, f"edge {ed['from']} → {ed['to']}: {p.error}"


def _coordinate(v: Any) -> bool:
    # NaN fails both comparisons, and so do the infinities JSON's 1e400 becomes
    return isinstance(v, (int, float)) and not isinstance(v, bool) and -1e9 < v < 1e9


