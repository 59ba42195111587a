"""Progress and Cancel for a lesson run, across its trainings and its measurements.

One object the window's worker (or the command line's Ctrl-C handler) holds: ``cancel()`` from any thread
(or cancelling the analysis ``Control`` it wraps, as the window's worker does) stops the training under
way within one step and the analysis tools at their next batch.
"""
from __future__ import annotations

from typing import Callable

from explorer.analysis.control import Control
from explorer.train.control import TrainControl

ProgressFn = Callable[[str, int, int], None]  # (what, done, total)


class LessonControl:
    def __init__(self, on_progress: ProgressFn | None = None, analysis: Control | None = None):
        self.analysis = analysis or Control(on_progress=on_progress)
        self._training: TrainControl | None = None

    def training(self) -> TrainControl:
        """A fresh control for the next training (already stopped when the lesson was cancelled)."""
        self._training = TrainControl()
        if self.cancelled:
            self._training.stop()
        return self._training

    def cancel(self) -> None:
        self.analysis.cancel()
        if self._training is not None:
            self._training.stop()

    @property
    def cancelled(self) -> bool:
        return self.analysis.cancelled

    def report(self, what: str, done: int, total: int) -> None:
        """Report from inside a training: a cancel stops it within one step (it ends cleanly, checkpoint
        written) instead of raising in the middle of the engine."""
        if self.cancelled and self._training is not None:
            self._training.stop()
        if self.analysis.on_progress is not None:
            self.analysis.on_progress(what, done, total)

    def progress(self, what: str, done: int, total: int) -> None:
        """Report and stop here when cancelled."""
        self.analysis.step(what, done, total)
