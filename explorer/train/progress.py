"""Progress text for the command line (the window draws its own): a bar redrawn in place on a terminal,
plain lines at a modest rate elsewhere."""
from __future__ import annotations

import sys
import time
from typing import Callable

from explorer.train.reports import StepReport


def format_duration(seconds: float) -> str:
    """``75`` -> ``1:15``; ``3725`` -> ``1:02:05``."""
    if seconds != seconds or seconds < 0:
        return "?"
    s = int(round(seconds))
    h, rem = divmod(s, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def bar(fraction: float, width: int = 24) -> str:
    """A bar of ``width`` cells with eighth-cell resolution."""
    cells = min(1.0, max(0.0, fraction)) * width
    full = int(cells)
    eighths = int((cells - full) * 8)
    part = "▏▎▍▌▋▊▉"[eighths - 1] if full < width and eighths > 0 else ""
    return ("█" * full + part).ljust(width)


def progress_line(r: StepReport, width: int = 24) -> str:
    """``epoch 2/3 |████▌     | 45% loss 0.412 acc 87.4% 1,234 samples/s ETA 0:12``."""
    frac = r.step / r.total_steps if r.total_steps else 0.0
    return (f"epoch {r.epoch}/{r.epochs} |{bar(frac, width)}| {frac:4.0%} loss {r.loss:.4f} acc {r.acc:6.1%} "
            f"{r.samples_per_s:,.0f} samples/s ETA {format_duration(r.eta_s)}")


def plain_progress_line(r: StepReport) -> str:
    """``progress: epoch 2/3 step 45/120 (38%) loss 0.4123 acc 87.4% 1,234 samples/s ETA 1:12``: for a log."""
    frac = r.step / r.total_steps if r.total_steps else 0.0
    return (f"progress: epoch {r.epoch}/{r.epochs} step {r.step}/{r.total_steps} ({frac:.0%}) loss {r.loss:.4f} "
            f"acc {r.acc:.1%} {r.samples_per_s:,.0f} samples/s ETA {format_duration(r.eta_s)}")


PLAIN_EVERY_S = 5.0  # seconds between plain progress lines when stderr is not a terminal


class Throttle:
    """Says when a plain progress line is due: at most one per ``every_s`` seconds of ``clock`` (injected,
    so tests step a fake clock instead of waiting)."""

    def __init__(self, every_s: float, clock: Callable[[], float] = time.monotonic):
        self.every_s = every_s
        self._clock = clock
        self._last = clock()

    def due(self) -> bool:
        now = self._clock()
        if now - self._last < self.every_s:
            return False
        self._last = now
        return True


class Progress:
    """Shows progress on ``stream`` (stderr): on a terminal a line redrawn in place at every update;
    elsewhere (a pipe, a log file, CI) a plain line at most every ``every_s`` seconds (default
    ``PLAIN_EVERY_S``), so a log shows the run is alive without filling up with thousands of bars."""

    def __init__(self, stream=None, tty: bool | None = None, every_s: float | None = None,
                 clock: Callable[[], float] = time.monotonic):
        self.stream = stream if stream is not None else sys.stderr
        self.tty = self.stream.isatty() if tty is None else tty
        self._throttle = Throttle(PLAIN_EVERY_S if every_s is None else every_s, clock)
        self._clock = clock
        self._counted: dict[str, tuple[float, int, int]] = {}  # per count: (since, done then, done last)

    def step(self, r: StepReport) -> None:
        """A training StepReport."""
        self._show(lambda: progress_line(r), lambda: plain_progress_line(r))

    def count(self, what: str, done: int, total: int) -> None:
        """Any other long loop: ``landscape 120/441 points``."""
        frac = done / total if total else 0.0
        eta = self._eta(what, done, total)
        self._show(lambda: f"{what} |{bar(frac)}| {frac:4.0%} {done:,}/{total:,}{eta}",
                   lambda: f"progress: {what} {done:,}/{total:,} ({frac:.0%}){eta}")

    def _eta(self, what: str, done: int, total: int) -> str:
        """`` ETA 1:12`` at the pace since this count's first report, once it has moved ('' before)."""
        now = self._clock()
        since, first, last = self._counted.get(what, (now, done, done))
        if done < last:  # the same loop again (e.g. for the plain twin): a fresh pace
            since, first = now, done
        self._counted[what] = (since, first, done)
        if done <= first or now <= since or done >= total:
            return ""
        return f" ETA {format_duration((total - done) * (now - since) / (done - first))}"

    def clear(self) -> None:
        """Remove the redrawn line before other output (nothing to do off a terminal)."""
        if self.tty:
            print("\r\033[K", end="", file=self.stream, flush=True)

    def _show(self, redrawn: Callable[[], str], plain: Callable[[], str]) -> None:
        if self.tty:
            print("\r" + redrawn(), end="", file=self.stream, flush=True)
        elif self._throttle.due():
            print(plain(), file=self.stream, flush=True)
