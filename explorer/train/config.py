"""Everything that decides a training run, as one plain dataclass that round-trips through a checkpoint.

The defaults are chosen so the He et al. experiments reproduce on the built-in digits in seconds on a
laptop CPU: ResNet-20 passes 93 % validation accuracy in 3 epochs, and plain nets degrade with depth
while residual nets do not (see the train command's help).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

OPTIMIZERS = ("sgd", "adam", "adamw")
SCHEDULES = ("constant", "step", "cosine", "onecycle", "linear", "warmup")
AMP_MODES = ("off", "bf16", "fp16")
SEED_MAX = 2**32 - 1  # the largest seed: numpy's generators take 0..2**32-1


class ConfigError(ValueError):
    """A setting out of range; the message names the setting and what it accepts."""


@dataclass
class TrainConfig:
    # -- what to run --------------------------------------------------------------------------------
    epochs: int = 10
    batch_size: int = 64
    max_steps: int | None = None        # stop early after this many optimiser steps (benchmarks, tests)
    # -- optimiser ----------------------------------------------------------------------------------
    optimizer: str = "sgd"
    lr: float = 0.05
    momentum: float = 0.9               # SGD only
    nesterov: bool = True               # SGD only; needs momentum > 0
    betas: tuple[float, float] = (0.9, 0.999)  # Adam / AdamW
    weight_decay: float = 5e-4          # not applied to BatchNorm scales and biases (1-D parameters)
    # -- learning-rate schedule (per step, so short runs get a smooth curve) -------------------------
    schedule: str = "cosine"
    warmup_epochs: float = 1.0          # linear warm-up before constant/step/cosine/linear, at most a third of the run
    step_epochs: int = 0                # "step": decay every this many epochs; 0 = at 50 % and 75 % (He et al.)
    step_gamma: float = 0.1
    # -- regularisation -----------------------------------------------------------------------------
    label_smoothing: float = 0.0
    grad_clip: float = 0.0              # max global gradient norm; 0 = off
    crop_padding: int = 0               # random crop after zero padding by this many pixels (CIFAR: 4)
    flip: bool = False                  # random horizontal mirror (not for digits: a mirrored 3 is no 3)
    # -- where and how ------------------------------------------------------------------------------
    device: str = "auto"                # auto = CUDA, then Apple MPS, then CPU; or cpu, cuda, cuda:1, mps
    amp: str = "off"                    # mixed precision on CUDA: bf16 or fp16 (with loss scaling)
    channels_last: bool = False
    compile: bool = False               # torch.compile the network for the steps without statistics (--compile)
    seed: int = 0
    threads: int = 0                    # CPU threads for torch (process-wide); 0 = leave torch's choice. With a
                                        # busy core (a window's own thread) all-cores OpenMP can run 10× slower.
    # -- reporting ----------------------------------------------------------------------------------
    validate: bool = True               # evaluate on the validation split after every epoch
    log_every: int = 10                 # steps between StepReports (each is one host sync)
    stats_every: int = 10               # steps between per-layer statistics; 0 = off
    out_dir: str | None = None          # checkpoints and metrics files; None = keep nothing on disk
    adapt: bool = True                  # fit the Input and classifier to the data instead of failing
    # -- fine-tuning (explorer.train.init_from, explorer.train.freezing) -----------------------------
    init_from: str | None = None        # start from these weights: a run folder, a checkpoint or a .pth state_dict
    freeze: list[str] = field(default_factory=list)  # node or stage ids, or "until:NODE", kept fixed
    freeze_bn: bool = True              # BatchNorm of frozen parts in eval mode (running statistics kept)
    unfreeze_at: int = 0                # 1-based epoch from which the frozen parts train too; 0 = never
    lr_mult: dict[str, float] = field(default_factory=dict)  # node/stage id (or "until:NODE") -> lr factor
    train_samples: int | None = None    # train on a stratified subset of this many samples

    def check(self) -> "TrainConfig":
        """Raise ConfigError for the first setting out of range; returns self for chaining."""
        def need(ok: bool, msg: str):
            if not ok:
                raise ConfigError(msg)

        need(_is_int(self.epochs) and self.epochs >= 1, f"epochs must be a whole number ≥ 1, got {self.epochs!r}")
        need(_is_int(self.batch_size) and self.batch_size >= 1,
             f"batch size must be a whole number ≥ 1, got {self.batch_size!r}")
        need(self.max_steps is None or (_is_int(self.max_steps) and self.max_steps >= 1),
             f"max_steps must be ≥ 1 or None, got {self.max_steps!r}")
        need(self.optimizer in OPTIMIZERS, f"optimizer '{self.optimizer}' is not one of {', '.join(OPTIMIZERS)}")
        need(self.schedule in SCHEDULES, f"schedule '{self.schedule}' is not one of {', '.join(SCHEDULES)}")
        need(self.amp in AMP_MODES, f"amp '{self.amp}' is not one of {', '.join(AMP_MODES)}")
        need(_is_num(self.lr) and 0 < self.lr < 1e3, f"learning rate must be > 0 and below 1000, got {self.lr!r}")
        need(_is_num(self.momentum) and 0 <= self.momentum < 1, f"momentum must be in [0, 1), got {self.momentum!r}")
        need(not (self.optimizer == "sgd" and self.nesterov and self.momentum == 0),
             "Nesterov momentum needs momentum > 0; set momentum or turn Nesterov off")
        need(len(self.betas) == 2 and all(_is_num(b) and 0 <= b < 1 for b in self.betas),
             f"betas must be two numbers in [0, 1), got {self.betas!r}")
        need(_is_num(self.weight_decay) and self.weight_decay >= 0,
             f"weight decay must be ≥ 0, got {self.weight_decay!r}")
        need(_is_num(self.warmup_epochs) and self.warmup_epochs >= 0,
             f"warm-up epochs must be ≥ 0, got {self.warmup_epochs!r}")
        need(_is_int(self.step_epochs) and self.step_epochs >= 0, f"step epochs must be ≥ 0, got {self.step_epochs!r}")
        need(_is_num(self.step_gamma) and 0 < self.step_gamma <= 1, f"step gamma must be in (0, 1], got {self.step_gamma!r}")
        need(_is_num(self.label_smoothing) and 0 <= self.label_smoothing < 1,
             f"label smoothing must be in [0, 1), got {self.label_smoothing!r}")
        need(_is_num(self.grad_clip) and self.grad_clip >= 0, f"gradient clip must be ≥ 0 (0 = off), got {self.grad_clip!r}")
        need(_is_int(self.crop_padding) and 0 <= self.crop_padding <= 64,
             f"crop padding must be 0..64 pixels, got {self.crop_padding!r}")
        need(_is_int(self.seed) and 0 <= self.seed <= SEED_MAX,  # torch and numpy generators take this range
             f"seed must be a whole number 0..{SEED_MAX:,}, got {self.seed!r}")
        need(isinstance(self.compile, bool), f"compile must be true or false, got {self.compile!r}")
        need(_is_int(self.threads) and 0 <= self.threads <= 1024, f"threads must be ≥ 0 (0 = default), got {self.threads!r}")
        need(_is_int(self.log_every) and self.log_every >= 1, f"log_every must be ≥ 1, got {self.log_every!r}")
        need(_is_int(self.stats_every) and self.stats_every >= 0,
             f"stats_every must be ≥ 0 (0 = off), got {self.stats_every!r}")
        need(isinstance(self.device, str) and bool(self.device.strip()), "device must be a name like auto, cpu, cuda")
        self._check_fine_tuning(need)
        return self

    def _check_fine_tuning(self, need) -> None:
        need(self.init_from is None or (isinstance(self.init_from, str) and bool(self.init_from.strip())),
             "init_from must name a run folder, a checkpoint or a .pth file")
        need(isinstance(self.freeze, (list, tuple)) and all(isinstance(n, str) and n.strip() for n in self.freeze),
             f"freeze must be a list of node or stage ids, got {self.freeze!r}")
        need(_is_int(self.unfreeze_at) and (self.unfreeze_at == 0 or self.unfreeze_at >= 2),
             f"unfreeze at must be an epoch ≥ 2 (0 = never), got {self.unfreeze_at!r}")
        need(not self.unfreeze_at or bool(self.freeze), "unfreeze at needs something frozen: add --freeze NODES")
        need(isinstance(self.lr_mult, dict) and all(isinstance(k, str) and k.strip() and _is_num(v) and 0 < v <= 1e3
                                                     for k, v in self.lr_mult.items()),
             f"learning-rate multipliers must map node ids to factors in (0, 1000], got {self.lr_mult!r}; "
             "to keep a node fixed, freeze it")
        need(self.train_samples is None or (_is_int(self.train_samples) and self.train_samples >= 1),
             f"train samples must be a whole number ≥ 1, got {self.train_samples!r}")

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["betas"] = list(self.betas)  # plain JSON / weights_only-safe types
        d["freeze"] = list(self.freeze)
        return d

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "TrainConfig":
        """Build from a dict (a checkpoint's or a settings file's); unknown keys are ignored so a newer
        checkpoint still opens."""
        names = {f.name for f in dataclasses.fields(cls)}
        kw = {k: v for k, v in dict(data).items() if k in names}
        if "betas" in kw:
            kw["betas"] = tuple(kw["betas"])
        return cls(**kw)

    def replace(self, **changes) -> "TrainConfig":
        return dataclasses.replace(self, **changes)


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_num(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and v == v
