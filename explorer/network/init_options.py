"""Start every residual branch of a network the way a paper does, so it trains without normalisation.

``with_init(graph, "zero_gamma" | "skipinit" | "fixup")`` sets the ``init`` parameter of every block that
declares one (the blocks say what each choice means; this transform names none of them). Fixup also needs
a number only the whole network knows, L, the count of residual branches (every repetition counts), and
starts the classifier at 0 (Zhang et al. 2019). A graph transform above the block registry: no torch, no Qt.
"""
from __future__ import annotations

from explorer.graph.model import Graph
from explorer.network.adapt import find_classifier

INITS = ("default", "zero_gamma", "skipinit", "fixup")


class InitError(ValueError):
    """The graph has no block that can start the chosen way."""


def init_nodes(graph: Graph, kind: str) -> list[str]:
    """The nodes whose block type offers ``kind`` as its ``init``."""
    out = []
    for nid in graph.topological_order():
        param = graph.spec(nid).params.get("init")
        if param is not None and kind in (param.choices or ()):
            out.append(nid)
    return out


def fixup_settings(branches: int) -> dict:
    """The block parameters of a Fixup block in a network of ``branches`` residual branches (presets use it)."""
    return {"init": "fixup", "fixup_blocks": branches}


def with_init(graph: Graph, kind: str, zero_classifier: bool = True) -> tuple[Graph, list[str]]:
    """A copy of ``graph`` whose residual blocks start as ``kind``; and notes saying what changed.
    ``zero_classifier=False`` keeps Fixup's classifier at its default start (a zero classifier passes no
    gradient back before its first step, so a measurement at initialisation would see none)."""
    if kind not in INITS:
        raise InitError(f"unknown init '{kind}'; choose one of {', '.join(INITS)}")
    g = graph.copy()
    nodes = init_nodes(g, kind)
    offered = [nid for nid in g.topological_order() if g.spec(nid).params.get("init") is not None]
    if not nodes:
        raise InitError(f"{graph.name} has no residual block that offers init '{kind}'"
                        + (f" (its blocks offer {', '.join(g.spec(offered[0]).params.get('init').choices)})"
                           if offered else ""))
    branches = sum(g.node(nid).repeat for nid in nodes)
    for nid in nodes:
        g.set_param(nid, "init", kind)
        if kind == "fixup" and g.spec(nid).params.get("fixup_blocks") is not None:
            g.set_param(nid, "fixup_blocks", branches)
    notes = [f"init {kind} on {len(nodes)} block node(s), {branches} residual branch(es)"]
    left = [nid for nid in offered if nid not in nodes]
    if left:
        notes.append(f"{', '.join(left)} cannot start as {kind}: left at default")
    if kind == "fixup":
        classifier = find_classifier(g)
        if zero_classifier and classifier is not None and g.spec(classifier).params.get("zero_init") is not None:
            g.set_param(classifier, "zero_init", True)
            notes.append(f"classifier {classifier} starts at 0")
        elif classifier is not None:
            notes.append(f"classifier {classifier} keeps its default start")
    return g, notes
