"""The one-line text progress bar the command line redraws (the window draws its own)."""
from __future__ import annotations

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
