"""The graph file format: JSON with a format name and version, stable key order, atomic saves.

Reading checks every field's type before anything touches the model and refuses unknown versions;
files are plain data (``json``), so opening one never runs code.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from explorer.graph.catalog import UnknownBlockError
from explorer.graph.model import DIRECTIONS, Graph, GraphError
from explorer.graph.params import ParamError
from explorer.util.atomic import write_atomic
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

    # Each node and edge is checked on its own, so one reading lists every bad one (validate --all);
    # a node that fails is left out, and so are its edges, which cannot be judged without it.
    problems: list[str] = []
    skipped: set[str] = set()
    g = Graph(name=name, direction=direction)
    for i, nd in enumerate(nodes):
        problem = _add_node(g, i, nd)
        if problem:
            problems.append(problem)
            if isinstance(nd, dict) and isinstance(nd.get("id"), str):
                skipped.add(nd["id"])
            if len(problems) >= MAX_LISTED:
                break
    for i, ed in enumerate(edges):
        if len(problems) >= MAX_LISTED:
            break
        problem = _add_edge(g, i, ed, skipped)
        if problem:
            problems.append(problem)
    if problems:
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


def _add_node(g: Graph, i: int, nd: Any) -> str | None:
    """Add file node #i to ``g``; the problem as a sentence when it cannot be."""
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
    try:
        g.add_node(typ, params, node_id=nid, pos=(pos[0], pos[1]), repeat=nd.get("repeat", 1))
    except ParamError as e:
        return f"node '{nid}' ({typ}): {e}"
    except (UnknownBlockError, GraphError) as e:
        return f"node '{nid}': {e}"
    return None


def _add_edge(g: Graph, i: int, ed: Any, skipped: set[str]) -> str | None:
    """Connect file edge #i in ``g`` (without the cycle search); the problem as a sentence, if any."""
    if not isinstance(ed, dict) or not isinstance(ed.get("from"), str) or not isinstance(ed.get("to"), str):
        return f"edge #{i + 1} needs text 'from' and 'to'"
    src, dst = ed["from"], ed["to"]
    try:
        order = whole_number(ed.get("order", 0), f"'order' of edge #{i + 1} ({src} → {dst})", -MAX_ORDER, MAX_ORDER)
    except UntrustedInputError as e:
        return str(e)
    if src in skipped or dst in skipped:
        return None  # its node was refused above
    for end in (src, dst):
        if end not in g:
            return f"edge #{i + 1} refers to a missing node '{end}'"
    try:
        g.connect(src, dst, order=order, check_cycle=False)
    except GraphError as e:
        return f"edge {src} → {dst}: {e}"
    return None


def _coordinate(v: Any) -> bool:
    # NaN fails both comparisons, and so do the infinities JSON's 1e400 becomes
    return isinstance(v, (int, float)) and not isinstance(v, bool) and -1e9 < v < 1e9


