"""Layered auto-layout: each node sits one column after its furthest input, so the main path runs
in a straight line and skip connections arc over it.

Rows follow each node's *first* input (edge order 0 is the main path in every block: the residual
branch comes before the skip), so a chain stays on one row and only side branches (projection
shortcuts, SE gates) step down to the next free row. Linear time in nodes + edges; no Qt.
"""
from __future__ import annotations

from explorer.graph.model import DIRECTIONS, Graph
from explorer.util.gc_pause import gc_paused

# Node width (180) plus room for a shape label on the edge between two nodes ("16×8×8"; a wider one is
# lifted above the gap), narrow enough that the 11 layers of the startup ResNet fit one row of a
# 1920-pixel window at a zoom that still draws each node's parameter line.
COLUMN = 230.0
ROW = 120.0  # the tallest node (three lines of parameters, 92) plus a gap
BAND_GAP = 150.0  # between wrapped bands: room for skip arcs above a band and the edges that wrap
# Top-down, columns become rows: nodes are wider than tall, so a layer step gets the node height plus
# a label's room (ALONG) and a row step the node width plus a gap (ACROSS).
TB_ALONG, TB_ACROSS = 0.62, 1.8   # along: 143 px per layer, as before COLUMN narrowed
MAX_FIT_BANDS = 24


def _first_inputs(graph: Graph) -> dict[str, list[str]]:
    """Each node's inputs in edge order (the model keeps them in that order)."""
    return {n: graph.inputs_of(n) for n in graph.nodes}


def layers(graph: Graph, inputs: dict[str, list[str]] | None = None) -> dict[str, int]:
    """Column of every node: longest path from a source. A node with room to move (a projection
    shortcut beside a three-layer branch) sits in the middle of that room, so its edges leave and
    rejoin the main path symmetrically, as in the papers' figures; a source of a side input (a stray
    constant) sits just before its first consumer, so it does not drag an edge across the picture."""
    with gc_paused():  # lists per node: on a 200k-node graph the collector would rescan them often
        order, _, layer = _layer_list(graph, inputs if inputs is not None else _first_inputs(graph))
        return dict(zip(order, layer))


def _layer_list(graph: Graph, inputs: dict[str, list[str]]) -> tuple[list[str], list[list[int]], list[int]]:
    """``layers`` by position in the topological order: (order, each node's input positions, its column).
    Lists indexed by position instead of dicts keyed by id: one id lookup per edge, not one per visit, which
    on a 200k-node graph is most of the time (the dicts no longer fit the processor's cache)."""
    order = graph.topological_order()
    at = {nid: i for i, nid in enumerate(order)}
    ins = [[at[s] for s in inputs[nid]] for nid in order]
    succ: list[list[int]] = [[] for _ in order]
    for i, sources in enumerate(ins):
        for j in sources:
            succ[j].append(i)
    layer = [0] * len(order)
    for i, sources in enumerate(ins):
        if sources:
            layer[i] = max(layer[j] for j in sources) + 1
    latest = layer[:]
    for i in range(len(order) - 1, -1, -1):
        if succ[i]:
            latest[i] = min(latest[d] for d in succ[i]) - 1
    for i, sources in enumerate(ins):
        if sources and latest[i] > layer[i]:
            # the middle of its room: earliest and latest both grow along an edge, so order holds
            layer[i] = (layer[i] + latest[i]) // 2
    for i, sources in enumerate(ins):
        if not sources and succ[i] and not _is_input(graph, order[i]):
            layer[i] = max(0, min(layer[d] for d in succ[i]) - 1)
    return order, ins, layer


def _is_input(graph: Graph, nid: str) -> bool:
    typ = graph.node(nid).type
    return typ in graph.catalog and graph.catalog.get(typ).role == "input"


def suggest_wrap(graph: Graph, aspect: float = 1.4, min_columns: int = 4, fits: int | None = None) -> int | None:
    """How many layers per band make the picture about ``aspect`` (width / height) — like text
    filling a page; None when the graph is short enough for one band. ``fits``: how many layers fit
    across the view at a readable zoom, when known; a graph that fits stays on one band, and bands
    are no longer than that, unless that takes more than ``MAX_FIT_BANDS`` bands (a fully expanded
    1000-layer net is looked at as a whole, not read band by band)."""
    if graph.has_cycle() or len(graph) == 0:
        return None
    n = max(layers(graph).values()) + 1
    if n <= min_columns or (fits is not None and n <= fits):
        return None
    band = 1.6 * ROW + BAND_GAP  # a typical band: the main row plus some side branches
    guess = max(min_columns, (aspect * n * band / COLUMN) ** 0.5)
    bands = max(1, round(n / guess))
    if fits is not None and n <= fits * MAX_FIT_BANDS:
        bands = max(bands, -(-n // max(fits, 1)))
    cols = -(-n // bands)  # equal bands, the last one not a stub
    return None if cols >= n else cols


def layered_positions(graph: Graph, direction: str = "LR", wrap: int | None = None) -> dict[str, tuple[float, float]]:
    """Positions for every node; ``direction`` is "LR" (left to right) or "TB" (top to bottom).
    ``wrap``: at most this many layers per band; further layers continue in the next band below
    (beside, for TB), the way text wraps, so a long chain fills the screen instead of a thin strip."""
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {', '.join(DIRECTIONS)}, got {direction!r}")
    if graph.has_cycle():
        return {n.id: n.pos for n in graph.nodes.values()}
    with gc_paused():  # as in ``layers``
        return _positions(graph, direction, wrap)


def _positions(graph: Graph, direction: str, wrap: int | None) -> dict[str, tuple[float, float]]:
    order, ins, layer = _layer_list(graph, _first_inputs(graph))
    used: dict[int, set[int]] = {}
    row = [0] * len(order)
    for i, sources in enumerate(ins):
        r = row[sources[0]] if sources else 0
        taken = used.setdefault(layer[i], set())
        while r in taken:  # side branches step down; the main path keeps its row
            r += 1
        taken.add(r)
        row[i] = r
    wrap = wrap if wrap and wrap > 0 else None
    band_top: dict[int, float] = {}
    if wrap:
        deepest: dict[int, int] = {}
        for i in range(len(order)):
            band = layer[i] // wrap
            deepest[band] = max(deepest.get(band, 0), row[i])
        top = 0.0
        for band in sorted(deepest):
            band_top[band] = top
            top += (deepest[band] + 1) * ROW + BAND_GAP
    pos: dict[str, tuple[float, float]] = {}
    for i, nid in enumerate(order):
        col = layer[i] % wrap if wrap else layer[i]
        a = col * COLUMN
        b = row[i] * ROW + (band_top[layer[i] // wrap] if wrap else 0.0)
        pos[nid] = (a, b) if direction == "LR" else (b * TB_ACROSS, a * TB_ALONG)
    return pos


def has_positions(graph: Graph) -> bool:
    """Whether the nodes have places of their own: False when every node sits at one point (a file written by
    a script, with no "pos"), where the picture would be one pile."""
    first = None
    for node in graph.nodes.values():
        if first is None:
            first = node.pos
        elif node.pos != first:
            return True
    return len(graph) < 2


def layered_layout(graph: Graph, direction: str = "LR", wrap: int | None = None) -> None:
    """Move every node to its layered position; the graph then flows in ``direction``."""
    for nid, p in layered_positions(graph, direction, wrap).items():
        graph.move_node(nid, p)
    graph.set_direction(direction)
