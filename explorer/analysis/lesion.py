"""Lesion study (Veit et al. 2016): delete blocks from a trained network at test time and measure.

Residual networks behave like ensembles of many paths, so deleting one block (its shortcut stays, so the
block becomes the identity) costs little; deleting a block of a plain network breaks its only path.
A block whose output has its input's shape is replaced by the identity. A downsampling block (one that
changes the shape) is deleted as Veit et al. delete it: its residual branch is dropped and its shortcut
(projection or zero-pad) kept, so such rows are marked ``downsampling``. Only blocks with no shortcut to
keep (the blocks of a plain network, dense blocks) are reported as skipped, with the shapes. Besides one
block at a time, k random blocks at once for k = 1…n, several draws each, as mean ± spread.

The accuracy is measured on the data set's held-out split: its own test split where it has one (CIFAR-10,
MNIST, Fashion-MNIST), else the validation split the loader set aside; ``split_name`` says which.

The lesioned parts are swapped in place and always put back (also on cancel or error); accuracies stay on
the device until the study ends, then reach the host in one copy.
"""
from __future__ import annotations

import math
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from explorer.analysis.control import Control, quiet
from explorer.analysis.evaluate import loss_and_correct
from explorer.blocks.registry import get_block
from explorer.compile import LayerUnit, layer_units
from explorer.graph.model import Graph
from explorer.graph.shapes import fmt_shape


# Data sets whose loader returns their own test split as the validation split (test_batch, t10k).
TEST_SPLIT_SETS = frozenset({"cifar10", "mnist", "fashion-mnist"})


def split_name(dataset: str) -> str:
    """Which split a lesion (or any held-out measurement) of a run on ``dataset`` evaluates on."""
    return "test" if dataset in TEST_SPLIT_SETS else "validation"


@dataclass
class BlockLesion:
    key: str                 # "stage1[2]"
    node_id: str
    accuracy: float | None   # None when the block cannot be deleted
    reason: str = ""
    downsampling: bool = False  # deleted by dropping its branch and keeping its shortcut

    def to_json(self) -> dict:
        row = {"node": self.node_id, "unit": self.key}
        if self.accuracy is None:
            return {**row, "reason": self.reason}
        return {**row, "acc": self.accuracy, "downsampling": self.downsampling}


@dataclass
class RandomLesion:
    k: int
    mean_acc: float
    std: float
    min_acc: float
    max_acc: float
    draws: int

    def to_json(self) -> dict:
        return {"k": self.k, "mean_acc": self.mean_acc, "std": self.std, "min_acc": self.min_acc,
                "max_acc": self.max_acc, "draws": self.draws}


@dataclass
class LesionStudy:
    label: str
    baseline_acc: float
    blocks: list[BlockLesion]                 # the deletable blocks, in network order
    skipped: list[BlockLesion]                # those with no shortcut to keep, with the reason
    random: list[RandomLesion] = field(default_factory=list)

    @property
    def drops(self) -> np.ndarray:
        return np.array([self.baseline_acc - b.accuracy for b in self.blocks], dtype=np.float64)

    def to_json(self) -> dict:
        return {"label": self.label, "baseline_acc": self.baseline_acc, "blocks": [b.to_json() for b in self.blocks],
                "skipped": [b.to_json() for b in self.skipped], "random": [r.to_json() for r in self.random]}


def candidate_units(module: nn.Module, graph: Graph) -> list[LayerUnit]:
    """The blocks a lesion removes: units of composite blocks (a residual or plain block, one repetition
    of a stage); a network built only from primitives offers each of its layers."""
    units = layer_units(module)
    blocks = [u for u in units if u.node_id in graph and get_block(graph.node(u.node_id).type).composite]
    return blocks or units


def io_shapes(module: nn.Module, x: torch.Tensor, units: list[LayerUnit]) -> dict[str, tuple]:
    """(input shape, output shape) per sample of each unit, from one forward of a small batch."""
    shapes: dict[str, tuple] = {}

    def hook(key, _m, inputs, output):
        shape_in = tuple(inputs[0].shape[1:]) if len(inputs) == 1 else None
        shapes[key] = (shape_in, tuple(output.shape[1:]))

    handles = [u.module.register_forward_hook(lambda m, i, o, k=u.key: hook(k, m, i, o)) for u in units]
    was = module.training
    try:
        module.eval()
        with torch.no_grad():
            module(x)
    finally:
        for h in handles:
            h.remove()
        module.train(was)
    return shapes


class ShortcutOnly(nn.Module):
    """Stands in for a residual block's add: passes the shortcut (input 1) and drops the branch (input 0)."""

    def forward(self, branch, skip):
        return skip.clone()  # a fresh tensor: the block's in-place ReLU after the add must not write the input


@dataclass(frozen=True)
class Lesion:
    """One block to delete: the unit, and whether only its branch goes (a downsampling block)."""
    unit: LayerUnit
    downsampling: bool = False


def shortcut_add(unit: LayerUnit, graph: Graph) -> str | None:
    """The node inside ``unit`` that adds its branch to its shortcut, when the block declares one and was
    built with a shortcut (a plain twin's block has none)."""
    add = getattr(get_block(graph.node(unit.node_id).type), "shortcut_add", None) if unit.node_id in graph else None
    inner = getattr(unit.module, "nodes", None)
    return add if add is not None and inner is not None and add in inner else None


def _no_shortcut(unit: LayerUnit, graph: Graph) -> str:
    """Why a shape-changing unit has no shortcut that could stand in for it: none at all (a plain block), or
    an output that concatenates (a block whose type says it keeps its concatenations: dense, dual path)."""
    concatenates = unit.node_id in graph and get_block(graph.node(unit.node_id).type).twin_note
    return ("has no shortcut to keep: its output concatenates new channels to its input, so no shortcut alone "
            "can stand in for it" if concatenates else "has no shortcut to keep")


def _slot(module: nn.Module, lesion: Lesion, graph: Graph) -> tuple[nn.Module, str, nn.Module]:
    """Where the lesion swaps a module, and what it puts there: the block's add inside a downsampling block,
    else the unit itself in a stage's Sequential (by repetition) or the node dictionary."""
    unit = lesion.unit
    if lesion.downsampling:
        return unit.module.nodes, shortcut_add(unit, graph), ShortcutOnly()
    if unit.repeat_index >= 0:
        return module.nodes[unit.node_id], str(unit.repeat_index), nn.Identity()
    return module.nodes, unit.node_id, nn.Identity()


@contextmanager
def deleted(module: nn.Module, lesions: list[Lesion], graph: Graph):
    """``lesions`` applied (blocks replaced by the identity, downsampling blocks by their shortcut); every
    module is put back on the way out."""
    slots = [_slot(module, les, graph) for les in lesions]
    originals = [parent._modules[name] for parent, name, _ in slots]
    try:
        for parent, name, stand_in in slots:
            parent._modules[name] = stand_in
        yield module
    finally:
        for (parent, name, _), original in zip(slots, originals):
            parent._modules[name] = original


def lesion_study(module: nn.Module, graph: Graph, x: torch.Tensor, y: torch.Tensor, random_k: bool = True,
                 draws: int = 5, seed: int = 0, label: str = "", control: Control | None = None) -> LesionStudy:
    """Baseline accuracy on (x, y), each deletable block deleted in turn, and (``random_k``) k random
    deletable blocks at once for k = 1…n, ``draws`` draws each (one when there is only one choice)."""
    control = control or quiet()
    was = module.training
    module.eval()
    try:
        units = candidate_units(module, graph)
        shapes = io_shapes(module, x[:2], units)
        deletable, skipped = [], []
        for u in units:
            shape_in, shape_out = shapes.get(u.key, (None, None))
            if shape_in is not None and shape_in == shape_out:
                deletable.append(Lesion(u))
            elif shape_in is not None and shortcut_add(u, graph) is not None:
                deletable.append(Lesion(u, downsampling=True))
            else:
                why = (f"it changes the shape ({fmt_shape(shape_in)} → {fmt_shape(shape_out)}) and "
                       f"{_no_shortcut(u, graph)}" if shape_in is not None else "it takes several inputs")
                skipped.append(BlockLesion(u.key, u.node_id, None, why))
        rng = np.random.default_rng(seed)
        plan: list[tuple[int, list[Lesion]]] = [(0, [])] + [(1, [les]) for les in deletable]
        if random_k:
            for k in range(1, len(deletable) + 1):
                n_draws = 1 if k == len(deletable) else min(draws, math.comb(len(deletable), k))
                for _ in range(n_draws):
                    pick = sorted(rng.choice(len(deletable), size=k, replace=False))
                    plan.append((k, [deletable[i] for i in pick]))
        correct = []
        for i, (_, gone) in enumerate(plan):
            control.step("lesions", i, len(plan))
            with deleted(module, gone, graph):
                correct.append(loss_and_correct(module, x, y, control)[1])
        control.step("lesions", len(plan), len(plan))
        acc = (torch.stack(correct) / max(1, len(x))).cpu().numpy().astype(np.float64)  # the one copy
    finally:
        module.train(was)
    blocks = [BlockLesion(les.unit.key, les.unit.node_id, float(a), downsampling=les.downsampling)
              for les, a in zip(deletable, acc[1:1 + len(deletable)])]
    random = []
    singles = 1 + len(deletable)
    for k in range(1, len(deletable) + 1 if random_k else 1):
        vals = np.array([a for (kk, _), a in zip(plan[singles:], acc[singles:]) if kk == k])
        random.append(RandomLesion(k, float(vals.mean()), float(vals.std()), float(vals.min()), float(vals.max()),
                                   len(vals)))
    return LesionStudy(label, float(acc[0]), blocks, skipped, random)


def _summary(study: LesionStudy) -> str:
    if not study.blocks:
        return f"{study.label} has no block that can be deleted ({len(study.skipped)} have no shortcut to keep)"
    return (f"deleting one block of {study.label} costs {_acc(study.drops.mean())} accuracy on average "
            f"(baseline {study.baseline_acc:.3f}); the worst block, {_worst(study)}")


def _acc(x: float) -> str:
    """An accuracy change to 3 places; a change that rounds to nothing reads 0.000, never -0.000."""
    return f"{round(float(x), 3) + 0.0:.3f}"


def _worst(study: LesionStudy) -> str:
    """What the worst deletion measures, in the plot's words: 'stage1[0], drops accuracy by 0.538 (to 0.434)'."""
    i = int(np.argmax(study.drops))
    return (f"{study.blocks[i].key}, drops accuracy by {_acc(study.drops[i])} "
            f"(to {study.baseline_acc - study.drops[i]:.3f})")


def lesion_verdict(net: LesionStudy, twin: LesionStudy | None = None) -> str:
    """What the numbers show; with the plain twin's run, the two compared."""
    if twin is None:
        return _summary(net)
    if not net.blocks or not twin.blocks:
        return f"{_summary(net)}; {_summary(twin)}"
    a, b = float(net.drops.mean()), float(twin.drops.mean())
    ratio = f"{b / a:.3g}× " if a > 1e-9 else ""
    return (f"deleting one block costs {twin.label} {_acc(b)} accuracy on average and {net.label} {_acc(a)}: "
            f"{'a plain network has one path, so a missing block is ' + ratio + 'worse there' if b > a else 'no larger cost without shortcuts'}"
            f" (baselines {twin.baseline_acc:.3f} and {net.baseline_acc:.3f}); the worst block of {twin.label}, "
            f"{_worst(twin)}; of {net.label}, {_worst(net)}")
