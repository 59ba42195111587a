"""The plain twin of a residual network: the same layers with the shortcuts taken out.

Blocks with a ``shortcut`` parameter get "none"; a merge that declares ``skip_merge`` (Add) built by hand loses its skip
input (the shorter of its two paths from where they fork) and whatever only fed that skip. What it
changed is returned as notices so a person sees exactly what the comparison compares.
"""
from __future__ import annotations

import networkx as nx

from explorer.blocks.registry import get_block
from explorer.graph.model import Graph


def plain_twin(graph: Graph) -> tuple[Graph, list[str]]:
    twin = graph.copy()
    twin.name = f"{graph.name} (plain twin)"
    notices: list[str] = []
    for nid in list(twin.topological_order()):
        node = twin.node(nid)
        block = get_block(node.type)
        if block.params.get("shortcut") is not None:
            if node.params["shortcut"] != "none":
                twin.set_param(nid, "shortcut", "none")
                notices.append(f"{nid}: shortcut removed ({block.title}{f' ×{node.repeat}' if node.repeat > 1 else ''})")
        elif block.twin_note:
            notices.append(f"{nid}: {block.title} {block.twin_note}")
        elif block.skip_merge and len(twin.inputs_of(nid)) == 2:
            skip = _skip_input(twin, nid)
            if skip is not None:
                _bypass_add(twin, nid, skip)
                notices.append(f"{nid}: skip edge from '{skip}' removed")
    return twin, notices


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
