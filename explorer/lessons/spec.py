"""What a lesson is, as plain data: its page, its networks, its tool and settings, its check and what to try next.

A lesson file (``resources/lessons/*.toml`` or ``*.md`` with a TOML header) is read into these records by
``explorer.lessons.loader``; the runner turns them into trainings and measurements. Nothing here runs
anything, so the window can list lessons without importing torch.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

VERDICTS = ("reproduced", "not reproduced", "inconclusive")

# The tools a lesson can run (explorer.lessons.tools), and the measurements that can follow a training.
TOOLS = ("train", "compare", "study", "depth-sweep", "degeneracy")
ANALYSES = ("lesion", "paths", "landscape", "gates")
OPS = (">", "<", ">=", "<=")  # strict ones need the margin passed; ">=" and "<=" allow it
SCALES = ("linear", "log10")


class LessonError(ValueError):
    """A lesson file that cannot be used; the message names the file, the field and the fix."""


@dataclass(frozen=True)
class Stage:
    """One node of a network built from stages: ``block`` repeated ``repeat`` times with ``params``."""
    block: str
    repeat: int
    params: dict


@dataclass(frozen=True)
class NetworkSpec:
    """How a lesson names a network: exactly one of a preset, a family at a depth, stages, or a graph file.
    ``set`` gives a parameter to every node whose block declares it (e.g. shortcut = "projection")."""
    name: str
    preset: str | None = None
    family: str | None = None
    depth: int | None = None
    stages: tuple[Stage, ...] = ()
    stem: int = 16
    head_preact: bool = False
    file: str | None = None
    set: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Expectation:
    """``left op right`` (right a measured name or a number), on the ``scale`` (linear difference, or orders
    of magnitude for log10). ``>``/``<``: must hold by more than ``margin`` (within it is noise at this
    size); ``>=``/``<=``: "not lower/higher", so it holds unless it is past the margin the other way."""
    says: str
    left: str
    op: str
    right: str | float
    margin: float = 0.0
    scale: str = "linear"


@dataclass(frozen=True)
class Check:
    paper: str                          # "What the paper reports", in words with its numbers
    rule: str                           # why these numbers and margins decide the verdict
    expect: tuple[Expectation, ...]


@dataclass(frozen=True)
class TryNext:
    label: str
    settings: dict = field(default_factory=dict)     # changes to the lesson's settings
    networks: tuple[NetworkSpec, ...] = ()           # replaces the lesson's networks when given


@dataclass(frozen=True)
class Lesson:
    number: int
    title: str
    paper: str
    text: str                           # the page: 3-6 plain sentences
    tool: str
    networks: tuple[NetworkSpec, ...]
    settings: dict                      # the default (laptop CPU) size
    full: dict                          # changes for the full size
    check: Check
    try_next: tuple[TryNext, ...] = ()
    view: str = ""                      # which result view the window opens ("" = the tool's own)
    source: Path | None = None

    def settings_for(self, full: bool = False, changes: dict | None = None) -> dict:
        """The settings of one run: the default size, or the full size, with ``changes`` on top."""
        return {**self.settings, **(self.full if full else {}), **(changes or {})}

    def summary(self) -> dict:
        """What ``lesson list --json`` prints for it."""
        return {"number": self.number, "title": self.title, "paper": self.paper}
