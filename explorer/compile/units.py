"""The per-layer view of a compiled graph that gradient plots and lesion studies use.

A unit is one top-level node, or one repetition of a repeated stage, that owns parameters; units are
listed in network (topological) order, so their index is the depth axis of a "gradient by depth" plot.
"""
from __future__ import annotations

from dataclasses import dataclass

from torch import nn


@dataclass(frozen=True)
class LayerUnit:
    key: str            # "conv_1" or "stage2[3]"
    node_id: str
    repeat_index: int   # -1 when the node does not repeat
    module: nn.Module
    param_names: tuple[str, ...]


def layer_units(module) -> list[LayerUnit]:
    units = []
    for nid in module.node_ids:
        sub = module.nodes[nid]
        if module.repeats.get(nid, 1) > 1:
            for i, part in enumerate(sub):
                names = tuple(f"nodes.{nid}.{i}.{n}" for n, _ in part.named_parameters())
                if names:
                    units.append(LayerUnit(f"{nid}[{i}]", nid, i, part, names))
        else:
            names = tuple(f"nodes.{nid}.{n}" for n, _ in sub.named_parameters())
            if names:
                units.append(LayerUnit(nid, nid, -1, sub, names))
    return units

