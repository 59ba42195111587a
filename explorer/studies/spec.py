"""What a study is: its kind (depth over a family, or a grid of architectures), the seeds, whether each
network trains with its plain twin, the data set and the training settings every trial shares.

A spec is plain data that round-trips through study.json; ``from_dict`` checks every field of a file
that may have been edited or damaged, and names the field it refuses.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from explorer.train.config import TrainConfig
from explorer.util.untrusted import UntrustedInputError, finite_number, text, whole_number

DEPTH = "depth"
GRID = "grid"
KINDS = (DEPTH, GRID)
MAX_TRIALS = 1000
MAX_SEEDS = 100


class SpecError(ValueError):
    """A study setting out of range; the message names it and what it accepts."""


@dataclass(frozen=True)
class StudySpec:
    kind: str                                      # DEPTH or GRID
    family: str = ""                               # DEPTH: a preset-name prefix or one preset/graph file
    depths: tuple[int, ...] = ()                   # DEPTH: total weight layers
    archs: tuple[str, ...] = ()                    # GRID: preset names or graph files
    seeds: tuple[int, ...] = (0,)
    twin: bool = True                              # train each network's plain twin too
    dataset: str = "digits"
    data_options: dict[str, Any] = field(default_factory=dict)
    val_fraction: float = 0.2
    config: dict[str, Any] = field(default_factory=dict)  # TrainConfig fields; seed and out_dir are per trial

    def train_config(self, seed: int, out_dir: str | None) -> TrainConfig:
        """The settings of one trial."""
        return TrainConfig.from_dict(self.config).replace(seed=seed, out_dir=out_dir)

    def check(self) -> "StudySpec":
        """Raise SpecError for the first setting out of range; returns self."""
        if self.kind not in KINDS:
            raise SpecError(f"study kind '{self.kind}' is not one of {', '.join(KINDS)}")
        if self.kind == DEPTH and (not self.family or not self.depths):
            raise SpecError("a depth study needs a family and at least one depth, e.g. resnet --depths 20,56")
        if self.kind == GRID and not self.archs:
            raise SpecError("a grid study needs at least one architecture, e.g. --archs resnet20,preact_resnet20")
        if any(not 3 <= d <= 2000 for d in self.depths):
            raise SpecError(f"depths must be between 3 and 2,000 weight layers each, got {list(self.depths)}")
        if not self.seeds or len(self.seeds) > MAX_SEEDS or len(set(self.seeds)) != len(self.seeds):
            raise SpecError(f"seeds must be 1 to {MAX_SEEDS} different whole numbers, got {list(self.seeds)}")
        if not 0 <= self.val_fraction < 1:
            raise SpecError(f"validation fraction must be in [0, 1), got {self.val_fraction}")
        try:
            self.train_config(self.seeds[0], None).check()
        except (TypeError, ValueError) as e:  # ConfigError, or a damaged field of a wrong type
            raise SpecError(str(e)) from None
        networks = len(self.depths) if self.kind == DEPTH else len(self.archs)
        if networks * len(self.seeds) * (2 if self.twin else 1) > MAX_TRIALS:
            raise SpecError(f"a study is at most {MAX_TRIALS} trials; use fewer depths, architectures or seeds")
        return self

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "family": self.family, "depths": list(self.depths), "archs": list(self.archs),
                "seeds": list(self.seeds), "twin": self.twin, "dataset": self.dataset,
                "data_options": dict(self.data_options), "val_fraction": self.val_fraction,
                "config": dict(self.config)}

    @classmethod
    def from_dict(cls, data: Any) -> "StudySpec":
        """The spec a study.json holds; raises SpecError naming the field it refuses."""
        try:
            if not isinstance(data, dict):
                raise UntrustedInputError("settings must be an object")
            options = data.get("data_options", {})
            config = data.get("config", {})
            if not isinstance(options, dict) or not all(isinstance(v, (int, str)) for v in options.values()):
                raise UntrustedInputError("data_options must map names to whole numbers or text")
            if not isinstance(config, dict):
                raise UntrustedInputError("config must be an object of training settings")
            twin = data.get("twin", True)
            if not isinstance(twin, bool):
                raise UntrustedInputError(f"twin must be true or false, got {twin!r}")
            spec = cls(kind=text(data.get("kind"), "kind", 10),
                       family=text(data.get("family", ""), "family", 1000),
                       depths=tuple(whole_number(d, "depth", 3, 2000) for d in _items(data, "depths")),
                       archs=tuple(text(a, "architecture", 1000) for a in _items(data, "archs")),
                       seeds=tuple(whole_number(s, "seed", -2**31, 2**31) for s in _items(data, "seeds")),
                       twin=twin, dataset=text(data.get("dataset", "digits"), "dataset", 1000),
                       data_options={text(k, "data option", 100): v for k, v in options.items()},
                       val_fraction=finite_number(data.get("val_fraction", 0.2), "val_fraction", 0, 0.99),
                       config=dict(config))
        except UntrustedInputError as e:
            raise SpecError(str(e)) from None
        return spec.check()


def _items(data: dict, key: str) -> list:
    value = data.get(key, [])
    if not isinstance(value, list) or len(value) > MAX_TRIALS:
        raise UntrustedInputError(f"{key} must be a list (at most {MAX_TRIALS} entries)")
    return value


def seed_list(first: int, count: int) -> tuple[int, ...]:
    """``count`` seeds from ``first`` on: --seed 0 --seeds 3 trains seeds 0, 1 and 2."""
    if not 1 <= count <= MAX_SEEDS:
        raise SpecError(f"--seeds must be 1 to {MAX_SEEDS}, got {count}")
    return tuple(range(first, first + count))


def parse_data_options(items: list[str]) -> dict[str, int | str]:
    """--data-option as `train` reads it; a malformed one is a SpecError."""
    from explorer.data.options import parse_key_values
    from explorer.data.errors import DatasetError
    try:
        return parse_key_values(items)
    except DatasetError as e:
        raise SpecError(str(e)) from None
