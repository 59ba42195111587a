"""One trial of a study: a network (at one depth, residual or its plain twin) trained with one seed, its
state (pending, running, done, failed) and, once done, its results.

Errors are fractions in [0, 1] (1 - accuracy). ``row()`` is the object ``study --json`` prints for it and
the row of results.csv; ``from_dict`` checks a study.json entry field by field.
"""
from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, field
from typing import Any

from explorer.util.untrusted import UntrustedInputError, finite_number, text, whole_number

PENDING, RUNNING, DONE, FAILED = "pending", "running", "done", "failed"
STATES = (PENDING, RUNNING, DONE, FAILED)
MAX_ATTEMPTS = 2  # a failed trial is retried once

# What --json prints per trial and results.csv has as columns, in this order.
FIELDS = ("id", "arch", "depth", "plain", "seed", "state", "final_train_loss", "final_train_err", "final_val_err",
          "best_val_err", "epochs", "seconds", "run_dir", "error")
RESULT_FIELDS = ("final_train_loss", "final_train_err", "final_val_err", "best_val_err", "epochs", "seconds")


@dataclass
class Trial:
    id: str
    arch: str                  # the network's name (the residual one's for a plain twin)
    source: str                # what builds it: the family (depth study) or the preset/graph file (grid)
    depth: int                 # total weight layers
    plain: bool
    seed: int
    state: str = PENDING
    final_train_loss: float | None = None
    final_train_err: float | None = None
    final_val_err: float | None = None
    best_val_err: float | None = None
    epochs: int | None = None
    seconds: float | None = None
    error: str | None = None
    attempts: int = 0          # times it was started and ended (done or failed)
    errors: list[str] = field(default_factory=list)  # every failure so far, kept across retries

    @property
    def run_dir(self) -> str:
        """The trial's run folder, relative to the study folder."""
        return f"trials/{self.id}"

    @property
    def group(self) -> tuple[int, bool]:
        """The figure's point this trial belongs to: (depth, plain)."""
        return self.depth, self.plain

    def row(self) -> dict[str, Any]:
        return {k: (self.run_dir if k == "run_dir" else getattr(self, k)) for k in FIELDS}

    def finish(self, result: dict[str, Any]) -> None:
        """Record a finished training's summary (``FinishedReport.summary()``)."""
        def err(acc):
            return None if acc is None else min(1.0, max(0.0, 1.0 - acc))

        self.state, self.error = DONE, None
        self.final_train_loss = _finite(result.get("final_train_loss"))
        self.final_train_err = err(_finite(result.get("final_train_acc")))
        self.final_val_err = err(_finite(result.get("final_val_acc")))
        self.best_val_err = err(_finite(result.get("best_val_acc")))
        self.epochs = result.get("epochs")
        self.seconds = _finite(result.get("seconds"))
        self.attempts += 1

    def fail(self, error: str) -> None:
        self.state, self.error = FAILED, error
        self.errors.append(error)
        self.attempts += 1

    @property
    def retry_left(self) -> bool:
        return self.state == FAILED and self.attempts < MAX_ATTEMPTS

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Any) -> "Trial":
        """A study.json entry, checked; raises UntrustedInputError naming the field."""
        if not isinstance(data, dict):
            raise UntrustedInputError("a trial must be an object")
        tid = text(data.get("id"), "trial id", 200)
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.+-]*", tid):
            raise UntrustedInputError(f"trial id {tid!r} must be letters, digits, '.', '_', '+' or '-'")
        state = text(data.get("state"), f"trial {tid}: state", 20)
        if state not in STATES:
            raise UntrustedInputError(f"trial {tid}: state must be one of {', '.join(STATES)}, got {state!r}")
        plain = data.get("plain")
        if not isinstance(plain, bool):
            raise UntrustedInputError(f"trial {tid}: plain must be true or false")
        errors = data.get("errors", [])
        if not isinstance(errors, list):
            raise UntrustedInputError(f"trial {tid}: errors must be a list")
        t = cls(id=tid, arch=text(data.get("arch"), f"trial {tid}: arch", 1000),
                source=text(data.get("source"), f"trial {tid}: source", 1000),
                depth=whole_number(data.get("depth"), f"trial {tid}: depth", 0, 100_000), plain=plain,
                seed=whole_number(data.get("seed"), f"trial {tid}: seed", -2**31, 2**31), state=state,
                attempts=whole_number(data.get("attempts", 0), f"trial {tid}: attempts", 0, 1000),
                errors=[text(e, f"trial {tid}: error", 10_000) for e in errors])
        for k in ("final_train_loss", "seconds"):
            if data.get(k) is not None:
                setattr(t, k, finite_number(data[k], f"trial {tid}: {k}", 0))
        for k in ("final_train_err", "final_val_err", "best_val_err"):
            if data.get(k) is not None:
                setattr(t, k, finite_number(data[k], f"trial {tid}: {k}", 0, 1))
        if data.get("epochs") is not None:
            t.epochs = whole_number(data["epochs"], f"trial {tid}: epochs", 0, 10**6)
        if data.get("error") is not None:
            t.error = text(data["error"], f"trial {tid}: error", 10_000)
        return t


def trial_id(arch: str, plain: bool, seed: int) -> str:
    """``resnet20-plain-s0``: readable, safe as a folder name."""
    name = re.sub(r"[^A-Za-z0-9_.+-]+", "_", arch).strip("_.") or "net"
    return f"{name}{'-plain' if plain else ''}-s{seed}"


def _finite(v):
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) else None
