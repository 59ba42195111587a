"""Training time only: a stopwatch the run stops around validation, checkpoints, pauses and the consumer's
turn (``with clock.paused(): ...``), so samples/s and the ETA measure training and nothing else."""
from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager


class Stopwatch:
    def __init__(self) -> None:
        self.total = 0.0                    # seconds counted so far, up to the last stop
        self._since: float | None = None    # when it was last started; None while stopped

    def start(self) -> None:
        if self._since is None:
            self._since = time.perf_counter()

    def stop(self) -> None:
        if self._since is not None:
            self.total += time.perf_counter() - self._since
            self._since = None

    @property
    def running(self) -> bool:
        return self._since is not None

    @property
    def elapsed(self) -> float:
        return self.total + (time.perf_counter() - self._since if self._since is not None else 0.0)

    @contextmanager
    def paused(self) -> Iterator[None]:
        """Stopped inside the block; afterwards running again if it ran before."""
        was_running = self.running
        self.stop()
        try:
            yield
        finally:
            if was_running:
                self.start()
