"""Depth sweep: the first layer's gradient at initialisation against total depth, network vs plain twin.

A family is a preset-name prefix ("resnet", "preact_resnet") or one template graph. A depth that a preset
has (resnet56) is that preset; any other depth is made from a template of the family by giving every
repeated stage the same number of blocks, so that the weight layers add up: ResNet-8 is the ResNet-20
layout with one block per stage. Depths no template reaches are refused with the ones that work.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import torch

from explorer.analysis.control import Control, quiet
from explorer.analysis.gradient_flow import DepthProfile, profile_graph
from explorer.graph.model import Graph
from explorer.network.inference import analyze
from explorer.network.twins import plain_twin


class DepthError(ValueError):
    """The family cannot be built at a requested depth; the message lists depths that work."""


@dataclass(frozen=True)
class Template:
    graph: Graph
    fixed: int        # weight layers outside the repeated stages (stem, classifier, ...)
    per_round: int    # weight layers added by one more block in every repeated stage
    stages: tuple[str, ...]

    def fits(self, depth: int) -> bool:
        return self.per_round > 0 and depth > self.fixed and (depth - self.fixed) % self.per_round == 0

    def at(self, depth: int) -> Graph:
        g = self.graph.copy()
        for nid in self.stages:
            g.set_repeat(nid, (depth - self.fixed) // self.per_round)
        g.name = re.sub(r"\d+$", "", self.graph.name) + str(depth) if self.graph.name else f"depth {depth}"
        return g

    def describe(self) -> str:
        return f"{self.fixed} + {self.per_round}·n"


def template(graph: Graph) -> Template | None:
    """How ``graph``'s weight layers grow with one more block in each repeated stage (measured, so that
    projection shortcuts are counted as the cost model counts them); None unless every repeated stage
    has the same number of blocks (an ImageNet [3, 4, 6, 3] layout has no single depth knob)."""
    stages = tuple(nid for nid, n in graph.nodes.items() if n.repeat > 1)
    repeats = {graph.node(nid).repeat for nid in stages}
    if len(repeats) != 1:
        return None
    (r,) = repeats
    grown = graph.copy()
    for nid in stages:
        grown.set_repeat(nid, r + 1)
    layers, more = analyze(graph).total.weight_layers, analyze(grown).total.weight_layers
    per_round = more - layers
    return Template(graph, layers - r * per_round, per_round, stages)


def family_graph(family: str, depth: int, base: Graph | None = None) -> Graph:
    """The network of ``family`` (a preset-name prefix) with ``depth`` weight layers; ``base`` is the
    template graph instead when the family is one graph file or preset."""
    from explorer.presets import build_preset as build, list_presets

    presets = [p.name for p in list_presets()]
    if base is None and f"{family}{depth}" in presets:
        return build(f"{family}{depth}")
    if base is not None:
        candidates = [base]
    else:
        members = sorted((int(m.group(1)), name) for name in presets
                         if (m := re.fullmatch(re.escape(family) + r"(\d+)", name)))
        if not members:
            import difflib
            families = sorted({m.group(1) for name in presets if (m := re.fullmatch(r"(\D\w*?)(\d+)", name))})
            close = difflib.get_close_matches(family, families, n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise DepthError(f"no preset family '{family}' (a family is a preset-name prefix such as resnet or "
                             f"plain, or one preset or graph file used as the template){hint}")
        candidates = [build(name) for _, name in members]
    templates = [t for t in map(template, candidates) if t is not None]
    for t in templates:
        if t.fits(depth):
            return t.at(depth)
    forms = ", ".join(dict.fromkeys(t.describe() for t in templates if t.per_round))
    raise DepthError(f"'{family}' cannot be built with {depth} weight layers; its depths are {forms or 'fixed'} "
                     "for whole n ≥ 1")


@dataclass
class SweepPoint:
    depth: int
    residual: DepthProfile
    plain: DepthProfile
    own_twin: bool = False   # the network has no shortcuts: its plain twin is itself (``plain`` is ``residual``)

    def row(self) -> dict:
        return {"depth": self.depth,
                "residual_first_grad": float(self.residual.output_grad[0]),
                "plain_first_grad": float(self.plain.output_grad[0]),
                "residual_first_over_last": self.residual.ratio_first_last(),
                "plain_first_over_last": self.plain.ratio_first_last(),
                "residual_spread_orders": self.residual.spread_orders(),
                "plain_spread_orders": self.plain.spread_orders()}


def depth_sweep(graphs: dict[int, Graph], x: torch.Tensor, y: torch.Tensor, seed: int = 0,
                normalisation: bool = True, control: Control | None = None) -> list[SweepPoint]:
    """For each depth's graph (already fitted to the data), its profile and its plain twin's."""
    control = control or quiet()
    points = []
    for i, (depth, g) in enumerate(sorted(graphs.items())):
        control.step("depth sweep networks", 2 * i, 2 * len(graphs))
        res = profile_graph(g, x, y, seed, normalisation)
        control.step("depth sweep networks", 2 * i + 1, 2 * len(graphs))
        twin, changes = plain_twin(g)
        plain = profile_graph(twin, x, y, seed, normalisation) if changes else res
        points.append(SweepPoint(depth, res, plain, own_twin=not changes))
    control.step("depth sweep networks", 2 * len(graphs), 2 * len(graphs))
    return points


def sweep_verdict(points: list[SweepPoint]) -> str:
    """How the first layer's gradient moves with depth, plain against residual, with the numbers."""
    if len(points) < 2:
        return "one depth only: nothing to compare along depth"
    a, b = points[0], points[-1]

    def change(p0: DepthProfile, p1: DepthProfile) -> float:
        return float(p1.output_grad[0] / p0.output_grad[0]) if p0.output_grad[0] > 0 else float("nan")

    if all(p.own_twin for p in points):
        return (f"this family has no shortcuts, so each network is its own plain twin: from depth {a.depth} to "
                f"{b.depth} its first layer's gradient changes {change(a.residual, b.residual):.3g}× (first/last "
                f"{a.residual.ratio_first_last():.3g} → {b.residual.ratio_first_last():.3g}); sweep a residual "
                "family (resnet, say) to see what shortcuts change")

    return (f"from depth {a.depth} to {b.depth} the first layer's gradient changes {change(a.plain, b.plain):.3g}× "
            f"in the plain twin (first/last {a.plain.ratio_first_last():.3g} → {b.plain.ratio_first_last():.3g}) "
            f"and {change(a.residual, b.residual):.3g}× in the residual network "
            f"(first/last {a.residual.ratio_first_last():.3g} → {b.residual.ratio_first_last():.3g})")
