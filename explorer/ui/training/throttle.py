"""Redraw at most ``max_hz`` times a second, however often data arrives, and within a CPU budget.

A view calls ``request()`` whenever its data changed; the callbacks run once on the next tick of a
single-shot timer, never more often than the rate allows, and not at all while nothing changed. A view
that is hidden (a background tab) skips the work and redraws when it is shown again.

Budget: drawing competes with training for the CPU (and the GIL). The view reports what each frame
cost (its update plus its paint, ``note_paint``), and the throttle keeps frames at most ``DUTY`` of
one core: a panel that takes 10 ms to paint redraws at most 3 times a second, one that takes 1 ms up to
``max_hz``. On a fast machine the plots run at full rate; on a slow one training keeps its speed.
"""
from __future__ import annotations

import time
from typing import Callable

from PySide6.QtCore import QObject, QTimer

MAX_HZ = 30.0        # curves: the ceiling
GRADIENT_HZ = 10.0   # per-layer views: an image of up to 512k cells; ten frames a second show every change
DUTY = 0.03          # share of one core a panel may spend drawing: on a 2-core CPU, drawing more costs
                     # training disproportionately (a busy GUI thread stalls the torch thread pool)
MAX_PERIOD = 1.0     # however slow the machine, a live plot moves at least once a second
COST_WINDOW = 5      # frames the cost estimate looks at (median: one slow frame, e.g. the first, is ignored)


class Throttle(QObject):
    def __init__(self, callback: Callable[[], None] | None, max_hz: float = MAX_HZ, parent: QObject | None = None,
                 visible: Callable[[], bool] | None = None, duty: float = DUTY,
                 clock: Callable[[], float] = time.perf_counter):
        super().__init__(parent)
        self._clock = clock       # seconds; tests pass a clock they move by hand
        self._callbacks = [callback] if callback else []
        self._visible = visible
        self._min_period = 1.0 / max_hz
        self._duty = duty
        self.cost = 0.0           # seconds per frame (updates + paints), median of the last few frames
        self._costs: list[float] = []
        self._frame = 0.0         # what the current frame has cost so far
        self._last = -1e9
        self._stale = False       # data changed while hidden: redraw on show
        self.calls = 0            # redraws done (tests and the benchmark read it)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._fire)

    def add(self, callback: Callable[[], None]) -> "Throttle":
        """Share this throttle: views redrawn together paint in one pass of the event loop (one window
        repaint instead of several) and share one budget."""
        self._callbacks.append(callback)
        return self

    def replace(self, old: Callable[[], None], new: Callable[[], None]) -> None:
        """Call ``new`` where ``old`` was called (the training views' benchmark times each redraw in place)."""
        self._callbacks[self._callbacks.index(old)] = new

    def request(self) -> None:
        if self._timer.isActive():
            return
        self._timer.start(int(self.delay() * 1000))

    def delay(self) -> float:
        """Seconds until the rate and the budget allow the next redraw (0: now)."""
        return max(0.0, self.period - (self._clock() - self._last))

    @property
    def period(self) -> float:
        return min(MAX_PERIOD, max(self._min_period, self.cost / self._duty))

    def note_paint(self, seconds: float) -> None:
        """A view painted for ``seconds``; views sharing this throttle add up to one frame."""
        self._frame += seconds

    def _close_frame(self) -> None:
        if self._frame > 0:
            self._costs = (self._costs + [self._frame])[-COST_WINDOW:]
            self.cost = sorted(self._costs)[len(self._costs) // 2]
        self._frame = 0.0

    def flush(self) -> None:
        """Redraw now if a redraw is pending (export, tests)."""
        if self._timer.isActive() or self._stale:
            self._timer.stop()
            self._fire(force=True)

    def shown(self) -> None:
        if self._stale:
            self.request()

    def _fire(self, force: bool = False) -> None:
        if not force and self._visible is not None and not self._visible():
            self._stale = True
            return
        self._stale = False
        self._close_frame()  # the previous frame's updates and paints are all in by now
        t = self._clock()
        self._last = t
        self.calls += 1
        for callback in self._callbacks:
            callback()
        self._frame += self._clock() - t
