"""The plain twin of a residual network: the same layers with the shortcuts taken out.

Blocks with a ``shortcut`` parameter get "none"; a merge that declares ``skip_merge`` (Add) built by hand
loses its skip input (the shorter of its two paths from where they fork) and whatever only fed that skip.
What it changed comes back as ``TwinChange`` records, so a caller can ask whether any shortcut was removed
(the comparison is pointless otherwise) without reading the display text.
"""
from __future__ import annotations

from dataclasses import dataclass

import networkx as nx

from explorer.blocks.registry import get_block
from explorer.graph.model import Graph

SHORTCUT_REMOVED = "shortcut_removed"    # a block's ``shortcut`` parameter set to "none"
SKIP_EDGE_REMOVED = "skip_edge_removed"  # a hand-built skip merge bypassed, its skip path dropped
KEPT = "kept"                            # a block left as it is, with the reason its type declares


@dataclass(frozen=True)
class TwinChange:
    node_id: str
    kind: str             # SHORTCUT_REMOVED, SKIP_EDGE_REMOVED or KEPT
    block: str = ""       # the block type's title
    repeat: int = 1       # blocks in the stage the change applies to
    skip_from: str = ""   # SKIP_EDGE_REMOVED: the node whose edge into the merge was the shortcut
    note: str = ""        # KEPT: why the block type keeps its connections

    @property
    def removes_shortcut(self) -> bool:
        return self.kind in (SHORTCUT_REMOVED, SKIP_EDGE_REMOVED)

    @property
    def text(self) -> str:
        if self.kind == SHORTCUT_REMOVED:
            return f"{self.node_id}: shortcut removed ({self.block}{f' ×{self.repeat}' if self.repeat > 1 else ''})"
        if self.kind == SKIP_EDGE_REMOVED:
            return f"{self.node_id}: skip edge from '{self.skip_from}' removed"
        return f"{self.node_id}: {self.block} {self.note}"


def plain_twin(graph: Graph) -> tuple[Graph, list[TwinChange]]:
    twin = graph.copy()
    twin.name = f"{graph.name} (plain twin)"
    changes: list[TwinChange] = []
    for nid in list(twin.topological_order()):
        node = twin.node(nid)
        block = get_block(node.type)
        if block.params.get("shortcut") is not None:
            if node.params["shortcut"] != "none":
                twin.set_param(nid, "shortcut", "none")
                changes.append(TwinChange(nid, SHORTCUT_REMOVED, block=block.title, repeat=node.repeat))
        elif block.twin_note:
            changes.append(TwinChange(nid, KEPT, block=block.title, note=block.twin_note))
        elif block.skip_merge and len(twin.inputs_of(nid)) == 2:
            skip = _skip_input(twin, nid)
            if skip is not None:
                _bypass_add(twin, nid, skip)
                changes.append(TwinChange(nid, SKIP_EDGE_REMOVED, block=block.title, skip_from=skip))
    return twin, changes


def _skip_input(g: Graph, add: str) -> str | None:
    """Which of an Add's two inputs is the shortcut: the one on the shorter path from their fork."""
    a, b = g.inputs_of(add)
    nxg = g.networkx()
    if nx.has_path(nxg, a, b):
        return a
    if nx.has_path(nxg, b, a):
        return b
    common = nx.ancestors(nxg, a) & nx.ancestors(nxg, b)
    if not common:
        return None
    order = {n: i for i, n in enumerate(g.topological_order())}
    fork = max(common, key=order.__getitem__)
    da = nx.shortest_path_length(nxg, fork, a)
    db = nx.shortest_path_length(nxg, fork, b)
    return a if da < db else b if db < da else None


def _bypass_add(g: Graph, add: str, skip: str) -> None:
    main = next(s for s in g.inputs_of(add) if s != skip)
    outs = [(e.dst, e.order) for e in g.edges if e.src == add]
    g.remove_node(add)
    for dst, order in outs:
        g.connect(main, dst, order)
    # Drop what only fed the skip path (a projection conv and its BN), walking back from it.
    frontier = [skip]
    while frontier:
        n = frontier.pop()
        if n in g and not g.outputs_of(n) and not g.spec(n).role:
            frontier.extend(g.inputs_of(n))
            g.remove_node(n)
