"""Which nodes a run kept frozen, and until which step: read from its record (settings and graph), so the
training views can draw frozen layers as frozen instead of as vanished gradients. No Qt, no torch.

Selectors are those of ``TrainConfig.freeze``: a node id (a stage covers all its repetitions) or
``until:NODE``, every node from the input up to and including NODE in network order.
"""
from __future__ import annotations

from dataclasses import dataclass

from explorer.graph.fileio import FileFormatError, loads_graph

UNTIL = "until:"


@dataclass(frozen=True)
class FrozenPart:
    nodes: frozenset[str]      # node ids kept fixed
    until_step: float | None   # the optimiser step they train again from (None: frozen to the end)


def frozen_part(record, steps_per_epoch: int | None = None) -> FrozenPart:
    """The frozen nodes of ``record`` (a RunRecord); nothing when its settings freeze nothing or its graph
    cannot be read."""
    selectors = record.config.get("freeze") if isinstance(record.config, dict) else None
    if not isinstance(selectors, list) or not selectors:
        return FrozenPart(frozenset(), None)
    try:
        order = loads_graph(record.graph_json, source="run").topological_order()
    except (FileFormatError, ValueError):
        return FrozenPart(frozenset(), None)
    chosen: set[str] = set()
    for s in (str(s) for s in selectors):
        name = s[len(UNTIL):].strip() if s.startswith(UNTIL) else s.strip()
        if name in order:
            chosen.update(order[:order.index(name) + 1] if s.startswith(UNTIL) else [name])
    unfreeze = record.config.get("unfreeze_at")
    until = None
    if isinstance(unfreeze, int) and not isinstance(unfreeze, bool) and unfreeze > 1 and steps_per_epoch:
        until = float((unfreeze - 1) * steps_per_epoch)   # epochs count from 1: epoch N starts after N-1
    return FrozenPart(frozenset(chosen), until)
