"""When a run has gone wrong for good: a loss that is not finite, or one that stays far above where it
started. A learning rate far too high can blow the weights up while the loss stays finite (2.9e24 at
``--lr 999``); such a run must stop like a NaN run instead of training on and saving the wreck.

The start is the session's first batch loss, or chance level (ln C for C classes) where that is higher:
a classifier's loss starts near chance, and the first batch of a resumed run may already sit far below
it. "Far above" is ``FACTOR`` times the start, for ``PATIENCE`` log intervals in a row, so a passing
spike does not stop a run. The check reads only the loss the log interval reads anyway: no extra sync.
"""
from __future__ import annotations

import math

FACTOR = 100.0
PATIENCE = 3


class DivergenceGuard:
    def __init__(self, num_classes: int, factor: float = FACTOR, patience: int = PATIENCE) -> None:
        self.chance = math.log(max(2, num_classes))
        self.factor = factor
        self.patience = patience
        self.start: float | None = None   # set at the first check of the session
        self.streak = 0                   # log intervals in a row above the limit
        self.loss = math.nan              # the last interval's loss

    @property
    def reference(self) -> float:
        """The start level the limit is measured from."""
        return max(self.chance, self.start) if self.start is not None else self.chance

    @property
    def limit(self) -> float:
        return self.factor * self.reference

    def check(self, loss_total: float, interval_loss: float, first_loss: float) -> str | None:
        """``"nan"``, ``"diverged"`` or None, given the epoch's loss sum and the last interval's mean loss."""
        if not (math.isfinite(loss_total) and math.isfinite(interval_loss)):
            return "nan"
        if self.start is None and math.isfinite(first_loss):
            self.start = first_loss
        self.loss = interval_loss
        self.streak = self.streak + 1 if interval_loss > self.limit else 0
        return "diverged" if self.streak >= self.patience else None

    @property
    def suspect(self) -> bool:
        """The latest interval was far above the start: these weights are not worth a checkpoint."""
        return self.streak > 0
