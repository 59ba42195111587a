"""Per-layer statistics on every n-th step: ``LayerStats`` armed around that step, and its host copy kept
until the next sync has made it complete, when it becomes a LayerStatsReport."""
from __future__ import annotations

import numpy as np
import torch

from explorer.train.reports import LayerStatsReport
from explorer.train.stats import LayerStats


class StatsSampler:
    def __init__(self, stats: LayerStats | None, every: int) -> None:
        self.stats = stats
        self.every = every
        self._pending: list[tuple[int, int, torch.Tensor, np.ndarray]] = []  # (step, epoch, host copy, frozen)

    def due(self, step: int) -> bool:
        return self.stats is not None and step % self.every == 0

    # -- around the sampled step (see LayerStats) ---------------------------------------------------
    def arm(self) -> None:
        self.stats.arm()

    def disarm(self) -> None:
        # Sampling every step: the hooks stay, switched off until the next step's ``arm``. Otherwise they go:
        # measured on ResNet-20 (1 thread), idle hooks on the steps between samples cost ~2-6 % of each step,
        # registering them again for a sample ~0.1 ms.
        if self.every == 1:
            self.stats.pause()
        else:
            self.stats.disarm()

    def frozen_changed(self) -> None:
        """Parts were released (``--unfreeze-at``): the next samples mark frozen units afresh."""
        if self.stats is not None:
            self.stats.frozen_changed()

    def before_step(self) -> None:
        self.stats.before_step()

    def after_step(self, step: int, epoch: int, out_grad_scale: torch.Tensor | None = None) -> None:
        """Keep the sample of the step just taken, as ``step`` steps done in 1-based ``epoch``."""
        self._pending.append((step, epoch, self.stats.after_step(out_grad_scale), self.stats.frozen()))

    def reports(self) -> list[LayerStatsReport]:
        """The kept samples as reports; call only after a sync (their host copies are complete then)."""
        pending, self._pending = self._pending, []
        return [LayerStatsReport(step, epoch, self.stats.keys, self.stats.node_ids, **self.stats.arrays(host),
                                 frozen=frozen)
                for step, epoch, host, frozen in pending]

    def close(self) -> None:
        if self.stats is not None:
            self.stats.disarm()
