"""Layered auto-layout: each node sits one column after its furthest input, so the main path runs
in a straight line and skip connections arc over it. Linear time; no Qt."""
from __future__ import annotations

from explorer.graph.model import Graph

COLUMN = 200.0
ROW = 110.0


def layered_positions(graph: Graph, direction: str = "LR") -> dict[str, tuple[float, float]]:
    """Positions for every node; ``direction`` is "LR" (left to right) or "TB" (top to bottom)."""
    if graph.has_cycle():
        return {n.id: n.pos for n in graph.nodes.values()}
    layer: dict[str, int] = {}
    for nid in graph.topological_order():
        layer[nid] = max((layer[s] + 1 for s in graph.inputs_of(nid)), default=0)
    rows: dict[int, int] = {}
    pos = {}
    for nid in graph.topological_order():
        col = layer[nid]
        row = rows.get(col, 0)
        rows[col] = row + 1
        a, b = col * COLUMN, row * ROW
        pos[nid] = (a, b) if direction == "LR" else (b * 1.8, a * 0.6)
    return pos


def layered_layout(graph: Graph, direction: str = "LR") -> None:
    for nid, p in layered_positions(graph, direction).items():
        graph.move_node(nid, p)
