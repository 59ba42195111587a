"""``--compile``: ``torch.compile`` of the network for the steps that take no statistics.

The compiled module wraps the eager one and shares its parameters and buffers, so the optimiser, the
checkpoints and the statistics see one set of weights. Steps that sample per-layer statistics run the
eager module (its output hooks are plain Python that compiled code would not call), as do batches of
another shape than the one compiled for (the short last batch of an epoch) and evaluation, so the
compiled graph is built once and never recompiled behind the user's back.

Compiling takes a long time (a minute or two for a ResNet on a CPU), so it is its own phase: the loop
asks ``due`` before a step, shows "compiling, ~N s" and runs ``warm_up`` with the training clock
stopped. The warm-up is a practice forward and backward on the batch whose effects are undone (gradients
dropped, BatchNorm buffers and random streams restored), so the step that follows is an ordinary one.
When compiling fails (no C++ compiler, an operation the compiler cannot take) the run keeps the eager
module and says so once.
"""
from __future__ import annotations

import time
from collections.abc import Callable

import torch
from torch import nn

from explorer.train.failures import is_oom

# Rough cost of compiling on a CPU, for the "~N s" the user is shown before it starts: a fixed part
# (loading the compiler) and a part per layer with weights (each becomes generated kernels).
BASE_S = 15.0
PER_LAYER_S = 2.0


class CompiledNetwork:
    """The eager module, and its compiled twin once ``warm_up`` has built it."""

    def __init__(self, model: nn.Module, enabled: bool) -> None:
        self.model = model
        self.state = "pending" if enabled else "off"   # pending -> ready | failed
        self.warmup_s: float | None = None
        self.warning: str | None = None
        self._compiled: nn.Module | None = None
        self._shape: tuple[int, ...] | None = None

    @property
    def pending(self) -> bool:
        return self.state == "pending"

    def estimate_s(self) -> float:
        layers = sum(1 for m in self.model.modules() if isinstance(m, (nn.Conv2d, nn.Linear)))
        return BASE_S + PER_LAYER_S * layers

    def module_for(self, x: torch.Tensor, sample: bool) -> nn.Module:
        """The module to run this batch: the compiled one for batches of the compiled shape without
        statistics, else the eager one."""
        if sample or self._compiled is None or tuple(x.shape) != self._shape:
            return self.model
        return self._compiled

    def warm_up(self, practice: Callable[[nn.Module], None], x: torch.Tensor) -> None:
        """Compile and run ``practice(compiled module)`` once on a batch like ``x``; on failure keep the eager
        module and set ``warning``. Either way ``pending`` is False afterwards."""
        t0 = time.perf_counter()
        try:
            compiled = torch.compile(self.model, dynamic=False)
            practice(compiled)
        except Exception as e:  # compiler failures share no type (InductorError, BackendCompilerFailed, ...)
            if is_oom(e):
                raise
            self.state = "failed"
            first = (str(e).strip().splitlines() or [""])[0][:200]
            self.warning = (f"--compile failed ({type(e).__name__}: {first}); training continues without "
                            "compiling (eager mode)")
            return
        finally:
            self.warmup_s = time.perf_counter() - t0
        self._compiled, self._shape, self.state = compiled, tuple(x.shape), "ready"

