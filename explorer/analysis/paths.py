"""Path-length ensemble view (Veit et al. 2016, Fig. 6): a net of n residual blocks is 2ⁿ paths.

A path takes the residual branch in k of the blocks and the shortcut in the others, so C(n, k) paths have
length k (a binomial distribution, centred on n/2). How much gradient a path of length k carries is
*measured* as in Veit et al.'s Fig. 6(b): the forward pass is the ordinary one, but in the backward pass the
gradient goes only through the branches of k randomly chosen blocks and through the shortcuts of all the
others, and the norm of the gradient reaching the input is recorded. Every sampled path sees the *same*
batch (its first ``measure`` samples), so lengths differ only by their path, not by their data; a path's
value is the mean over that batch of each sample's input-gradient norm. Per length: the mean over the
sampled paths and their spread; over all paths, a least-squares slope of log10(gradient) against length
(with its standard error), so "falls with length" is a fitted number, not an impression. Multiplied by the
number of paths of each length, it says which lengths carry the gradient; the verdict says what the numbers
show for this network, which need not be what Veit et al. found.

The network runs in eval mode (samples do not mix through BatchNorm), normalised by the trained run's
running statistics, or, for a network that has never seen data, by statistics estimated first on a few
training batches (``explorer.analysis.bn_statistics``): with the untouched 0/1 statistics of a fresh
network it would be measured unnormalised. Several paths share one forward/backward: each row of the
replicated batch carries its path's 0/1 mask per block.
"""
from __future__ import annotations

import math
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from explorer.analysis.bn_statistics import estimated_statistics, never_updated, running_norms
from explorer.analysis.control import Control, quiet
from explorer.blocks.base import repeats
from explorer.blocks.registry import get_block
from explorer.compile import layer_units
from explorer.graph.model import Graph
from explorer.network.inference import analyze


def path_counts(n: int) -> list[int]:
    """How many of the 2ⁿ paths have length k = 0…n: C(n, k)."""
    return [math.comb(n, k) for k in range(n + 1)]


@dataclass(frozen=True)
class ResidualMerge:
    key: str            # the unit ("stage1[2]")
    module: nn.Module   # the merge (Add) inside the compiled block
    skip_input: int     # which of its two inputs is the shortcut


def residual_merges(module: nn.Module, graph: Graph) -> tuple[list[ResidualMerge], list[str]]:
    """The residual blocks (units whose inside has exactly one two-input skip merge) and the keys of the
    other units."""
    info = analyze(graph).nodes
    units = {u.key: u for u in layer_units(module)}
    merges, others = [], []
    for u in units.values():
        node = graph.node(u.node_id)
        block = get_block(node.type)
        found = None
        if block.composite:
            reps = list(repeats(block, node.params, node.repeat, info[u.node_id].in_shapes))
            p, shapes, _ = reps[max(0, u.repeat_index)]
            inner = block.expansion(p, tuple(shapes[0])).graph
            adds = [m for m in inner.nodes if inner.spec(m).skip_merge and len(inner.inputs_of(m)) == 2]
            if len(adds) == 1:
                a, b = inner.inputs_of(adds[0])
                # the shortcut is the input with the shorter history (the block input or a zero-pad)
                skip = 0 if len(inner.ancestors(a)) < len(inner.ancestors(b)) else 1
                found = ResidualMerge(u.key, u.module.nodes[adds[0]], skip)
        (merges.append(found) if found else others.append(u.key))
    return merges, others


@dataclass
class PathProfile:
    blocks: int                      # n residual blocks
    keys: list[str]
    not_residual: list[str]          # units with no shortcut to take
    counts: list[int]                # C(n, k)
    grad_per_path: np.ndarray        # mean over the sampled paths of length k of their gradient (nan: none)
    samples: int                     # paths sampled per length
    grad_spread: np.ndarray = field(default_factory=lambda: np.zeros(0))  # std over those paths
    path_grads: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))  # (length, sample) raw values
    measured: int = 0                # samples in the one batch every path sees
    bn: str = ""                     # which statistics BatchNorm used

    @property
    def grad_total(self) -> np.ndarray:
        """Gradient carried by all paths of each length together: count × per-path gradient."""
        return np.array([float(c) for c in self.counts]) * np.nan_to_num(self.grad_per_path)

    def slope(self) -> tuple[float, float]:
        """Least-squares slope of log10(path gradient) against path length over every sampled path, and its
        standard error (nan where there are fewer than three usable values or a single length)."""
        return self.fit()[:2]

    def fit(self) -> tuple[float, float, float]:
        """(slope, its standard error, intercept) of the least-squares line log10(gradient) = a + slope·k."""
        k = np.repeat(np.arange(self.path_grads.shape[0]), self.path_grads.shape[1]) if self.path_grads.size else []
        v = self.path_grads.ravel()
        ok = np.isfinite(v) & (v > 0)
        k, v = np.asarray(k, dtype=np.float64)[ok], np.log10(v[ok])
        if len(v) < 3 or np.ptp(k) == 0:
            return float("nan"), float("nan"), float("nan")
        a = np.vstack([k, np.ones_like(k)]).T
        coef, *_ = np.linalg.lstsq(a, v, rcond=None)
        resid = v - a @ coef
        dof = max(1, len(v) - 2)
        se = math.sqrt(float(resid @ resid) / dof / float(((k - k.mean()) ** 2).sum()))
        return float(coef[0]), se, float(coef[1])

    def to_json(self) -> dict:
        total = self.grad_total
        share = total / total.sum() if total.sum() > 0 else total
        n_paths = float(2 ** self.blocks)
        slope, se, intercept = self.fit()
        spread = self.grad_spread if len(self.grad_spread) == len(self.counts) else np.full(len(self.counts), np.nan)
        return {"blocks": self.blocks, "residual_blocks": self.keys, "not_residual": self.not_residual,
                "samples_per_length": self.samples, "measured_batch": self.measured, "bn_statistics": self.bn,
                "slope_log10_per_length": _finite(slope), "slope_stderr": _finite(se),
                "fit_log10_at_length_0": _finite(intercept),
                "factor_per_branch": _finite(10 ** slope) if math.isfinite(slope) else None,
                "lengths": [{"length": k, "paths": c, "share_of_paths": c / n_paths,
                             "grad_per_path": _finite(g), "grad_spread": _finite(sd), "grad_total": float(t),
                             "share_of_gradient": float(s)}
                            for k, (c, g, sd, t, s) in enumerate(zip(self.counts, self.grad_per_path, spread, total,
                                                                     share))]}


def _finite(v: float) -> float | None:
    return float(v) if math.isfinite(v) else None


def path_gradients(module: nn.Module, graph: Graph, x: torch.Tensor, y: torch.Tensor, samples: int = 16,
                   batch_size: int = 256, seed: int = 0, control: Control | None = None,
                   measure: int = 32) -> PathProfile:
    """Sample ``samples`` paths of each length 0…n and measure the gradient each sends back to the input of
    the same batch, ``x[:measure]``. BatchNorm uses the module's running statistics, estimated first on
    ``x`` (training samples) where they were never set. ``batch_size`` rows go through one forward."""
    control = control or quiet()
    merges, others = residual_merges(module, graph)
    n = len(merges)
    xm, ym = x[:measure], y[:measure]
    b = len(xm)
    g = torch.Generator().manual_seed(seed)
    lengths = torch.arange(n + 1).repeat_interleave(samples)                 # k for every sampled path
    # k random blocks per path: the k smallest of n random keys
    ranks = torch.rand(len(lengths), n, generator=g).argsort(1).argsort(1)
    masks = (ranks < lengths[:, None]).float().to(x.device)
    per_path = torch.zeros(len(lengths), device=x.device)
    state = {"mask": None}
    handles = [m.module.register_forward_hook(_router(state, i, m.skip_input)) for i, m in enumerate(merges)]
    # An Add that sums in place writes the shortcut into the branch's tensor, so the router could not keep
    # the two apart: the merges add out of place while they are measured.
    inplace = [getattr(m.module, "inplace", None) for m in merges]
    for m in merges:
        if getattr(m.module, "inplace", None):
            m.module.inplace = False
    was = module.training
    fresh = never_updated(module)
    chunk = max(1, batch_size // max(1, b))  # paths per forward
    try:
        with _statistics(module, x, fresh) as bn:
            for start in range(0, len(lengths), chunk):
                control.step("paths sampled", start, len(lengths))
                rows = slice(start, min(start + chunk, len(lengths)))
                m = len(range(*rows.indices(len(lengths))))
                state["mask"] = masks[rows].repeat_interleave(b, dim=0)
                xb = xm.repeat(m, *([1] * (xm.dim() - 1))).clone().requires_grad_(True)
                loss = nn.functional.cross_entropy(module(xb), ym.repeat(m), reduction="sum")
                (grad,) = torch.autograd.grad(loss, xb)
                per_path[rows] = grad.flatten(1).norm(dim=1).view(m, b).mean(1)
            control.step("paths sampled", len(lengths), len(lengths))
    finally:
        for h in handles:
            h.remove()
        for m, flag in zip(merges, inplace):
            if flag:
                m.module.inplace = flag
        module.train(was)
    raw = per_path.view(n + 1, samples).cpu().numpy().astype(np.float64)  # the one copy
    return PathProfile(n, [mg.key for mg in merges], others, path_counts(n), raw.mean(1), samples,
                       raw.std(1), raw, b, bn)


@contextmanager
def _statistics(module: nn.Module, x: torch.Tensor, fresh: bool):
    """Eval mode with the statistics the measurement uses, and the words that name them."""
    if not fresh:
        module.eval()
        yield "the run's running statistics" if running_norms(module) else "none (no BatchNorm)"
        return
    with estimated_statistics(module, x) as used:
        yield f"running statistics estimated on {used} training samples first"


def _router(state: dict, i: int, skip: int):
    """Forward hook on block i's merge: the same value, but each row's gradient goes back through the
    branch (mask 1) or the shortcut (mask 0) only."""
    def hook(_m, inputs, out):
        if state["mask"] is None:
            return None  # a pass that measures nothing (BatchNorm statistics being estimated)
        m = state["mask"][:, i].view(-1, *([1] * (out.dim() - 1)))
        branch, short = inputs[1 - skip], inputs[skip]
        return out.detach() + m * (branch - branch.detach()) + (1 - m) * (short - short.detach())
    return hook


def paths_verdict(p: PathProfile, label: str = "the network") -> str:
    """What the measurement shows for this network: the fitted trend with length, and which lengths carry
    the gradient once weighted by how many paths have each length. Short paths are said to dominate only
    when the gradient falls with length and the gradient-weighted mean length is clearly below n/2."""
    if p.blocks == 0:
        return f"{label} has no residual block: a single path runs through all {len(p.not_residual)} units"
    total = p.grad_total
    if total.sum() <= 0:
        return f"{label}: no gradient reached the input"
    share = np.cumsum(total) / total.sum()
    cut = int(np.searchsorted(share, 0.9))
    half = p.blocks / 2
    mean_len = float((np.arange(p.blocks + 1) * total).sum() / total.sum())
    path_share = sum(p.counts[:cut + 1]) / 2 ** p.blocks
    slope, se = p.slope()
    head = f"{label}: {p.blocks} residual blocks make 2^{p.blocks} paths, typically of length {half:g}"
    if not math.isfinite(slope):
        trend, falls, rises = "too few values to fit a trend with length", False, False
    else:
        falls, rises = slope + 2 * se < 0, slope - 2 * se > 0
        per = f"×{10 ** slope:.3g} per extra branch (log10 slope {slope:+.3f} ± {se:.3f})"
        trend = (f"the gradient along a path falls with its length, {per}" if falls else
                 f"the gradient along a path rises with its length, {per}" if rises else
                 f"the gradient along a path shows no clear trend with its length ({per[1:]})")
    weighted = (f"lengths ≤ {cut} carry 90% of the gradient while being {path_share:.1%} of the paths "
                f"(gradient-weighted mean length {mean_len:.2f} against {half:g})")
    if falls and mean_len < 0.8 * half:
        claim = "so the gradient comes mainly from paths shorter than the typical one, as Veit et al. found"
    elif falls:
        claim = "but the fall is too slow for short paths to dominate: the gradient comes from paths of about the typical length"
    else:
        claim = "so short paths do not dominate here: this network does not show Veit et al.'s effect"
    return f"{head}; {trend}; {weighted}; {claim}"
