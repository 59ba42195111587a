"""The study's numbers: mean and spread over seeds for each (network, depth, plain or residual), and the
verdict in the paper's words, which says what the data show and never more.

He et al. 2015 (Fig. 1 and Fig. 6): a deeper plain network has a *higher training error* than a shallower
one (the degradation problem), while a residual network of the same depth does not. The verdict claims
it only when the plain rise is larger than the noise (twice the standard error where there are several
seeds, at least half a percentage point) and the residual one is not; from one seed per point it calls that
a first sign, to be confirmed with more seeds, since a single run has no spread to judge the noise by.
Otherwise it gives the numbers and says why they do not show it.
"""
from __future__ import annotations

import math
from collections import defaultdict

from explorer.studies.study import Study
from explorer.studies.trial import DONE

MIN_DIFFERENCE = 0.005   # half a percentage point: smaller changes are not read as a trend
PAPER = "He et al. 2015, Fig. 1 and Fig. 6"


def summary_rows(study: Study) -> list[dict]:
    """One row per (arch, depth, plain) with finished trials: mean and standard deviation over seeds."""
    groups: dict[tuple, list] = defaultdict(list)
    for t in study.trials:
        if t.state == DONE:
            groups[(t.depth, t.plain, t.arch)].append(t)
    rows = []
    for (depth, plain, arch), ts in sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][2], kv[0][1])):
        tm, ts_ = _mean_std([t.final_train_err for t in ts])
        vm, vs = _mean_std([t.final_val_err for t in ts])
        rows.append({"arch": arch, "depth": depth, "plain": plain, "train_err_mean": tm, "train_err_std": ts_,
                     "val_err_mean": vm, "val_err_std": vs, "n": len(ts)})
    return rows


def _mean_std(values) -> tuple[float | None, float | None]:
    xs = [v for v in values if v is not None]
    if not xs:
        return None, None
    mean = sum(xs) / len(xs)
    std = math.sqrt(sum((x - mean) ** 2 for x in xs) / (len(xs) - 1)) if len(xs) > 1 else 0.0
    return mean, std


def verdict(study: Study) -> str:
    """One or two sentences with the numbers; see the module docstring for when the claim is made."""
    rows = [r for r in summary_rows(study) if r["train_err_mean"] is not None]
    if not rows:
        return "no trial has finished yet: nothing to say"
    plain = _ends([r for r in rows if r["plain"]])
    residual = _ends([r for r in rows if not r["plain"]])
    if plain is None and residual is None:
        return "one depth only: nothing to compare along depth"
    parts = [f"{name}: {_trend(ends)}" for name, ends in (("plain", plain), ("residual", residual)) if ends]
    numbers = "; ".join(parts)
    if plain is None or residual is None:
        missing = "plain twins" if plain is None else "residual networks"
        return f"{numbers}. No {missing} at two depths, so the degradation problem cannot be judged here."
    (p0, p1), (r0, r1) = plain, residual
    plain_rise = _difference(p0, p1)
    residual_rise = _difference(r0, r1)
    if any(t.epochs == 0 for t in study.trials if t.state == DONE):
        steps = study.spec.config.get("max_steps")
        return (f"{numbers}. These trials stopped before one whole epoch{f' ({steps} steps)' if steps else ''}: "
                "far too short to show or refute the degradation problem; train for a few epochs.")
    shown = plain_rise > 0 and residual_rise <= 0 and p1["train_err_mean"] > r1["train_err_mean"]
    seeds = min(r["n"] for r in (p0, p1, r0, r1))
    if shown and seeds == 1:  # a single run per point can land either way: a sign, not yet a finding
        return (f"{numbers} ({PAPER}): the deeper plain network trained worse and the residual one did not, as "
                "the degradation problem predicts; but with one seed per point there is no spread to tell this "
                "from noise, so take it as a first sign and train three seeds per point to confirm it.")
    if shown:
        return (f"{numbers} ({PAPER}): the deeper plain network trains worse and the residual one does not, "
                f"the degradation problem, beyond the spread of {seeds} seeds per point.")
    return (f"{numbers}. These trials do not show the degradation problem: "
            f"{_why_not(study, rows, plain_rise, residual_rise, plain, residual)}.")


def _ends(rows: list[dict]):
    """The shallowest and the deepest point, or None with fewer than two depths."""
    if len({r["depth"] for r in rows}) < 2:
        return None
    rows = sorted(rows, key=lambda r: r["depth"])
    return rows[0], rows[-1]


def _difference(a: dict, b: dict) -> int:
    """+1 when b's training error is clearly above a's, -1 clearly below, 0 within the noise."""
    d = b["train_err_mean"] - a["train_err_mean"]
    noise = 0.0
    if a["n"] > 1 and b["n"] > 1:
        noise = 2 * math.sqrt(a["train_err_std"] ** 2 / a["n"] + b["train_err_std"] ** 2 / b["n"])
    limit = max(MIN_DIFFERENCE, noise)
    return 1 if d > limit else -1 if d < -limit else 0


def _trend(ends) -> str:
    a, b = ends
    x, y = a["train_err_mean"], b["train_err_mean"]
    move = {1: "rises", -1: "falls", 0: "stays about the same"}[_difference(a, b)]
    return f"training error {move} from {_pct(x)} at depth {a['depth']} to {_pct(y)} at depth {b['depth']}"


def _why_not(study: Study, rows: list[dict], plain_rise: int, residual_rise: int, plain, residual) -> str:
    cfg = study.spec.config
    epochs, steps = cfg.get("epochs", 10), cfg.get("max_steps")
    short = f"{epochs} epoch{'s' if epochs != 1 else ''}" + (f", at most {steps} steps" if steps else "")
    if max(r["train_err_mean"] for r in rows) < 0.01:
        return "every network fits its training set almost perfectly, so the data set is too easy to tell them apart"
    if plain_rise <= 0:
        return (f"the plain network's training error does not rise with depth here; with {short} the networks may be "
                "far from converged, and the gap opens with longer training")
    if residual_rise > 0:
        p = plain[1]["train_err_mean"] - plain[0]["train_err_mean"]
        r = residual[1]["train_err_mean"] - residual[0]["train_err_mean"]
        more = (f"the plain network's rises far more ({100 * p:.1f} against {100 * r:.1f} percentage points), but "
                if p > 3 * r else "")
        return (f"{more}the residual network's training error rises with depth as well; with {short} the deeper networks "
                "have had too little training")
    return f"the deep plain network is not worse than the deep residual one after {short}"


def _pct(x: float) -> str:
    return f"{100 * x:.1f} %"


def result_object(study: Study) -> dict:
    """What ``study --json`` prints: the trials, the summary and the verdict."""
    return {"trials": [t.row() for t in study.trials], "summary": summary_rows(study), "verdict": verdict(study)}
