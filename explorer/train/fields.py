"""The training settings a person sets, as one table: the command line's training options (``train``,
``compare``, ``study``) and the window's training form are both built from it, so a setting has one name,
type, range, default and help wherever it is set, and ``train --help`` and the form cannot drift apart.

``help`` is the option's help and the field's tooltip; ``lo``/``hi`` is the range the form offers (inside
what ``TrainConfig.check`` accepts, which stays the one judge of a value); the default is
``TrainConfig``'s, except where the window starts shorter (``window_default``).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from explorer.train.config import AMP_MODES, OPTIMIZERS, SCHEDULES, TrainConfig

_DEFAULTS = {f.name: f.default for f in dataclasses.fields(TrainConfig)}


@dataclass(frozen=True)
class Field:
    name: str                      # the TrainConfig field; the option is --name-with-dashes
    label: str                     # the form's row
    kind: type                     # int, float, bool or str
    help: str                      # the option's help and the field's tooltip
    choices: tuple[str, ...] = ()
    lo: float | None = None        # the range the form offers
    hi: float | None = None
    metavar: str | None = None
    show_default: bool = True      # --help ends with "(default ...)"
    window_default: Any = None     # the form's, where it differs from TrainConfig's

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    @property
    def default(self):
        return _DEFAULTS[self.name]

    @property
    def form_default(self):
        return self.default if self.window_default is None else self.window_default

    def cli_help(self) -> str:
        if not self.show_default:
            return self.help
        shown = f"{self.default:g}" if self.kind is float else self.default
        return f"{self.help} (default {shown})"

    def tooltip(self) -> str:
        return self.help[:1].upper() + self.help[1:]


FIELDS = {f.name: f for f in (
    Field("epochs", "Epochs", int, "passes over the training data", lo=1, hi=10_000, window_default=3),
    Field("batch_size", "Batch size", int, "samples per step", lo=1, hi=65_536),
    Field("lr", "Learning rate", float, "peak learning rate", lo=1e-5, hi=10.0),
    Field("optimizer", "Optimizer", str, "the optimiser", choices=OPTIMIZERS),
    Field("schedule", "Schedule", str, "learning-rate schedule", choices=SCHEDULES),
    Field("weight_decay", "Weight decay", float, "L2 penalty on conv and linear weights",
          lo=0.0, hi=1.0),
    Field("device", "Device", str, "auto (CUDA, then MPS, then CPU), cpu, cuda, cuda:N or mps"),
    Field("amp", "Mixed precision", str, "mixed precision on CUDA", choices=AMP_MODES),
    Field("compile", "Compile (torch.compile)", bool,
          "torch.compile the network (a minute or two of compiling first, shown as its own phase; steps that "
          "sample layer statistics run uncompiled; falls back to uncompiled if it fails)", show_default=False),
    Field("seed", "Seed", int, "seed of the weights, data split and order", lo=0, hi=2**31 - 1),
    Field("unfreeze_at", "Unfreeze at", int, "frozen nodes train too from this epoch on (2 or later)", lo=0,
          hi=10_000, metavar="EPOCH", show_default=False),
    Field("train_samples", "Train samples", int, "train on a stratified subset of this many samples (validation "
          "unchanged)", lo=0, hi=100_000_000, metavar="N", show_default=False),
)}

