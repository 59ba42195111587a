"""Per-layer statistics, computed on the device in a few batched calls and copied to the host once.

Rows are the compiled module's layer units (a node, or one repetition of a stage), in network order:
gradient norm and weight norm of the unit's parameters, the update-to-weight ratio of this step, and the
norm of the gradient that reaches the unit's output (a tensor hook on the output) — the quantity that
vanishes or explodes with depth in a plain network.

Cost: ``torch._foreach_norm`` over all parameters at once, a segment sum to units, one asynchronous copy
to the host that the engine reads at its next sync (the log interval), so sampling adds no sync.
Output hooks are registered for sampled steps; ``pause`` switches them off by a flag while keeping them
(the sampler does so when every step is sampled), ``disarm`` removes them, so the steps between samples run
the module without any hook (an idle hook still costs each module call its slow path).
The update norm needs the weights from before the step: one persistent copy (the model's size again),
refreshed in place on sampled steps only.
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
        params, seg = [], []
        for i, u in enumerate(units):
            for name in u.param_names:
                params.append(by_name[name])  # frozen ones too: they may be released (--unfreeze-at)
                seg.append(i)
        self.params: list[torch.Tensor] = params
        self._unit_params = [[by_name[name] for name in u.param_names] for u in units]
        self._seg = torch.tensor(seg, dtype=torch.long, device=device)
        self._n = len(units)
        self._device = device
        self._nan = torch.full((), float("nan"), device=device)
        self._zero = torch.zeros((), device=device)
        self._handles: list = []
        self._armed = False
        self._out: list[torch.Tensor | None] = [None] * self._n
        self._norms: list[torch.Tensor] = []
        self._before: list[torch.Tensor] | None = None

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
        # Stays on the device: no sync inside backward.
        self._out[i] = torch.linalg.vector_norm(grad.detach(), dtype=torch.float32)

    # -- parameters, around optimizer.step() ---------------------------------------------------------
    @torch.no_grad()
    def before_step(self) -> None:
        """Call after backward (and unscaling/clipping), before the optimiser step."""
        grads = [p.grad if p.grad is not None else self._zero for p in self.params]
        both = _norms(grads + self.params)  # one batched call for the two lists
        self._norms = [both[:len(grads)], both[len(grads):]]
        if self._before is None:  # one persistent copy of the weights, allocated on the first sample
            self._before = [p.detach().clone() for p in self.params]
        else:
            torch._foreach_copy_(self._before, self.params)

    @torch.no_grad()
    def after_step(self, out_grad_scale: torch.Tensor | None = None) -> torch.Tensor:
        """Call after the optimiser step. Returns the statistics as one 4×units CPU tensor, copied without
        waiting on a GPU: read it (``arrays``) only after the next sync, e.g. the log interval's."""
        torch._foreach_sub_(self._before, self.params)  # in place: the buffer now holds -Δw
        self._norms.append(_norms(self._before))
        g, w, u = self._per_unit(torch.stack(self._norms))
        self._norms = []
        if self._n:
            out = torch.stack([o if o is not None else self._nan for o in self._out])
        else:
            out = torch.zeros(0, device=self._device)
        if out_grad_scale is not None:
            out = out / out_grad_scale  # fp16 loss scaling inflated the hooked gradients
        stacked = torch.stack([g, w, u / w.clamp_min(1e-12), out.float()])
        self._out = [None] * self._n
        # From a GPU this lands in pinned memory asynchronously; on the CPU it is the tensor itself.
        return stacked.to("cpu", non_blocking=True)

    def frozen(self) -> np.ndarray:
        """Which units are frozen now (no parameter takes a gradient): their zero gradient is by choice, not
        a vanishing one. Host-side flags, no device work."""
        return np.array([bool(ps) and not any(p.requires_grad for p in ps) for ps in self._unit_params], dtype=bool)

    @staticmethod
    def arrays(host: torch.Tensor) -> dict[str, np.ndarray]:
        """The four rows of ``after_step``'s tensor as float64 arrays (the device work must be done)."""
        a = host.numpy().astype(np.float64)
        return {"grad_norm": a[0], "weight_norm": a[1], "update_ratio": a[2], "output_grad_norm": a[3]}

    def _per_unit(self, norms: torch.Tensor) -> torch.Tensor:
        """rows × params norms -> rows × units: ‖unit‖ = sqrt(Σ ‖param‖²) over the unit's parameters."""
        sq = torch.zeros(norms.shape[0], self._n, dtype=torch.float32, device=self._device)
        if norms.shape[1]:
            sq.index_add_(1, self._seg, norms.float().square())
        return sq.sqrt()


def _norms(tensors: list[torch.Tensor]) -> torch.Tensor:
    """L2 norm of each tensor, one batched call, as one float32 vector."""
    if not tensors:
        return torch.zeros(0)
    return torch.stack(torch._foreach_norm(tensors)).float()
