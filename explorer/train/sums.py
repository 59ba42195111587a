"""The running metric sums of a run, kept on the device and read by the host in one sync.

Adding a batch keeps its detached loss, output and labels; they are folded into the sums a few batches
at a time (at a read, or every ``FOLD_EVERY`` batches), in one batched set of device operations: after a
training step's many kernels, five tiny ones per batch cost a CPU run about as much as the learning-rate
schedule and the batch indexing together. ``read()`` is the one place the host waits for the device (the
engine calls it once per log interval, nanoGPT's habit of ``.item()`` only at the log point). The
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


FOLD_EVERY = 16   # batches kept before they are folded in: a bound on the outputs held (batch × classes each)


class MetricSums:
    def __init__(self, device: torch.device) -> None:
        dtype = torch.float32 if device.type == "mps" else torch.float64  # MPS has no float64
        self.loss = torch.zeros((), dtype=dtype, device=device)
        self.correct = torch.zeros((), dtype=torch.int64, device=device)
        self.first = torch.full((), float("nan"), dtype=dtype, device=device)
        self.seen = 0                       # samples added: a host count, known without a sync
        self._first_missing = True
        self._kept: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor, int]] = []  # (loss, out, y, weight)

    def add(self, loss: torch.Tensor, out: torch.Tensor, y: torch.Tensor, weight: int | None = None) -> None:
        """Add one batch: ``loss`` is its mean (weighted by the batch size) or, with ``weight=1``, its sum."""
        n = y.shape[0]
        self._kept.append((loss.detach(), out.detach(), y, n if weight is None else weight))
        self.seen += n
        if len(self._kept) >= FOLD_EVERY:
            self._fold()

    def _fold(self) -> None:
        """The kept batches into the sums: device work only (weights are kernel arguments, not copies)."""
        kept, self._kept = self._kept, []
        if not kept:
            return
        losses = torch.stack([k[0] for k in kept]).to(self.loss.dtype)
        common = kept[0][3]
        weights = torch.full((len(kept),), common, dtype=self.loss.dtype, device=self.loss.device)
        for i, k in enumerate(kept):
            if k[3] != common:   # the short last batch of an epoch
                weights[i] = k[3]
        self.loss.add_(torch.dot(losses, weights))
        outs = torch.cat([k[1] for k in kept]) if len(kept) > 1 else kept[0][1]
        ys = torch.cat([k[2] for k in kept]) if len(kept) > 1 else kept[0][2]
        self.correct.add_((outs.argmax(1) == ys).sum())
        if self._first_missing:
            self.first.copy_(losses[0])
            self._first_missing = False

    def read(self) -> Totals:
        # Sync point: the host waits for the queued device work here, once per call.
        self._fold()
        loss, correct, first = torch.stack((self.loss, self.correct.to(self.loss.dtype), self.first)).tolist()
        return Totals(loss, correct, first)

    def reset(self) -> None:
        """A new epoch: the sums start again (the session's first loss stays)."""
        self._fold()   # the first loss, if it is still kept
        self.loss.zero_()
        self.correct.zero_()
        self.seen = 0

    def restore(self, loss: float, correct: float, seen: float) -> None:
        """Continue the epoch sums a checkpoint saved mid-epoch."""
        self._kept = []
        self.loss.fill_(loss)
        self.correct.fill_(int(correct))
        self.seen = int(seen)

    def snapshot(self) -> list[float]:
        """``[Σ loss·n, correct, n]`` for a checkpoint (one sync)."""
        t = self.read()
        return [t.loss, t.correct, float(self.seen)]
