"""Cooperative pause / resume / stop of a run, safe to call from any thread (the window's GUI thread).

The engine looks at the flags between steps, so a stop takes effect before the next step starts and
the run ends cleanly (checkpoint written, FinishedReport sent) instead of being killed mid-update.
"""
from __future__ import annotations

import threading


class TrainControl:
    def __init__(self) -> None:
        self._running = threading.Event()
        self._running.set()
        self._stop = threading.Event()

    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    def stop(self) -> None:
        self._stop.set()
        self._running.set()  # wake a paused run so it can end

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    def wait_while_paused(self, poll_s: float = 0.2) -> None:
        """Block until resumed or stopped. Polls so that a Ctrl-C in the main thread still gets through."""
        while not self._running.wait(poll_s):
            pass
