"""A lesson's networks as graphs: a preset, a family at a depth, a stack of stages, or a graph file.

A network from stages is the CIFAR layout every family shares (a 3×3 stem, the stages, global pooling and
a linear classifier); which block each stage uses and its parameters come from the lesson file, so no
block type is named here. ``set`` then gives a parameter to every node whose block declares it.
"""
from __future__ import annotations

from pathlib import Path

from explorer.graph.model import Graph
from explorer.lessons.spec import LessonError, NetworkSpec


def build_network(spec: NetworkSpec, folder: Path | None = None) -> Graph:
    """The graph ``spec`` names (not yet fitted to a data set); ``folder`` resolves a relative ``file``."""
    from explorer.analysis.depth_sweep import DepthError, family_graph
    from explorer.arch import ArchError, load_arch
    from explorer.graph.model import GraphError

    try:
        if spec.preset is not None:
            graph = load_arch(spec.preset)
        elif spec.family is not None:
            graph = family_graph(spec.family, spec.depth)
        elif spec.file is not None:
            path = Path(spec.file)
            graph = load_arch(str(path if path.is_absolute() or folder is None else folder / path))
        else:
            graph = _from_stages(spec)
        graph = _with_settings(graph, spec.set)
    except (ArchError, DepthError, GraphError, ValueError, KeyError, TypeError) as e:
        raise LessonError(f"network '{spec.name}': {e}") from None
    graph.name = spec.name
    return graph


def _from_stages(spec: NetworkSpec) -> Graph:
    from explorer.blocks.builder import Builder
    from explorer.presets.parts import cifar_stem, head

    b = Builder(name=spec.name)
    x = cifar_stem(b, b.input([3, 32, 32]), spec.stem, bn=not spec.head_preact)
    for i, s in enumerate(spec.stages):
        x = b.add(s.block, x, node_id=f"stage{i + 1}", repeat=s.repeat, **s.params)
    b.output(head(b, x, 10, pre_activate=spec.head_preact))
    return b.finish().graph


def _with_settings(graph: Graph, values: dict) -> Graph:
    """``values`` set on every node whose block declares the parameter; a name no node has is refused."""
    if not values:
        return graph
    g = graph.copy()
    used = set()
    for nid, node in g.nodes.items():
        declared = {p.name for p in g.spec(nid).params}
        for name, value in values.items():
            if name in declared:
                g.set_param(nid, name, value)
                used.add(name)
    unused = sorted(set(values) - used)
    if unused:
        raise LessonError(f"no block in the network has the parameter(s) {', '.join(unused)}")
    return g
