"""The trials a spec makes and the network each one trains.

A depth study builds its family at each depth the way `analyze depth-sweep` does (a preset where the
family has one, else a template with every repeated stage grown); a grid study loads each preset or graph
file. With the twin on, each network also trains as its plain twin (shortcuts removed); a network with no
shortcut has no distinct twin, so it gets none (said in ``notices``).

The driver builds every graph and ships it to the worker as JSON, so a worker on another machine needs
neither the family's presets nor the user's graph files.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from explorer.graph.fileio import dumps_graph
from explorer.graph.model import Graph
from explorer.studies.spec import DEPTH, SpecError, StudySpec
from explorer.studies.trial import Trial, trial_id


@dataclass(frozen=True)
class PlannedTrial:
    trial: Trial
    graph_json: str            # the network exactly as it trains


def plan_trials(spec: StudySpec) -> tuple[list[PlannedTrial], list[str]]:
    """Every trial of ``spec`` in the order they start (shallow first, plain twin before its network, seeds
    innermost), and notices for the person; raises SpecError when a network cannot be built."""
    from explorer.network.inference import analyze
    from explorer.network.twins import plain_twin

    planned, notices = [], []
    for source, graph, depth in _networks(spec):
        name = graph.name or Path(source).stem
        variants = [(False, graph)]
        if spec.twin:
            twin, changes = plain_twin(graph)
            if any(c.removes_shortcut for c in changes):
                variants.insert(0, (True, twin))
            else:
                notices.append(f"{name} has no shortcut to remove: it trains without a plain twin")
        for plain, g in variants:
            depth = depth if depth is not None else analyze(g).total.weight_layers
            text = dumps_graph(g)
            for seed in spec.seeds:
                t = Trial(id=trial_id(name, plain, seed), arch=name, source=source, depth=depth, plain=plain,
                          seed=seed)
                planned.append(PlannedTrial(t, text))
    ids = [p.trial.id for p in planned]
    if len(set(ids)) != len(ids):
        dup = next(i for i in ids if ids.count(i) > 1)
        raise SpecError(f"two trials would be called '{dup}': name each architecture once")
    return planned, notices


def _networks(spec: StudySpec):
    """(source, graph, depth or None to measure) for each network of the study."""
    from explorer.analysis.depth_sweep import DepthError, family_graph
    from explorer.arch import ArchError, load_arch

    if spec.kind == DEPTH:
        base = _load(spec.family, load_arch, ArchError) if _names_one_network(spec.family) else None
        for d in spec.depths:
            try:
                yield spec.family, family_graph(spec.family, d, base), d
            except DepthError as e:
                raise SpecError(str(e)) from None
        return
    for arch in spec.archs:
        yield arch, _load(arch, load_arch, ArchError), None


def _names_one_network(family: str) -> bool:
    from explorer.presets import list_presets
    return family.endswith(".json") or Path(family).is_file() or family in {p.name for p in list_presets()}


def _load(arch: str, load_arch, error) -> Graph:
    try:
        return load_arch(arch)
    except error as e:
        raise SpecError(str(e)) from None
