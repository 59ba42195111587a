"""The learning-rate schedule of a run, step by step, from ``torch.optim.lr_scheduler``.

The scheduler drives a one-group optimiser of its own (``pacer``, with one empty parameter); the trainee copies
the pacer's rate to every parameter group times its ``lr_mult``. So groups may come and go (frozen parts
released at ``--unfreeze-at``) without the scheduler's per-group lists falling out of step, and the scheduler's
``state_dict`` (saved in each checkpoint) is all a resume needs to continue the schedule exactly.

Warm-up (linear, at most a third of the run) is ``LinearLR`` chained before the decay by ``SequentialLR``:
``CosineAnnealingLR``, ``LinearLR`` to 0, ``MultiStepLR`` (÷10 at 50 % and 75 %, or every ``step_epochs``)
or ``ConstantLR``; ``onecycle`` is ``OneCycleLR`` (Smith & Topin 2019). ``optim.lr_factor`` writes the same
curves as a formula for the standalone training script (tests/test_train_schedule.py holds them equal).
"""
from __future__ import annotations

import copy
import math
import warnings

import torch
from torch.optim import lr_scheduler as sched

from explorer.train.config import TrainConfig
from explorer.train.optim import ONECYCLE_DIV, ONECYCLE_FINAL_DIV, ONECYCLE_PCT


def warmup_steps(cfg: TrainConfig, total_steps: int, steps_per_epoch: int) -> int:
    """Steps of linear warm-up: ``warmup_epochs`` (1 for the ``warmup`` schedule), capped at a third of the run
    so that a 1-epoch run still spends most of its steps at a useful rate; none for onecycle."""
    if cfg.schedule == "onecycle":
        return 0
    epochs = cfg.warmup_epochs or (1.0 if cfg.schedule == "warmup" else 0.0)
    return min(int(round(epochs * steps_per_epoch)), max(1, total_steps) // 3)


def step_milestones(cfg: TrainConfig, total_steps: int, steps_per_epoch: int) -> list[int]:
    """The steps (counted from the run's start) at which the ``step`` schedule multiplies by ``step_gamma``."""
    total = max(1, total_steps)
    if cfg.step_epochs:
        every = cfg.step_epochs * steps_per_epoch
        return list(range(every, total, every))
    return [math.ceil(0.5 * total), math.ceil(0.75 * total)]  # He et al.: ÷10 at 50 % and 75 %


class Schedule:
    """``lr`` is the rate for the next step; ``step()`` after each optimiser step."""

    def __init__(self, cfg: TrainConfig, total_steps: int, steps_per_epoch: int) -> None:
        self.key = [cfg.schedule, cfg.lr, cfg.warmup_epochs, cfg.step_epochs, cfg.step_gamma, total_steps,
                    steps_per_epoch]  # what the curve depends on: a resume with other values starts a new curve
        self._fresh = lambda: _pacer_and_scheduler(cfg, max(1, total_steps), steps_per_epoch)
        self.pacer, self.scheduler = self._fresh()
        self._paced = False   # whether this pacer has stepped (see ``step``)

    @property
    def lr(self) -> float:
        return float(self.scheduler.get_last_lr()[0])

    def step(self) -> None:
        # The pacer has no gradients: its step changes nothing. The schedulers check that their optimiser
        # stepped (a flag torch sets on it, which stays), so each pacer steps once; stepping it every time cost
        # a training step ~10 µs (79 µs inside the loop) for nothing.
        if not self._paced:
            self.pacer.step()
            self._paced = True
        self.scheduler.step()

    def state_dict(self) -> dict:
        return {"key": list(self.key), "scheduler": self.scheduler.state_dict()}

    def restore(self, state: dict | None, step: int) -> None:
        """Continue from a checkpoint ``step`` steps in: its scheduler state when it was saved for this same curve;
        otherwise (an older checkpoint, or a resume that changed the schedule or the run's length) this curve
        from ``step``."""
        if isinstance(state, dict) and state.get("key") == self.key and isinstance(state.get("scheduler"), dict):
            try:
                probe = self._loaded(state["scheduler"])  # a damaged state fails here, not steps later in the run
                _step(*probe)
                if math.isfinite(float(probe[1].get_last_lr()[0])):
                    self.pacer, self.scheduler = self._loaded(state["scheduler"])
                    self._paced = False
                    return
            except Exception:  # the file's values are untrusted: any misfit means "this curve from ``step``"
                pass
        for _ in range(step):
            self.step()

    def _loaded(self, saved: dict):
        pacer, scheduler = self._fresh()
        scheduler.load_state_dict(copy.deepcopy(saved))
        pacer.param_groups[0]["lr"] = float(scheduler.get_last_lr()[0])
        return pacer, scheduler


def _pacer_and_scheduler(cfg: TrainConfig, total: int, spe: int):
    pacer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(0))], lr=cfg.lr)
    return pacer, _scheduler(pacer, cfg, total, spe)


def _step(pacer: torch.optim.Optimizer, scheduler: sched.LRScheduler) -> None:
    pacer.step()  # no gradients: changes nothing, but keeps the scheduler's call-order check quiet
    scheduler.step()


def _scheduler(opt: torch.optim.Optimizer, cfg: TrainConfig, total: int, spe: int) -> sched.LRScheduler:
    if cfg.schedule == "onecycle":
        return sched.OneCycleLR(opt, max_lr=cfg.lr, total_steps=total, pct_start=ONECYCLE_PCT,
                                div_factor=ONECYCLE_DIV, final_div_factor=ONECYCLE_FINAL_DIV,
                                anneal_strategy="cos", cycle_momentum=False)
    warm = warmup_steps(cfg, total, spe)
    rest = max(1, total - warm)
    if cfg.schedule == "cosine":
        decay = sched.CosineAnnealingLR(opt, T_max=rest)
    elif cfg.schedule == "linear":
        decay = sched.LinearLR(opt, start_factor=1.0, end_factor=0.0, total_iters=rest)
    elif cfg.schedule == "step":
        decay = sched.MultiStepLR(opt, [max(1, m - warm) for m in step_milestones(cfg, total, spe)], cfg.step_gamma)
    else:  # constant, warmup
        decay = sched.ConstantLR(opt, factor=1.0, total_iters=0)
    if not warm:
        return decay
    rise = sched.LinearLR(opt, start_factor=1.0 / (warm + 1), end_factor=1.0, total_iters=warm)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # SequentialLR's note on the epoch argument it passes itself
        return sched.SequentialLR(opt, [rise, decay], milestones=[warm])
