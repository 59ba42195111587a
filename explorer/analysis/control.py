"""Progress and cancellation for the analysis tools, the same for the window and the command line.

A tool calls ``control.step(what, done, total)`` between batches: that reports progress and raises
``Cancelled`` when someone (the window's Cancel button, from the GUI thread) asked to stop, so a tool
stops within one batch and never leaves a network half-lesioned (every tool restores in ``finally``).
"""
from __future__ import annotations

import threading
from typing import Callable

ProgressFn = Callable[[str, int, int], None]  # (what, done, total)


class Cancelled(Exception):
    """The analysis was cancelled between two batches; nothing it changed is left changed."""


class Control:
    def __init__(self, on_progress: ProgressFn | None = None):
        self.on_progress = on_progress
        self._cancel = threading.Event()

    def cancel(self) -> None:
        """Safe from any thread; takes effect at the tool's next batch."""
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def check(self) -> None:
        if self._cancel.is_set():
            raise Cancelled("analysis cancelled")

    def step(self, what: str, done: int, total: int) -> None:
        """Report ``done`` of ``total`` and stop here if cancelled."""
        self.check()
        if self.on_progress is not None:
            self.on_progress(what, done, total)


def quiet() -> Control:
    """A control that reports nothing and is never cancelled (tests, one-off calls)."""
    return Control()
