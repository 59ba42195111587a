"""Path-length ensemble view (Veit et al. 2016, Fig. 6): a net of n residual blocks is 2ⁿ paths.

A path takes the residual branch in k of the blocks and the shortcut in the others, so C(n, k) paths have
length k (a binomial distribution, centred on n/2). How much gradient a path of length k carries is
*measured*: the forward pass is the ordinary one, but in the backward pass each sample goes only through
the branches of k randomly chosen blocks and through the shortcuts of all the others, and the norm of the
gradient reaching that sample's input is recorded. Multiplied by the number of paths of that length, it
shows most of the gradient coming from paths far shorter than the network.

Every sample in a batch gets its own choice of blocks (a 0/1 mask per block), so one forward/backward
measures many paths; the network runs in eval mode, so the samples do not mix through BatchNorm.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

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
    grad_per_path: np.ndarray        # mean ||dL/dx|| of one path of length k (nan where none was sampled)
    samples: int                     # paths sampled per length

    @property
    def grad_total(self) -> np.ndarray:
        """Gradient carried by all paths of each length together: count × per-path gradient."""
        return np.array([float(c) for c in self.counts]) * np.nan_to_num(self.grad_per_path)

    def to_json(self) -> dict:
        total = self.grad_total
        share = total / total.sum() if total.sum() > 0 else total
        n_paths = float(2 ** self.blocks)
        return {"blocks": self.blocks, "residual_blocks": self.keys, "not_residual": self.not_residual,
                "samples_per_length": self.samples,
                "lengths": [{"length": k, "paths": c, "share_of_paths": c / n_paths,
                             "grad_per_path": None if math.isnan(g) else float(g), "grad_total": float(t),
                             "share_of_gradient": float(s)}
                            for k, (c, g, t, s) in enumerate(zip(self.counts, self.grad_per_path, total, share))]}


def path_gradients(module: nn.Module, graph: Graph, x: torch.Tensor, y: torch.Tensor, samples: int = 16,
                   batch_size: int = 256, seed: int = 0, control: Control | None = None) -> PathProfile:
    """Sample ``samples`` paths of each length 0…n on inputs drawn from (x, y) and measure their gradient."""
    control = control or quiet()
    merges, others = residual_merges(module, graph)
    n = len(merges)
    g = torch.Generator().manual_seed(seed)
    lengths = torch.arange(n + 1).repeat_interleave(samples)                 # k for every sampled path
    # k random blocks per row: the k smallest of n random keys
    ranks = torch.rand(len(lengths), n, generator=g).argsort(1).argsort(1)
    masks = (ranks < lengths[:, None]).float()
    pick = torch.randint(len(x), (len(lengths),), generator=g)
    sums = torch.zeros(n + 1, device=x.device)
    state = {"mask": None}
    handles = [m.module.register_forward_hook(_router(state, i, m.skip_input)) for i, m in enumerate(merges)]
    was = module.training
    module.eval()
    try:
        for start in range(0, len(lengths), batch_size):
            control.step("paths sampled", start, len(lengths))
            rows = slice(start, start + batch_size)
            state["mask"] = masks[rows].to(x.device)
            xb = x[pick[rows].to(x.device)].clone().requires_grad_(True)
            loss = nn.functional.cross_entropy(module(xb), y[pick[rows].to(x.device)], reduction="sum")
            (grad,) = torch.autograd.grad(loss, xb)
            sums.index_add_(0, lengths[rows].to(x.device), grad.flatten(1).norm(dim=1))
        control.step("paths sampled", len(lengths), len(lengths))
    finally:
        for h in handles:
            h.remove()
        module.train(was)
    per_path = (sums / samples).cpu().numpy().astype(np.float64)  # the one copy
    return PathProfile(n, [m.key for m in merges], others, path_counts(n), per_path, samples)


def _router(state: dict, i: int, skip: int):
    """Forward hook on block i's merge: the same value, but each sample's gradient goes back through the
    branch (mask 1) or the shortcut (mask 0) only."""
    def hook(_m, inputs, out):
        m = state["mask"][:, i].view(-1, *([1] * (out.dim() - 1)))
        branch, short = inputs[1 - skip], inputs[skip]
        return out.detach() + m * (branch - branch.detach()) + (1 - m) * (short - short.detach())
    return hook


def paths_verdict(p: PathProfile, label: str = "the network") -> str:
    if p.blocks == 0:
        return f"{label} has no residual block: a single path runs through all {len(p.not_residual)} units"
    total = p.grad_total
    if total.sum() <= 0:
        return f"{label}: no gradient reached the input"
    share = np.cumsum(total) / total.sum()
    cut = int(np.searchsorted(share, 0.9))
    mean_len = float((np.arange(p.blocks + 1) * total).sum() / total.sum())
    path_share = sum(p.counts[:cut + 1]) / 2 ** p.blocks
    return (f"{label}: {p.blocks} residual blocks make 2^{p.blocks} paths, typically of length {p.blocks / 2:g}; "
            f"paths of length ≤ {cut} carry 90% of the gradient while being {path_share:.1%} of the paths "
            f"(gradient-weighted mean length {mean_len:.2f}; one path of length {p.blocks} carries "
            f"{_ratio(p.grad_per_path[-1], p.grad_per_path[0])} the gradient of the all-shortcut path)")


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.3g}×" if b > 0 and math.isfinite(a) and math.isfinite(b) else "?×"
