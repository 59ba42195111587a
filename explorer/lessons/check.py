"""A lesson's check: its expectations against the run's own numbers, and a plain verdict with the reason.

Each expectation says ``left > right`` (or ``<``) by more than a margin. It *holds* when the difference
is past the margin in the claimed direction, *fails* when it is past the margin the other way, and is
*within noise* otherwise (``>=``/``<=``, "not lower/higher", hold unless past the margin the other way); a number the run did not produce (a failed run, NaN) leaves it *unmeasured*.
The verdict: reproduced when every expectation holds; not reproduced (at this size) when any fails;
inconclusive otherwise. Nothing is claimed that the numbers do not show.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from explorer.lessons.spec import Check, Expectation

HOLDS, FAILS, NOISE, UNMEASURED = "holds", "fails", "within noise", "unmeasured"


@dataclass(frozen=True)
class Outcome:
    expectation: Expectation
    state: str                      # HOLDS, FAILS, NOISE or UNMEASURED
    left: float | None
    right: float | None
    difference: float | None        # in the expectation's scale, signed so that > 0 means as claimed

    def to_json(self) -> dict:
        e = self.expectation
        return {"says": e.says, "left": e.left, "op": e.op, "right": e.right, "margin": e.margin, "scale": e.scale,
                "left_value": self.left, "right_value": self.right, "difference": self.difference, "state": self.state}

    @property
    def text(self) -> str:
        e = self.expectation
        if self.state == UNMEASURED:
            missing = e.left if self.left is None else e.right
            return f"{e.says}: not measured ({missing} has no value; the run may have failed)"
        right = e.right if isinstance(e.right, float) else f"{e.right} {_fmt(self.right)}"
        unit = " orders of magnitude" if e.scale == "log10" else ""
        return (f"{e.says}: {e.left} {_fmt(self.left)} {e.op} {right}? difference {self.difference:+.3g}{unit} "
                f"against a margin of {e.margin:g}: {self.state}")


def _fmt(v: float | None) -> str:
    return "n/a" if v is None else f"{v:.4g}"


def _value(measured: dict, ref) -> float | None:
    v = ref if isinstance(ref, float) else measured.get(ref)
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        return None
    return float(v)


def judge(e: Expectation, measured: dict) -> Outcome:
    left, right = _value(measured, e.left), _value(measured, e.right)
    if left is None or right is None:
        return Outcome(e, UNMEASURED, left, right, None)
    if e.scale == "log10":
        if left <= 0 or right <= 0:
            return Outcome(e, UNMEASURED, left, right, None)
        diff = math.log10(left) - math.log10(right)
    else:
        diff = left - right
    diff = diff if e.op in (">", ">=") else -diff
    if e.op in (">=", "<="):
        state = HOLDS if diff >= -e.margin else FAILS
    else:
        state = HOLDS if diff > e.margin else FAILS if diff < -e.margin else NOISE
    return Outcome(e, state, left, right, diff)


@dataclass(frozen=True)
class Verdict:
    verdict: str
    why: str                        # the reason, each expectation's numbers and the rule
    outcomes: tuple[Outcome, ...]
    summary: str = ""               # the reason alone, for a page that lists the numbers itself


def verdict(check: Check, measured: dict, size: str = "this size") -> Verdict:
    outcomes = tuple(judge(e, measured) for e in check.expect)
    states = [o.state for o in outcomes]
    details = "; ".join(o.text for o in outcomes)
    if all(s == HOLDS for s in states):
        word, head = "reproduced", "every expectation holds"
    elif FAILS in states:
        word = "not reproduced"
        head = f"at {size} the numbers go against the claim in {states.count(FAILS)} of {len(states)} expectation(s)"
    else:
        word = "inconclusive"
        head = (f"at {size} {states.count(NOISE)} expectation(s) fall within the noise margin and "
                f"{states.count(UNMEASURED)} could not be measured; the data neither show nor refute the claim")
    return Verdict(word, f"{head}: {details}. ({check.rule})", outcomes, f"{head} ({check.rule})")
