"""Which parts of a network train, and how fast: frozen nodes (``TrainConfig.freeze``, until
``unfreeze_at``) and per-node learning-rate multipliers (``TrainConfig.lr_mult``).

Nodes are named by id (a stage is one node: ``stage2`` covers all its repetitions) or as ``until:NODE``,
every node from the input up to and including NODE, in network order.

A frozen part is fixed three ways: ``requires_grad=False`` (no gradient is computed for it, and none flows
back through it when everything before it is frozen too), no place in the optimiser (no momentum, no weight
decay), and, with ``freeze_bn``, its BatchNorm layers in eval mode, so their running statistics stay those
of the source data set rather than drifting to the new batches.
"""
from __future__ import annotations

import torch
from torch import nn

from explorer.compile import layer_units, node_of_param
from explorer.train.optim import param_groups

UNTIL = "until:"
_BATCHNORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d, nn.SyncBatchNorm)


class FreezeError(ValueError):
    """A node name that is no node of the network, or one without weights; the message lists those with."""


def resolve_nodes(model, selectors, what: str, graph_nodes=()) -> list[str]:
    """The node ids ``selectors`` name, in network order; ``what`` names the setting in errors. A node named
    on its own must have weights (``until:NODE`` may end anywhere); ``graph_nodes``: every node id of the
    graph, so that the input or output is called a node without weights rather than no node at all."""
    order = list(model.node_ids)
    weighted = {node_of_param(name) for name, _ in model.named_parameters()}
    chosen: set[str] = set()
    for s in selectors:
        until = s.startswith(UNTIL)
        name = s[len(UNTIL):].strip() if until else s.strip()
        if name not in order or (not until and name not in weighted):
            with_weights = list(dict.fromkeys(u.node_id for u in layer_units(model)))
            shown = ", ".join(with_weights[:12]) + (", …" if len(with_weights) > 12 else "")
            known = name in order or name in graph_nodes
            where = ("is a node without weights (nothing to freeze or tune there)" if known
                     else "is no node of this network")
            raise FreezeError(f"{what} names {name!r}, which {where}; nodes with weights: {shown}")
        chosen.update(order[:order.index(name) + 1] if until else [name])
    return [n for n in order if n in chosen]


def node_multipliers(model, lr_mult: dict[str, float], graph_nodes=()) -> dict[str, float]:
    """node id -> learning-rate factor; where two entries name the same node, the later one wins."""
    out: dict[str, float] = {}
    for selector, factor in lr_mult.items():
        for node in resolve_nodes(model, [selector], "lr_mult", graph_nodes):
            out[node] = float(factor)
    return out


class Freezing:
    """The frozen part of one run's model (empty when nothing is frozen), and how to release it."""

    def __init__(self, model, nodes: list[str], unfreeze_at: int = 0, freeze_bn: bool = True,
                 weight_decay: float = 0.0, multipliers: dict[str, float] | None = None) -> None:
        self.model = model
        self.nodes = list(nodes)
        self.unfreeze_at = unfreeze_at
        self.weight_decay = weight_decay
        self.multipliers = multipliers or {}
        wanted = set(self.nodes)
        self.params = [p for name, p in model.named_parameters() if node_of_param(name) in wanted]
        self.batchnorms = [m for n in self.nodes for m in model.nodes[n].modules()
                           if isinstance(m, _BATCHNORMS)] if freeze_bn else []
        self.active = False

    @property
    def frozen_nodes(self) -> list[str]:
        return self.nodes if self.active else []

    @property
    def frozen_params(self) -> int:
        return sum(p.numel() for p in self.params)

    def freeze(self) -> None:
        """Before the optimiser is built: it then leaves these parameters out."""
        for p in self.params:
            p.requires_grad_(False)
        self.active = bool(self.nodes)

    def due(self, epoch: int) -> bool:
        """Whether the parts should be released before a step of 1-based ``epoch``."""
        return self.active and self.unfreeze_at > 0 and epoch >= self.unfreeze_at

    def unfreeze(self, opt: torch.optim.Optimizer) -> None:
        """Let the frozen parts train from now on: gradients on, their own parameter groups in ``opt`` (with
        the optimiser's defaults and their multipliers), BatchNorm back in training mode."""
        for p in self.params:
            p.requires_grad_(True)
        for group in param_groups(self.model, self.weight_decay, self.multipliers, only=self.params):
            opt.add_param_group(group)
        self.active = False
        self.train_mode()

    def train_mode(self) -> None:
        """``model.train()``, except the BatchNorm layers of frozen parts."""
        self.model.train()
        if self.active:
            for m in self.batchnorms:
                m.eval()
