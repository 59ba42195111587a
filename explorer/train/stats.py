"""Per-layer statistics, computed on the device in a few batched calls and copied to the host once.

Rows are the compiled module's layer units (a node, or one repetition of a stage), in network order:
gradient norm and weight norm of the unit's parameters, the update-to-weight ratio of this step, and the
norm of the gradient that reaches the unit's output (retained on the output) — the quantity that
vanishes or explodes with depth in a plain network.

Cost, per sampled step, a handful of batched calls whatever the depth: one ``torch._foreach_norm`` over the
gradients the units' outputs received and every parameter's gradient; the unit parameters live end to end
in one buffer (``FlatWeights``), so the weights before the step are one copy, the update one subtraction,
and their norms the norms of fixed-size chunks, one call each; one concatenation gathers the numbers for
the host, asynchronously; the engine reads it at its next sync (the log interval), so sampling adds no
sync. Sums over a unit's parameters or chunks, and ratios, are left to the host (``arrays``).
Output hooks are registered for sampled steps; ``pause`` switches them off by a flag while keeping them
(the sampler does so when every step is sampled), ``disarm`` removes them, so the steps between samples run
the module without any hook (an idle hook still costs each module call its slow path).
Memory: a copy of the weights, made on the first sample; during a sampled step, the gradient of each unit's
output, kept until ``before_step`` has its norm.
"""
from __future__ import annotations

from functools import partial

import numpy as np
import torch
from torch import nn

from explorer.compile import LayerUnit
from explorer.train.flat_weights import FlatWeights


class LayerStats:
    def __init__(self, model: nn.Module, units: list[LayerUnit], device: torch.device):
        self.units = units
        self.keys = [u.key for u in units]
        self.node_ids = [u.node_id for u in units]
        by_name = dict(model.named_parameters())
        # Frozen ones too: they may be released (--unfreeze-at). In unit order, so that each unit's parameters
        # are one stretch of the flat buffer and its norm is the norm of that stretch.
        self._unit_params = [[by_name[name] for name in u.param_names] for u in units]
        self.params: list[torch.Tensor] = [p for ps in self._unit_params for p in ps]
        self._weights = FlatWeights(self._unit_params, device)
        self._n = len(units)
        self._nan = torch.full((), float("nan"), device=device)
        self._zero = torch.zeros((), device=device)
        self._one = torch.ones((), device=device)
        self._handles: list = []
        self._armed = False
        self._out: list[torch.Tensor | None] = [None] * self._n   # armed: each unit's output, its gradient retained
        self._out_norms: list[torch.Tensor] = []
        self._first_param = np.cumsum([0] + [len(ps) for ps in self._unit_params[:-1]])  # each unit's, in params
        self._before: torch.Tensor | None = None   # the flat weights before the step (then the update)
        self._grad_norms: list[torch.Tensor] = []  # this step's, per parameter
        self._weight_norms: torch.Tensor | None = None  # chunk norms of the weights before the step
        self._frozen: np.ndarray | None = None

    # -- the gradient reaching each unit's output ----------------------------------------------------
    def arm(self) -> None:
        """Measure every unit's output gradient in the next forward/backward (hooks registered on first use)."""
        self._out = [None] * self._n
        if not self._handles:
            self._handles = [u.module.register_forward_hook(partial(self._on_forward, i))
                             for i, u in enumerate(self.units)]
        self._armed = True

    def pause(self) -> None:
        """Stop measuring; the hooks stay, doing nothing, until the next ``arm``."""
        self._armed = False

    def disarm(self) -> None:
        """Stop measuring and remove the hooks (the module is left as it was found)."""
        self._armed = False
        for h in self._handles:
            h.remove()
        self._handles = []

    def _on_forward(self, i: int, module, inputs, output) -> None:
        # retain_grad rather than a Python tensor hook: its hook is C++, and the norms are then part of one
        # batched call (``before_step``); measured on ResNet-20, a Python hook that does nothing costs more.
        if self._armed and isinstance(output, torch.Tensor) and output.requires_grad:
            output.retain_grad()
            self._out[i] = output

    # -- parameters, around optimizer.step() ---------------------------------------------------------
    @torch.no_grad()
    def before_step(self) -> None:
        """Call after backward (and unscaling/clipping), before the optimiser step."""
        # One batched norm over the gradients the units' outputs received (their tensors are let go) and
        # every parameter's gradient (a frozen one has none: zero); the units' sums are the host's.
        held = [(i, g) for i, g in enumerate([o.grad if o is not None else None for o in self._out]) if g is not None]
        self._out = [None] * self._n
        grads = [g if g is not None else self._zero for g in [p.grad for p in self.params]]
        norms = list(torch._foreach_norm([g for _, g in held] + grads, 2, dtype=torch.float32)) if held or grads else []
        out = [self._nan] * self._n
        for (i, _), n in zip(held, norms):
            out[i] = n
        self._out_norms, self._grad_norms = out, norms[len(held):]
        if not self.params:
            return
        flat = self._weights.current()
        if self._before is None:
            self._before = torch.empty_like(flat)
        self._before.copy_(flat)
        self._weight_norms = self._chunk_norms(self._before)

    @torch.no_grad()
    def after_step(self, out_grad_scale: torch.Tensor | None = None) -> torch.Tensor:
        """Call after the optimiser step. Returns the statistics as one CPU tensor (read it with ``arrays``),
        copied without waiting on a GPU: read it only after the next sync, e.g. the log interval's."""
        # Every parameter's gradient norm, every unit's output-gradient norm, and the loss scale last (the host
        # divides the output norms by it: ``arrays``).
        tail = torch.stack([*self._grad_norms, *(self._out_norms or [self._nan] * self._n),
                            out_grad_scale.float() if out_grad_scale is not None else self._one])
        parts = [tail]
        if self.params:
            torch.sub(self._weights.current(), self._before, out=self._before)  # in place: now the update Δw
            parts = [self._weight_norms, self._chunk_norms(self._before), tail]
        self._out_norms, self._grad_norms, self._weight_norms = [], [], None
        # From a GPU this lands in pinned memory asynchronously; on the CPU it is the tensor itself.
        return torch.cat(parts).to("cpu", non_blocking=True)

    def _chunk_norms(self, flat: torch.Tensor) -> torch.Tensor:
        """The norm of each chunk of a flat buffer (one call): a unit's norm is the root of its chunks' squares."""
        return torch.linalg.vector_norm(flat.view(-1, self._weights.chunk), dim=-1)

    def arrays(self, host: torch.Tensor) -> dict[str, np.ndarray]:
        """``after_step``'s tensor as float64 arrays (the device work must be done). It holds the chunk norms
        of the weights before the step and of the update, each parameter's gradient norm, each unit's
        output-gradient norm, and the loss scale last."""
        a = host.numpy().astype(np.float64)
        n, k, p = self._n, (self._weights.chunks if self.params else 0), len(self.params)
        if p:
            chunks = self._weights.group_chunks
            w, u = (np.sqrt(np.add.reduceat(a[i * k:(i + 1) * k] ** 2, chunks)) for i in range(2))
            g = np.sqrt(np.add.reduceat(a[2 * k:2 * k + p] ** 2, self._first_param))
        else:
            g = w = u = np.zeros(n)
        return {"grad_norm": g, "weight_norm": w, "update_ratio": u / np.maximum(w, 1e-12),
                "output_grad_norm": a[2 * k + p:2 * k + p + n] / a[-1]}

    def frozen(self) -> np.ndarray:
        """Which units are frozen (no parameter takes a gradient): their zero gradient is by choice, not a
        vanishing one. Host-side flags, worked out once and again after ``frozen_changed``."""
        if self._frozen is None:
            self._frozen = np.array([bool(ps) and not any(p.requires_grad for p in ps) for ps in self._unit_params],
                                    dtype=bool)
        return self._frozen

    def frozen_changed(self) -> None:
        """Parameters were frozen or released (``--unfreeze-at``): ``frozen`` looks again."""
        self._frozen = None
