"""The running metric sums of a run, kept on the device and read by the host in one sync.

Adding a batch queues device work only; ``read()`` is the one place the host waits for the device
(the engine calls it once per log interval, nanoGPT's habit of ``.item()`` only at the log point). The
first loss of the session rides along in the same read: it is the loss before any update of this
session, the start that divergence is measured against.
"""
from __future__ import annotations

from typing import NamedTuple

import torch


class Totals(NamedTuple):
    loss: float      # Σ loss·n over the samples so far
    correct: float   # correctly classified samples so far
    first: float     # the session's first batch loss (NaN before the first batch)


class MetricSums:
    def __init__(self, device: torch.device) -> None:
        dtype = torch.float32 if device.type == "mps" else torch.float64  # MPS has no float64
        self.loss = torch.zeros((), dtype=dtype, device=device)
        self.correct = torch.zeros((), dtype=torch.int64, device=device)
        self.first = torch.full((), float("nan"), dtype=dtype, device=device)
        self.seen = 0                       # samples added: a host count, known without a sync
        self._first_missing = True

    def add(self, loss: torch.Tensor, out: torch.Tensor, y: torch.Tensor, weight: int | None = None) -> None:
        """Add one batch: ``loss`` is its mean (weighted by the batch size) or, with ``weight=1``, its sum."""
        n = y.shape[0]
        loss = loss.detach()
        self.loss.add_(loss, alpha=n if weight is None else weight)
        self.correct.add_((out.detach().argmax(1) == y).sum())
        if self._first_missing:
            self.first.copy_(loss)
            self._first_missing = False
        self.seen += n

    def read(self) -> Totals:
        # Sync point: the host waits for the queued device work here, once per call.
        loss, correct, first = torch.stack((self.loss, self.correct.to(self.loss.dtype), self.first)).tolist()
        return Totals(loss, correct, first)

    def reset(self) -> None:
        """A new epoch: the sums start again (the session's first loss stays)."""
        self.loss.zero_()
        self.correct.zero_()
        self.seen = 0

    def restore(self, loss: float, correct: float, seen: float) -> None:
        """Continue the epoch sums a checkpoint saved mid-epoch."""
        self.loss.fill_(loss)
        self.correct.fill_(int(correct))
        self.seen = int(seen)

    def snapshot(self) -> list[float]:
        """``[Σ loss·n, correct, n]`` for a checkpoint (one sync)."""
        t = self.read()
        return [t.loss, t.correct, float(self.seen)]
