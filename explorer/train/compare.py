"""Plain vs residual: a network and its plain twin (the same layers, shortcuts removed), trained with the
same settings and seed, one after the other.

``plan_comparison`` makes every decision the window and the command line share and returns it as data:
which graphs train, under which names and settings, in which order, and what the twin changed (as
``TwinChange`` records). It trains nothing itself; each caller runs the plan's runs its own way (a
worker thread, a progress bar). When the network has no shortcut to remove the plan says so
(``identical``) and the caller tells the person instead of training the same network twice.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from explorer.graph.model import Graph
from explorer.network.twins import TwinChange, plain_twin
from explorer.train.config import TrainConfig

PLAIN = "plain"
RESIDUAL = "residual"


@dataclass(frozen=True)
class ComparisonRun:
    role: str              # PLAIN or RESIDUAL
    arch: str              # the name the run is shown and saved under
    graph: Graph
    config: TrainConfig    # the plan's settings; only out_dir differs, so the two runs never share files


@dataclass(frozen=True)
class ComparisonPlan:
    arch: str
    config: TrainConfig                  # the settings (and seed) both runs use
    runs: tuple[ComparisonRun, ...]      # in the order they train
    changes: tuple[TwinChange, ...]      # what the plain twin changed, in topological order

    @property
    def removed(self) -> tuple[TwinChange, ...]:
        return tuple(c for c in self.changes if c.removes_shortcut)

    @property
    def identical(self) -> bool:
        """The twin is the network itself: there was no shortcut to remove."""
        return not self.removed

    def run(self, role: str) -> ComparisonRun:
        return next(r for r in self.runs if r.role == role)

    def describe(self, limit: int = 3) -> str:
        """One line for the person: what is compared and what the twin changed (the first ``limit``)."""
        if self.identical:
            return (f"'{self.arch}' has no shortcuts to remove, so its plain twin would be the same network "
                    "and the comparison would train it twice")
        texts = [c.text for c in self.changes]
        shown = "; ".join(texts[:limit]) + ("; …" if len(texts) > limit else "")
        n = len(self.removed)   # nodes (a stage of blocks counts once), not single shortcuts
        return f"comparing {self.arch} with its plain twin (shortcuts removed from {n} node{'s' * (n != 1)}: {shown})"


def plan_comparison(graph: Graph, config: TrainConfig, arch: str | None = None) -> ComparisonPlan:
    """The plan for comparing ``graph`` with its plain twin under ``config``; ``graph`` is not modified."""
    arch = arch or graph.name or "network"
    twin, changes = plain_twin(graph)
    # The plain twin trains first, so the network the person built is the last one on screen.
    runs = tuple(ComparisonRun(role, name, g, _config_for(config, role))
                 for role, name, g in ((PLAIN, f"{arch} (plain twin)", twin), (RESIDUAL, arch, graph.copy())))
    return ComparisonPlan(arch, config, runs, tuple(changes))


def _config_for(config: TrainConfig, role: str) -> TrainConfig:
    if config.out_dir is None:
        return config.replace()
    return config.replace(out_dir=str(Path(config.out_dir) / role))
