"""Degeneracy by depth (Orhan & Pitkow 2018, "Skip Connections Eliminate Singularities"): how many
directions the activations of each layer really use, on one fixed batch, and how that changes with training.

Per unit (a block's output, one repetition of a stage; the units of ``explorer.compile.units``), from the
activations' deviations from their mean over the batch (what varies across inputs):

- **effective rank** (Roy & Vetterli 2007): exp of the entropy of the normalised singular values of the
  batch × (channels · positions) matrix, p_i = s_i / Σ s. It runs from 1 (every sample moves along one
  direction) to min(batch − 1, features); a layer that does not vary at all has 0. Singular values below
  the usual rank tolerance (largest · max(m, n) · float32 epsilon) are rounding, not directions.
- **dead fraction**: channels that are constant across the batch (ReLU-dead channels are the zero case;
  ``zero_fraction`` counts those alone): their spread is under ``CONSTANT_TOL`` of the layer's RMS.
- **max correlation**: the largest absolute correlation between two distinct live channels, over all
  samples and positions (near 1 means near-duplicate units, the singularities skip connections remove).

BatchNorm normalises by the running statistics at a trained checkpoint (the network as it is deployed) and
by the batch's own statistics at initialisation, where the running statistics have not been estimated yet
(0 and 1) and the network would otherwise be measured without normalisation. ``bn`` ("running" or
"batch") overrides that for every checkpoint; each snapshot names the choice. Dropout is off.

The activations of one pass stay on the device; units of the same shape are measured together in one
batched ``torch.linalg.svdvals`` call, and the numbers reach the host in one copy per pass. When the
activations of all units would take more than ``PASS_BYTES``, the units are split over several forward
passes. The control is consulted between passes (progress and Cancel).
"""
from __future__ import annotations

import math
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import torch
from torch import nn

from explorer.analysis.bn_statistics import batch_statistics
from explorer.analysis.control import Control, quiet
from explorer.analysis.gradient_flow import unit_depths
from explorer.analysis.lesion import io_shapes
from explorer.analysis.trained import RunError, TrainedRun, checkpoint_path, comparison_paths, load_run
from explorer.compile import LayerUnit, compile_graph, layer_units
from explorer.graph.model import Graph
from explorer.train.isolation import RunIsolation

CONSTANT_TOL = 1e-4        # a channel whose spread is under this share of its layer's RMS is constant
PASS_BYTES = 256 * 2**20   # activations kept in one pass (float32); measuring them takes a few times that
DEFINITION = ("effective rank = exp(entropy of the normalised singular values) of the batch × features "
              "deviations from the batch mean (Roy & Vetterli 2007)")
CHECKPOINTS = ("best", "last")  # what `train --out` writes, besides which the initial weights are rebuilt


@dataclass
class LayerDegeneracy:
    key: str                  # "stage2[3]"
    node_id: str
    depth: int                # weight layers from the input up to and including the unit
    channels: int
    features: int             # channels · positions
    effective_rank: float
    dead_fraction: float      # constant across the batch (zero included)
    zero_fraction: float      # zero for every sample and position
    max_corr: float | None    # None when fewer than two channels are live

    def to_json(self) -> dict:
        return {"node": self.node_id, "unit": self.key, "depth": self.depth, "channels": self.channels,
                "features": self.features, "effective_rank": self.effective_rank,
                "dead_fraction": self.dead_fraction, "zero_fraction": self.zero_fraction, "max_corr": self.max_corr}


@dataclass
class Snapshot:
    """One network at one checkpoint."""
    checkpoint: str           # "init", "best", "last", or a checkpoint file's name
    layers: list[LayerDegeneracy]
    bn: str = "batch"         # which statistics BatchNorm normalised by: "running" or "batch"

    def to_json(self) -> dict:
        return {"checkpoint": self.checkpoint, "bn": self.bn, "layers": [la.to_json() for la in self.layers]}

    def deep_half(self) -> list[LayerDegeneracy]:
        """The deeper half of the units (the classifier included), where degeneracy is predicted."""
        return self.layers[len(self.layers) // 2:]


@dataclass
class Degeneracy:
    """One network over its checkpoints, in training order (init first)."""
    label: str
    snapshots: list[Snapshot] = field(default_factory=list)

    @property
    def latest(self) -> Snapshot:
        return self.snapshots[-1]

    def to_json(self) -> dict:
        return {"label": self.label, "layers": self.latest.to_json()["layers"],
                "checkpoints": [s.to_json() for s in self.snapshots]}


# -- the measures, on tensors --------------------------------------------------------------------------
def effective_rank(singular_values: torch.Tensor) -> torch.Tensor:
    """exp(entropy of s / Σ s) over the last axis, batched; 0 where all singular values vanish."""
    s = singular_values
    total = s.sum(-1, keepdim=True)
    p = s / total.clamp_min(torch.finfo(s.dtype).tiny)
    entropy = -(p * torch.log(p.clamp_min(torch.finfo(s.dtype).tiny))).sum(-1)
    return torch.where(total.squeeze(-1) > 0, entropy.exp(), torch.zeros_like(entropy))


def _per_channel(output: torch.Tensor) -> torch.Tensor:
    """(batch, channels, positions): a feature map's positions flattened, a vector's as one position."""
    n = output.shape[0]
    return output.reshape(n, 1, 1) if output.dim() == 1 else output.reshape(n, output.shape[1], -1)


@torch.no_grad()
def measure(acts: torch.Tensor) -> dict[str, torch.Tensor]:
    """The measures of ``L`` layers of one shape at once: ``acts`` is (L, batch, channels, positions).
    Returns device tensors of length L: effective_rank, dead, zero (fractions) and max_corr (NaN when
    fewer than two channels are live)."""
    acts = acts.float()
    n_layers, n, c, pos = acts.shape
    dev = acts - acts.mean(1, keepdim=True)                        # what varies across the inputs
    rms = acts.pow(2).mean((1, 2, 3)).sqrt()                       # (L,)
    spread = dev.pow(2).mean((1, 3)).sqrt()                        # (L, C)
    constant = spread <= CONSTANT_TOL * rms[:, None]
    zero = acts.abs().amax((1, 3)) == 0

    s = torch.linalg.svdvals(_on_svd_device(dev.reshape(n_layers, n, c * pos))).to(acts.device)
    tol = s[:, :1] * max(n, c * pos) * torch.finfo(torch.float32).eps
    rank = effective_rank(torch.where(s > tol, s, torch.zeros_like(s)))

    chan = dev.permute(0, 2, 1, 3).reshape(n_layers, c, n * pos)    # each channel's deviations
    unit = chan / chan.norm(dim=2, keepdim=True).clamp_min(torch.finfo(torch.float32).tiny)
    corr = (unit @ unit.transpose(1, 2)).abs()
    live = ~constant
    pair = live[:, :, None] & live[:, None, :] & ~torch.eye(c, dtype=torch.bool, device=acts.device)
    max_corr = torch.where(pair, corr, torch.zeros_like(corr)).amax((1, 2)).clamp_max(1.0)
    max_corr = torch.where(live.sum(1) >= 2, max_corr, torch.full_like(max_corr, float("nan")))
    return {"effective_rank": rank, "dead": constant.float().mean(1), "zero": zero.float().mean(1),
            "max_corr": max_corr}


def _on_svd_device(a: torch.Tensor) -> torch.Tensor:
    """Apple's MPS has no SVD; there it runs on the CPU (CUDA and the CPU keep the tensor where it is)."""
    return a.cpu() if a.device.type == "mps" else a


# -- a network ----------------------------------------------------------------------------------------
BN_MODES = ("running", "batch")


def default_bn(checkpoint: str) -> str:
    """Running statistics for trained weights; the batch's own at initialisation (none estimated yet)."""
    return "batch" if checkpoint == "init" else "running"


@contextmanager
def _running_statistics(module: nn.Module):
    """Eval mode: BatchNorm normalises by its running statistics, as the network is deployed."""
    was = module.training
    module.eval()
    try:
        yield module
    finally:
        module.train(was)


def bn_context(module: nn.Module, bn: str):
    if bn not in BN_MODES:
        raise ValueError(f"bn must be one of {', '.join(BN_MODES)}, got {bn!r}")
    return batch_statistics(module) if bn == "batch" else _running_statistics(module)


def _passes(units: list[LayerUnit], shapes: dict[str, tuple], batch: int) -> list[list[LayerUnit]]:
    """Consecutive units whose activations fit in ``PASS_BYTES`` together (one unit at least per pass)."""
    passes: list[list[LayerUnit]] = [[]]
    used = 0
    for u in units:
        size = 4 * batch * math.prod(shapes[u.key][1])
        if passes[-1] and used + size > PASS_BYTES:
            passes.append([])
            used = 0
        passes[-1].append(u)
        used += size
    return passes


@torch.no_grad()
def layer_degeneracy(module: nn.Module, x: torch.Tensor, control: Control | None = None,
                     what: str = "degeneracy", bn: str = "batch") -> list[LayerDegeneracy]:
    """The measures of every unit of ``module`` (compiled from a graph) on the batch ``x``, in network order,
    BatchNorm normalising by the ``bn`` statistics ("running" or "batch")."""
    control = control or quiet()
    units = layer_units(module)
    depths = dict(zip((u.key for u in units), unit_depths(units)))
    with bn_context(module, bn):
        shapes = io_shapes(module, x[:2], units)  # eval mode inside: fine for shapes
        units = [u for u in units if u.key in shapes]
        plan = _passes(units, shapes, len(x))
        rows: dict[str, LayerDegeneracy] = {}
        for i, part in enumerate(plan):
            control.step(what, i, len(plan))
            rows.update(_measure_pass(module, x, part, depths))
        control.step(what, len(plan), len(plan))
    return [rows[u.key] for u in units]


def _measure_pass(module: nn.Module, x: torch.Tensor, units: list[LayerUnit], depths: dict[str, int]):
    outputs: dict[str, torch.Tensor] = {}

    def keep(key, _m, _inputs, output):
        outputs[key] = _per_channel(output.detach()).clone()  # a later in-place op must not change it

    handles = [u.module.register_forward_hook(lambda m, i, o, k=u.key: keep(k, m, i, o)) for u in units]
    try:
        module(x)
    finally:
        for h in handles:
            h.remove()
    groups: dict[tuple, list[str]] = {}
    for key, out in outputs.items():
        groups.setdefault(tuple(out.shape[1:]), []).append(key)
    measured = []
    for shape, keys in groups.items():
        stats = measure(torch.stack([outputs.pop(k) for k in keys]))
        measured.append((shape, keys, torch.stack([stats[n] for n in ("effective_rank", "dead", "zero", "max_corr")])))
    host = torch.cat([m for *_, m in measured], 1).cpu() if measured else torch.empty(4, 0)  # the one copy
    node_of = {u.key: u.node_id for u in units}
    rows, col = {}, 0
    for (c, pos), keys, _ in measured:
        for k in keys:
            rank, dead, zero, corr = host[:, col].tolist()
            col += 1
            rows[k] = LayerDegeneracy(k, node_of[k], depths[k], c, c * pos, rank, dead, zero,
                                      None if math.isnan(corr) else corr)
    return rows


def graph_module(graph: Graph, seed: int, device: torch.device | str = "cpu") -> nn.Module:
    """``graph`` with the weights a run with ``seed`` starts from (the engine's own seeded stream)."""
    with RunIsolation(torch.device("cpu"), seed).active():
        module = compile_graph(graph)
    return module.to(device)


Loader = Callable[[], nn.Module]


def graph_plan(graph: Graph, seed: int, device: torch.device | str = "cpu") -> list[tuple[str, Loader]]:
    """An architecture is measured at initialisation only."""
    return [("init", lambda: graph_module(graph, seed, device))]


def run_checkpoints(run: str | Path) -> list[tuple[str, Path]]:
    """A run's saved weights in training order: a folder's best.pt and last.pt (those present; `train --out`
    writes no other), or the one .pt named."""
    path = Path(run)
    if not path.is_dir():
        return [(path.stem, checkpoint_path(path))]
    found = [(name, path / f"{name}.pt") for name in CHECKPOINTS if (path / f"{name}.pt").is_file()]
    return found or [("last", checkpoint_path(path))]  # checkpoint_path refuses the folder with the reason


def run_plan(run: str | Path, device: torch.device | str = "cpu",
             label: str | None = None) -> tuple[TrainedRun, list[tuple[str, Loader]]]:
    """A trained run's checkpoints: its initial weights (its graph rebuilt with its seed; for a run
    fine-tuned with --init-from these are not the weights it started from), then best and last. The first
    checkpoint is read now (its graph, seed and data set are the run's), the others when measured."""
    files = run_checkpoints(run)
    first = load_run(files[0][1], device, label)
    plan: list[tuple[str, Loader]] = [("init", lambda: graph_module(first.graph, first.seed, device)),
                                      (files[0][0], lambda: first.module)]
    plan += [(name, lambda p=p: load_run(p, device, label).module) for name, p in files[1:]]
    return first, plan


def degeneracy(label: str, checkpoints: list[tuple[str, Callable[[], nn.Module]]], x: torch.Tensor,
               control: Control | None = None, bn: str | None = None) -> Degeneracy:
    """``label``'s network at each checkpoint (name, a loader of the module on ``x``'s device), in order;
    each module is loaded only when its turn comes, so one checkpoint's weights are in memory at a time.
    ``bn`` None: ``default_bn`` per checkpoint."""
    control = control or quiet()
    result = Degeneracy(label)
    for name, load in checkpoints:
        control.check()
        mode = bn or default_bn(name)
        result.snapshots.append(Snapshot(name, layer_degeneracy(load(), x, control, f"degeneracy {label} {name}",
                                                                mode), mode))
    return result


def _deep_means(snap: Snapshot) -> tuple[float, float, float]:
    """Mean effective rank, dead fraction and max correlation over the deeper half of the units."""
    deep = snap.deep_half()
    corrs = [la.max_corr for la in deep if la.max_corr is not None]
    return (sum(la.effective_rank for la in deep) / len(deep), sum(la.dead_fraction for la in deep) / len(deep),
            sum(corrs) / len(corrs) if corrs else float("nan"))


def _describe(label: str, snap: Snapshot) -> str:
    rank, dead, corr = _deep_means(snap)
    return f"{label} effective rank {rank:.3g}, dead {dead:.0%}, max corr {corr:.2f}"


def degeneracy_verdict(net: Degeneracy, twin: Degeneracy | None = None) -> str:
    """What the numbers show in the deeper half of the layers at the latest checkpoint; with the plain twin,
    whether it is the more degenerate one (lower effective rank and more dead or duplicated units)."""
    where = f"deeper half of the layers, {net.latest.checkpoint} (BatchNorm on {net.latest.bn} statistics)"
    if twin is None:
        return f"{where}: {_describe(net.label, net.latest)}; no plain twin to compare with (--compare-twin)"
    head = f"{where}: {_describe(twin.label, twin.latest)}; {_describe(net.label, net.latest)}"
    (r_n, d_n, c_n), (r_t, d_t, c_t) = _deep_means(net.latest), _deep_means(twin.latest)
    worse_units = d_t > d_n + 0.01 or c_t > c_n + 0.01
    better_units = d_t < d_n - 0.01 or c_t < c_n - 0.01
    if r_t < r_n and worse_units and not better_units:
        return f"{head}: the plain twin is the more degenerate, as skip connections predict"
    if r_t > r_n and better_units and not worse_units:
        return f"{head}: here the plain twin is the less degenerate, against the prediction"
    return f"{head}: no consistent difference (rank and units point different ways or barely differ)"


@dataclass
class Study:
    """A network and (optionally) its plain twin, measured on the same batch: what the CLI prints and the
    window draws."""
    net: Degeneracy
    plain: Degeneracy | None
    batch: int
    bn: str = "auto"          # "running", "batch", or "auto" (running for trained weights, batch at init)

    @property
    def verdict(self) -> str:
        return degeneracy_verdict(self.net, self.plain)

    def to_json(self) -> dict:
        return self.net.to_json() | {"batch": self.batch, "definition": DEFINITION, "bn": self.bn,
                                     "plain": self.plain.to_json() if self.plain else None, "verdict": self.verdict}


def study(label: str, plan: list[tuple[str, Loader]], twin_plan: list[tuple[str, Loader]] | None,
          x: torch.Tensor, control: Control | None = None, bn: str | None = None) -> Study:
    net = degeneracy(label, plan, x, control, bn)
    plain = degeneracy(f"{label} (plain twin)", twin_plan, x, control, bn) if twin_plan else None
    return Study(net, plain, len(x), bn or "auto")


def run_plans(run: str | Path, with_twin: bool, device: torch.device | str = "cpu"):
    """(the network's first run read, its plan, the plain twin's plan or None) for a run folder, one of its
    checkpoints or a comparison folder; ``with_twin`` and no twin run beside it is refused with the fix."""
    net_path, twin_path = comparison_paths(run)
    if with_twin and twin_path is None:
        raise RunError(f"{run}: no plain twin run beside it; train both with `python main.py compare ARCH "
                       "--out DIR` and name DIR (or DIR/residual)")
    first, plan = run_plan(net_path, device)
    return first, plan, run_plan(twin_path, device)[1] if with_twin else None
