"""What a plain-vs-residual comparison showed, in one line with its numbers, and the facts behind it.

``find_pairs`` finds comparisons among run records (a plain twin's run and the run of the network it
was made from); ``gradient_at`` reads a run's per-layer values at a step both runs reached, so the two
are compared at the same moment of training; ``verdict`` writes the line, e.g.

    plain twin: train loss 2.16, val acc 17.8 %; residual: 0.0612, 97.5 %; at step 120 the plain twin's
    gradient at the first layer is 1/160 of the last's (residual: 1/1.6)

No Qt: the window shows the line, a script or a test can print it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable

import numpy as np

from explorer.runs.series import LayerSeries
from explorer.runs.store import RunRecord

# train.compare names the twin's run "<arch> (plain twin)"; a test trains a real comparison and pairs it.
PLAIN_TWIN_SUFFIX = " (plain twin)"


@dataclass(frozen=True)
class Pair:
    plain: str      # run id of the plain twin
    residual: str   # run id of the network itself


def _settings(rec: RunRecord) -> dict:
    # out_dir differs by role on purpose (the two runs never share files); everything else must match
    return {k: v for k, v in rec.config.items() if k != "out_dir"}


def is_plain_twin(rec: RunRecord) -> bool:
    return rec.arch.endswith(PLAIN_TWIN_SUFFIX)


def find_pairs(records: Iterable[RunRecord]) -> list[Pair]:
    """Comparisons among ``records``, newest first: the run of a network (arch ``X``) and the latest run
    before it of its plain twin (arch ``X (plain twin)``) on the same data with the same settings.
    Each run is in one pair at most."""
    recs = sorted(records, key=lambda r: r.created)
    used: set[str] = set()
    pairs = []
    for i, res in enumerate(recs):
        if is_plain_twin(res):
            continue
        for plain in reversed(recs[:i]):
            if (plain.id not in used and plain.arch == res.arch + PLAIN_TWIN_SUFFIX
                    and plain.dataset == res.dataset and _settings(plain) == _settings(res)):
                used.add(plain.id)
                pairs.append(Pair(plain.id, res.id))
                break
    return pairs[::-1]


def common_step(*series: LayerSeries | None) -> float | None:
    """The last step every one of ``series`` has values for (None when one has none)."""
    ends = [float(s.steps[-1]) for s in series if s is not None and len(s)]
    return min(ends) if ends and len(ends) == len(series) else None


def gradient_at(series: LayerSeries | None, step: float | None) -> tuple[float, np.ndarray] | None:
    """(step, per-layer values, not log) of the newest sample at or before ``step``."""
    if series is None or not len(series) or step is None:
        return None
    steps = series.steps
    i = max(0, int(np.searchsorted(steps, step + 1e-6, side="right")) - 1)
    return float(steps[i]), 10.0 ** series.log10[i].astype(np.float64)


def first_to_last(values: np.ndarray | None) -> float | None:
    """The first layer's value over the last's, over the layers that have one (finite, above zero)."""
    if values is None:
        return None
    v = values[np.isfinite(values) & (values > 1e-29)]   # 1e-30 is how a LayerSeries stores an exact zero
    return float(v[0] / v[-1]) if len(v) >= 2 else None


def ratio_text(r: float | None) -> str:
    """0.00625 -> "1/160", 2.5 -> "2.5×": how many times smaller or larger, to two figures."""
    if r is None or not math.isfinite(r) or r <= 0:
        return "—"
    if r < 1:
        return f"1/{_figures(1.0 / r)}"
    return f"{_figures(r)}×"


def _figures(x: float) -> str:
    if x >= 10:
        return f"{round(x, 1 - int(math.floor(math.log10(x)))):,.0f}"
    return f"{x:.2g}"


def _of_last(r: float | None) -> str:
    if r is None or not math.isfinite(r) or r <= 0:
        return "not measured"
    return f"{ratio_text(r)} of the last's" if r < 1 else f"{ratio_text(r)} the last's"


def _last(rec: RunRecord, series: str) -> float | None:
    s = rec.series.get(series)
    return float(s.y[-1]) if s is not None and len(s) else None


def _number(v) -> float | None:
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def run_numbers(rec: RunRecord) -> tuple[float | None, float | None]:
    """(train loss, validation accuracy as a fraction): the final ones, else the newest logged."""
    loss = _number(rec.final.get("final_train_loss"))
    acc = _number(rec.final.get("final_val_acc"))
    return (loss if loss is not None else _last(rec, "train_loss"),
            acc if acc is not None else _last(rec, "val_acc"))


def _loss_text(v: float | None) -> str:
    if v is None:
        return "—"
    return f"{v:.3g}" if math.isfinite(v) else "not finite"


def _acc_text(v: float | None) -> str:
    return "—" if v is None or not math.isfinite(v) else f"{100 * v:.1f} %"


def _state(rec: RunRecord) -> str:
    if rec.status == "failed":
        return f" ({rec.final.get('failure') or 'failed'})"
    if rec.status in ("pending", "running", "paused"):
        return " (so far)" if rec.status != "pending" else " (not started)"
    return " (stopped)" if rec.status == "stopped" else ""


def verdict(plain: RunRecord, residual: RunRecord, plain_layers: LayerSeries | None = None,
            residual_layers: LayerSeries | None = None, what: str = "gradient") -> str:
    """The comparison in one line; ``*_layers`` are the per-layer values the ratio is read from and
    ``what`` names them ("gradient", "update ratio")."""
    pl, pa = run_numbers(plain)
    rl, ra = run_numbers(residual)
    text = (f"plain twin{_state(plain)}: train loss {_loss_text(pl)}, val acc {_acc_text(pa)}; "
            f"residual{_state(residual)}: {_loss_text(rl)}, {_acc_text(ra)}")
    step = common_step(plain_layers, residual_layers)
    p, r = gradient_at(plain_layers, step), gradient_at(residual_layers, step)
    pr, rr = first_to_last(p[1] if p else None), first_to_last(r[1] if r else None)
    if pr is not None:
        text += (f"; at step {p[0]:,.0f} the plain twin's {what} at the first layer is {_of_last(pr)} "
                 f"(residual: {_of_last(rr)})")
    return text
