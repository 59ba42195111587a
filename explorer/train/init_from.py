"""Start a run from trained weights (``TrainConfig.init_from``): a run folder, a checkpoint, or a .pth
state_dict. This is fine-tuning, not resuming: only weights come over; optimiser, schedule and epoch
counter start fresh.

Tensors go by name (parameter names carry the node id: ``nodes.stage1.0.conv1.weight``) and must have the
same shape. A file whose names are none of ours (torchvision's ``layer1.0.conv1.weight``) is paired in order
instead, as ``import-weights`` does, when both hold as many tensors. Whatever does not fit (a classifier
for another class count, an input stem for another channel count, a node the source lacks) keeps its fresh
initialisation, and every such node is named in one notice: nothing mismatched is loaded, nothing is
dropped silently.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from explorer.compile import node_of_param
from explorer.train.state_file import StateFileError, read_state_dict
from explorer.train.torch_archive import TensorBudget

_COUNTER = "num_batches_tracked"  # BatchNorm's step counter: carried over when present, never a mismatch


class InitError(ValueError):
    """The source cannot initialise this network; the message names the source and the fix."""


@dataclass
class Initialisation:
    """What ``initialise`` did, node by node, in network order: for the notice and the run's provenance."""
    source: str                      # the path the person gave
    file: str                        # the file read (a run folder's last.pt)
    matched_by: str                  # "name" or "order"
    loaded: list[str] = field(default_factory=list)               # nodes whose every tensor came from the source
    reinitialised: dict[str, str] = field(default_factory=dict)   # node -> why it kept fresh weights
    unused: list[str] = field(default_factory=list)               # source tensors nothing took

    def notice(self) -> str:
        total = len(self.loaded) + len(self.reinitialised)
        text = f"initialised from {self.file} (by {self.matched_by}): loaded {len(self.loaded)} of {total} nodes"
        if self.reinitialised:
            text += "; re-initialised " + "; ".join(f"{n} ({why})" for n, why in self.reinitialised.items())
        if self.unused:
            text += (f"; {len(self.unused)} tensor{'s' if len(self.unused) > 1 else ''} of the source not used "
                     f"({', '.join(self.unused[:3])}{', …' if len(self.unused) > 3 else ''})")
        return text

    def to_dict(self) -> dict:
        return {"source": self.source, "file": self.file, "matched_by": self.matched_by, "loaded": list(self.loaded),
                "reinitialised": dict(self.reinitialised), "unused": list(self.unused)}


def read_source(source: str, budget=None) -> tuple[str, dict[str, torch.Tensor]]:
    """(the file read, its state_dict): a run folder means its last.pt; a checkpoint of ours is a wrapped
    state_dict (its ``model``) like timm's, so one reader takes all three. Raises InitError."""
    path = Path(source)
    if path.is_dir():
        if not (path / "last.pt").is_file():
            raise InitError(f"{source} holds no last.pt: name a run folder, a checkpoint or a .pth file")
        path = path / "last.pt"
    try:
        return str(path.resolve()), read_state_dict(path, budget)  # budget: what the file may declare
    except StateFileError as e:
        raise InitError(str(e)) from None


def initialise(model: nn.Module, source: str) -> Initialisation:
    """Load what fits of ``source`` into ``model`` (in place, on its device); raises InitError when
    nothing fits or the source cannot be paired with the network at all."""
    ours = model.state_dict()
    # a checkpoint holds the weights and up to two optimiser moments per weight (Adam), in float64 at worst
    file, theirs = read_source(source, TensorBudget.for_tensors(ours.values(), 6, "this network"))
    by_name = any(k in ours for k in theirs)
    pairs = _pairs_by_name(ours, theirs) if by_name else _pairs_by_order(ours, theirs, file)
    result = Initialisation(source, file, "name" if by_name else "order")
    state, problems, taken = dict(ours), {}, set()
    paired = {other for _, other in pairs if other is not None}
    for mine, other in pairs:
        if other is None:
            problems.setdefault(node_of_param(mine), []).append(f"{_leaf(mine)} not in the source")
        elif tuple(theirs[other].shape) != tuple(ours[mine].shape):
            problems.setdefault(node_of_param(mine), []).append(
                f"{_leaf(mine)}: {_shape(theirs[other])} in the source, {_shape(ours[mine])} here")
        else:
            state[mine] = theirs[other].detach().to(dtype=ours[mine].dtype)
            taken.add(other)
    _carry_counters(state, ours, theirs, by_name)
    nodes = list(dict.fromkeys(node_of_param(k) for k, _ in pairs))
    result.loaded = [n for n in nodes if n not in problems]
    result.reinitialised = {n: "; ".join(_summary(problems[n])) for n in nodes if n in problems}
    result.unused = [k for k in theirs if k not in paired and not k.endswith(_COUNTER)]
    if not result.loaded and len(taken) == 0:
        raise InitError(f"no tensor of {file} fits this network (first: {result.reinitialised[nodes[0]]}); "
                        "start from a run of the same architecture")
    model.load_state_dict(state, strict=True)
    return result


def _pairs_by_name(ours: dict, theirs: dict) -> list[tuple[str, str | None]]:
    return [(k, k if k in theirs else None) for k in ours if not k.endswith(_COUNTER)]


def _pairs_by_order(ours: dict, theirs: dict, file: str) -> list[tuple[str, str | None]]:
    mine = [k for k in ours if not k.endswith(_COUNTER)]
    other = [k for k in theirs if not k.endswith(_COUNTER)]
    if len(mine) != len(other):
        raise InitError(f"none of the names in {file} are this network's, and it holds {len(other)} tensors where "
                        f"the network has {len(mine)}, so they cannot be paired in order either; start from a run "
                        "folder of the same architecture, or use the preset the file was trained as")
    return list(zip(mine, other))


def _carry_counters(state: dict, ours: dict, theirs: dict, by_name: bool) -> None:
    """BatchNorm step counters come along by name (in order they cannot be told apart reliably)."""
    if by_name:
        for k in ours:
            if k.endswith(_COUNTER) and k in theirs and theirs[k].numel() == ours[k].numel():
                state[k] = theirs[k].detach().to(ours[k].dtype).reshape(ours[k].shape)


def _summary(problems: list[str], limit: int = 2) -> list[str]:
    """At most ``limit`` reasons per node, then how many more (a 9-block stage has dozens of tensors)."""
    return problems[:limit] + ([f"{len(problems) - limit} more tensors"] if len(problems) > limit else [])


def _leaf(name: str) -> str:
    """``nodes.stage1.0.conv1.weight`` -> ``0.conv1.weight`` (the node is named separately)."""
    parts = name.split(".")
    return ".".join(parts[2:]) if parts[0] == "nodes" and len(parts) > 2 else name


def _shape(t: torch.Tensor) -> str:
    return "×".join(map(str, t.shape)) if t.dim() else "a scalar"
