"""What a training run tells its consumer: small frozen dataclasses of plain Python and numpy values.

No tensors: a report may be handed to another thread (the window's worker emits each one as a queued
signal) and must not keep device memory alive or touch the device from there.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class StartedReport:
    """Sent once before the first step: enough to size progress bars and the per-layer plot rows."""
    device: str
    params: int
    epochs: int
    steps_per_epoch: int
    total_steps: int
    start_epoch: int                 # 0-based epoch the run (re)starts in
    start_step: int                  # optimiser steps already done (non-zero after a resume)
    train_samples: int
    val_samples: int
    unit_keys: list[str]             # rows of LayerStatsReport, in network order
    unit_node_ids: list[str]         # the graph node behind each row
    notices: list[str] = field(default_factory=list)  # e.g. "input 3×32×32 → 1×8×8" after adapting


@dataclass(frozen=True)
class StepReport:
    """Sent every ``log_every`` steps (and at the end of each epoch): means over the steps since the last one."""
    epoch: int                       # 1-based
    epochs: int
    step: int                        # optimiser steps done so far
    total_steps: int
    epoch_step: int                  # steps done in this epoch
    steps_per_epoch: int
    loss: float
    acc: float
    lr: float
    samples_per_s: float
    elapsed_s: float                 # training time so far (no validation, pauses or consumer time)
    eta_s: float


@dataclass(frozen=True)
class LayerStatsReport:
    """Per-layer statistics of one step, one entry per layer unit (``keys``; a stage's repetitions each
    have their own, e.g. ``stage2[3]``). Norms are L2 over all parameters of the unit."""
    step: int
    epoch: int
    keys: list[str]
    node_ids: list[str]
    grad_norm: np.ndarray            # ‖∇w‖ of the unit's parameters (after unscaling/clipping)
    weight_norm: np.ndarray          # ‖w‖ before the update
    update_ratio: np.ndarray         # ‖Δw‖ / ‖w‖ of this step's update
    output_grad_norm: np.ndarray     # ‖∂loss/∂(unit output)‖: the gradient reaching the block, by depth (NaN: none)
    frozen: np.ndarray | None = None  # True where the unit is frozen (--freeze): no gradient by choice, not vanishing


@dataclass(frozen=True)
class EpochReport:
    epoch: int                       # 1-based
    epochs: int
    train_loss: float
    train_acc: float
    val_loss: float | None
    val_acc: float | None
    lr: float
    samples_per_s: float
    seconds: float                   # training time of this epoch (without validation)
    best: bool                       # the best validation accuracy so far


@dataclass(frozen=True)
class CheckpointReport:
    path: str
    kind: str                        # "last" or "best"
    epoch: int                       # completed epochs in the checkpoint
    step: int


@dataclass(frozen=True)
class StatusReport:
    """The run paused (waiting for resume or stop) or runs again; or, with ``--compile``, its compiling phase."""
    state: str                       # "paused" | "running" | "compiling" | "compiled" | "eager" (compiling failed)
    step: int
    detail: str = ""                 # what to show: "compiling, ~40 s", "compiled in 38 s", or the warning
    seconds: float | None = None     # compiling: the estimate; compiled / eager: how long it took


@dataclass(frozen=True)
class FinishedReport:
    """The run ended normally: all epochs done ("completed") or stopped on request ("stopped")."""
    status: str
    epochs_done: int                 # completed epochs
    steps: int
    final_train_loss: float | None
    final_train_acc: float | None
    final_val_loss: float | None
    final_val_acc: float | None
    best_val_acc: float | None
    best_epoch: int | None
    samples_per_s: float
    seconds: float
    device: str
    checkpoint: str | None           # last checkpoint written, if any
    history: list[dict] = field(default_factory=list)  # one dict per completed epoch

    def summary(self) -> dict:
        """The object ``train --json`` prints (DESIGN.md's contract plus a few extras)."""
        return {"final_train_loss": self.final_train_loss, "final_val_loss": self.final_val_loss,
                "final_val_acc": self.final_val_acc, "samples_per_s": self.samples_per_s, "device": self.device,
                "epochs": self.epochs_done, "status": self.status, "steps": self.steps,
                "final_train_acc": self.final_train_acc, "best_val_acc": self.best_val_acc,
                "best_epoch": self.best_epoch, "seconds": self.seconds, "checkpoint": self.checkpoint}


@dataclass(frozen=True)
class FailedReport:
    """The run could not go on. ``reason`` says what happened, ``advice`` what to do about it.

    kind: ``config``/``graph``/``data``/``device``/``checkpoint`` (found before the first step: the
    user's input), ``nan`` (loss not finite), ``diverged`` (loss far above its start for several log
    intervals), ``oom`` (device out of memory).
    """
    kind: str
    reason: str
    advice: str = ""
    epoch: int = 0
    step: int = 0
    batch_size: int | None = None
    checkpoint: str | None = None    # the last good checkpoint, still on disk

    @property
    def text(self) -> str:
        return self.reason + (f"; {self.advice}" if self.advice else "")


Report = (StartedReport | StepReport | LayerStatsReport | EpochReport | CheckpointReport | StatusReport
          | FinishedReport | FailedReport)
