"""Weight files laid out by a known codebase other than torchvision's: recognised by their names, renamed into
the plain state_dict the structural pairing reads, and the preset rebuilt with that codebase's conventions.

akamaster/pytorch_resnet_cifar10 (the widely used CIFAR ``resnet20`` … ``resnet1202`` files): saved from
``nn.DataParallel``, so every key starts with ``module.``; the classifier is called ``linear``; the option-A
shortcut pads the new channels on both sides (``F.pad(x, (0, 0, 0, 0, planes // 4, planes // 4))``). Its
files wrap the state_dict as ``{"state_dict": ..., "best_prec1": ...}``, which the reader already unwraps.
The run is then built with every zero-pad shortcut splitting its channels (``pad_split="both"``), so that
``export`` and ``analyze`` see the network the file was trained as.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch

from explorer.graph.model import Graph

DATA_PARALLEL = "module."


@dataclass(frozen=True)
class Layout:
    name: str                                       # "" for a plain state_dict
    note: str = ""
    prefix: str = ""                                # stripped from every key
    block_params: dict = field(default_factory=dict)  # set on every node whose type declares the parameter

    def state(self, theirs: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        n = len(self.prefix)
        return {k[n:]: v for k, v in theirs.items()} if n else theirs

    def graph(self, graph: Graph) -> Graph:
        if not self.block_params:
            return graph
        g = graph.copy()
        for nid in g.topological_order():
            params = g.spec(nid).params
            for name, value in self.block_params.items():
                if params.get(name) is not None:
                    g.set_param(nid, name, value)
        return g


PLAIN = Layout("")


def recognise(theirs: dict[str, torch.Tensor]) -> Layout:
    """The layout of a state_dict read from a file: akamaster's CIFAR ResNets, or plain."""
    keys = list(theirs)
    if keys and all(k.startswith(DATA_PARALLEL) for k in keys):
        inner = [k[len(DATA_PARALLEL):] for k in keys]
        if {"linear.weight", "conv1.weight"} <= set(inner) and any(k.startswith("layer1.") for k in inner):
            return Layout("akamaster", "recognised akamaster's CIFAR ResNet layout (DataParallel 'module.' keys, a "
                          "'linear' classifier): built with zero-pad shortcuts that split the new channels on "
                          "both sides, as it was trained", DATA_PARALLEL, {"pad_split": "both"})
        return Layout("data_parallel", "stripped the 'module.' prefix nn.DataParallel left on every key",
                      DATA_PARALLEL)
    return PLAIN
