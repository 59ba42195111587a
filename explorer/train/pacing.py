"""How fast a run goes and how long it has left.

Means over a log interval (loss, accuracy, samples/s) come from the difference between two reads of
the epoch sums; the ETA is the measured time per step for the steps left plus the measured time per
validation for the validations left. All times are the stopwatch's: training time only.
"""
from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NamedTuple

from explorer.train.stopwatch import Stopwatch


class Interval(NamedTuple):
    loss: float
    acc: float
    samples_per_s: float
    elapsed: float                      # training seconds at the end of the interval


class _Mark(NamedTuple):
    step: int
    t: float
    loss: float
    correct: float
    seen: int


class Pacing:
    def __init__(self, clock: Stopwatch) -> None:
        self.clock = clock
        self.start_step = 0             # the session's first step: the ETA counts only steps timed here
        self.trained = 0                # samples trained in this session
        self.val_seconds = 0.0          # validation time in this session, and how many validations
        self.val_count = 0
        self.mark = _Mark(0, 0.0, 0.0, 0.0, 0)  # the last log point
        self.epoch_mark = (0.0, 0)             # (training seconds, samples) where this epoch began

    def begin(self, step: int, loss: float, correct: float, seen: int) -> None:
        """The session starts at ``step`` with these epoch sums (non-zero when resumed mid-epoch)."""
        self.start_step = step
        self.mark = _Mark(step, self.clock.elapsed, loss, correct, seen)

    def count(self, samples: int) -> None:
        self.trained += samples

    def interval(self, step: int, loss: float, correct: float, seen: int) -> Interval:
        """Means since the last log point, given the epoch sums now; this becomes the new log point."""
        t = self.clock.elapsed
        prev = self.mark
        n = seen - prev.seen
        self.mark = _Mark(step, t, loss, correct, seen)
        return Interval((loss - prev.loss) / max(1, n), (correct - prev.correct) / max(1, n),
                        n / max(1e-9, t - prev.t), t)

    def eta(self, step: int, total_steps: int, epochs_left: int, elapsed: float) -> float:
        done = step - self.start_step
        per_step = elapsed / done if done else 0.0
        per_val = self.val_seconds / self.val_count if self.val_count else 0.0
        return (total_steps - step) * per_step + per_val * epochs_left

    def start_epoch(self, seen: int) -> None:
        self.epoch_mark = (self.clock.elapsed, seen)

    def epoch_time(self, seen: int) -> tuple[float, float]:
        """(training seconds, samples/s) of the epoch so far."""
        t0, seen0 = self.epoch_mark
        seconds = self.clock.elapsed - t0
        return seconds, (seen - seen0) / max(1e-9, seconds)

    def new_epoch(self, step: int) -> None:
        """The epoch sums start again: so does the log point."""
        self.mark = _Mark(step, self.clock.elapsed, 0.0, 0.0, 0)

    @contextmanager
    def validation(self) -> Iterator[None]:
        """Time a validation (for the ETA); the caller has the training clock stopped."""
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.val_seconds += time.perf_counter() - t0
            self.val_count += 1

    @property
    def samples_per_s(self) -> float:
        return self.trained / self.clock.total if self.clock.total > 0 else 0.0
