"""Per-layer statistics, computed on the device in a few batched calls and copied to the host once.

Rows are the compiled module's layer units (a node, or one repetition of a stage), in network order:
gradient norm and weight norm of the unit's parameters, the update-to-weight ratio of this step, and the
norm of the gradient that reaches the unit's output (a tensor hook on the output) — the quantity that
vanishes or explodes with depth in a plain network.

Cost: one ``torch._foreach_norm`` over the gradients, summed to units on the device; the weights copied end
to end into one flat vector (one kernel; a unit's parameters are one stretch of it), whose stretches give
every unit's norm in one more batched call; one asynchronous copy goes to the host, which the engine reads
at its next sync (the log interval), so sampling adds no sync.
Output hooks are registered for sampled steps; ``pause`` switches them off by a flag while keeping them
(the sampler does so when every step is sampled), ``disarm`` removes them, so the steps between samples run
the module without any hook (an idle hook still costs each module call its slow path).
The update norm needs the weights from before the step: one persistent flat copy (the model's size
again), refreshed in place on sampled steps only.
"""
from __future__ import annotations

from functools import partial

import numpy as np
import torch
from torch import nn

from explorer.compile import LayerUnit


class LayerStats:
    def __init__(self, model: nn.Module, units: list[LayerUnit], device: torch.device):
        self.units = units
        self.keys = [u.key for u in units]
        self.node_ids = [u.node_id for u in units]
        by_name = dict(model.named_parameters())
        # Frozen ones too: they may be released (--unfreeze-at). In unit order, so that each unit's parameters
        # are one stretch of a flat copy (``_weights``) and its norm is the norm of that stretch.
        self._unit_params = [[by_name[name] for name in u.param_names] for u in units]
        self.params: list[torch.Tensor] = [p for ps in self._unit_params for p in ps]
        self._sizes = [sum(p.numel() for p in ps) for ps in self._unit_params]
        self._n = len(units)
        self._device = device
        self._fast_dot = device.type == "cpu"   # see _on_grad
        self._nan = torch.full((), float("nan"), device=device)
        self._zero = torch.zeros((), device=device)
        self._handles: list = []
        self._armed = False
        self._out: list[torch.Tensor | None] = [None] * self._n
        self._norms: list[torch.Tensor] = []
        self._before: torch.Tensor | None = None   # the weights before the step, end to end
        self._weight_views: list[torch.Tensor] = []  # each parameter as a flat view, made once (see _weights)
        self._copies = any(not p.is_contiguous() or p.dtype != torch.float32 for p in self.params)
        self._seg = torch.tensor([i for i, ps in enumerate(self._unit_params) for _ in ps], dtype=torch.long,
                                 device=device)
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
        if self._armed and isinstance(output, torch.Tensor) and output.requires_grad:
            output.register_hook(partial(self._on_grad, i))

    def _on_grad(self, i: int, grad: torch.Tensor) -> None:
        # Stays on the device: no sync inside backward. On a CPU a float32 dot product is about twice as fast
        # as vector_norm on a large gradient (it runs in BLAS); elsewhere vector_norm is as fast, and it
        # accumulates half-precision gradients in float32.
        g = grad.detach()
        if self._fast_dot and g.dtype == torch.float32 and g.is_contiguous():
            flat = g.view(-1)
            self._out[i] = torch.dot(flat, flat).sqrt()
        else:
            self._out[i] = torch.linalg.vector_norm(g, dtype=torch.float32)

    # -- parameters, around optimizer.step() ---------------------------------------------------------
    @torch.no_grad()
    def before_step(self) -> None:
        """Call after backward (and unscaling/clipping), before the optimiser step."""
        if not self.params:
            self._norms = [torch.zeros(0, device=self._device)] * 2
            return
        # Gradients are new tensors each step: one batched norm over them (a frozen one has none: zero), summed
        # to units on the device. Weights: one flat copy, whose units' stretches give their norms.
        grads = [p.grad if p.grad is not None else self._zero for p in self.params]
        per_param = torch.stack(torch._foreach_norm(grads)).float()
        g = torch.zeros(self._n, device=self._device).index_add_(0, self._seg, per_param.square()).sqrt()
        if self._before is None:   # one persistent flat copy of the weights, allocated on the first sample
            self._before = torch.cat(self._weights())
        else:
            torch.cat(self._weights(), out=self._before)
        self._norms = [g, self._unit_norms(self._before)]

    @torch.no_grad()
    def after_step(self, out_grad_scale: torch.Tensor | None = None) -> torch.Tensor:
        """Call after the optimiser step. Returns the statistics as one 4×units CPU tensor, copied without
        waiting on a GPU: read it (``arrays``) only after the next sync, e.g. the log interval's."""
        if self.params:
            torch.sub(torch.cat(self._weights()), self._before, out=self._before)   # in place: now the update Δw
            update = self._unit_norms(self._before)
        else:
            update = torch.zeros(0, device=self._device)
        g, w = self._norms
        self._norms = []
        if self._n:
            out = torch.stack([o if o is not None else self._nan for o in self._out])
        else:
            out = torch.zeros(0, device=self._device)
        if out_grad_scale is not None:
            out = out / out_grad_scale  # fp16 loss scaling inflated the hooked gradients
        stacked = torch.stack([g, w, update / w.clamp_min(1e-12), out.float()])
        self._out = [None] * self._n
        # From a GPU this lands in pinned memory asynchronously; on the CPU it is the tensor itself.
        return stacked.to("cpu", non_blocking=True)

    def _weights(self) -> list[torch.Tensor]:
        """The parameters as flat float32 views, made on the first sample: every Python call per parameter
        counts here, since after a step's kernels each costs several times what it costs alone. A run never
        replaces a parameter's storage once the model is on its device (loading a checkpoint copies into
        it), so the views stay the weights. Parameters that are not one stretch each (channels-last) or not
        float32 have no such view: their flat copies are made again on each sample."""
        if not self._weight_views or self._copies:
            self._weight_views = [p.detach().reshape(-1).float() for p in self.params]
        return self._weight_views

    def _unit_norms(self, flat: torch.Tensor) -> torch.Tensor:
        """‖unit‖ for each unit of a flat vector, in one batched call: a unit's parameters are one stretch."""
        return torch.stack(torch._foreach_norm(flat.split(self._sizes)))

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

    @staticmethod
    def arrays(host: torch.Tensor) -> dict[str, np.ndarray]:
        """The four rows of ``after_step``'s tensor as float64 arrays (the device work must be done)."""
        a = host.numpy().astype(np.float64)
        return {"grad_norm": a[0], "weight_norm": a[1], "update_ratio": a[2], "output_grad_norm": a[3]}
