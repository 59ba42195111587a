"""Run a lesson: build its networks, run its tool at the chosen size, check the numbers, keep the result.

``run_lesson`` is what ``lesson run`` and the window's "Run this experiment" button call. It writes the
lesson's folder: ``lesson.json`` (the result, strict JSON, written atomically), ``runs/`` or ``compare/``
(run folders as ``train --out`` writes them) and ``records/`` (run records the window's run list opens).
``tools`` can be replaced (a test's fast fake); the check never sees anything but the tool's numbers.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from explorer.lessons.check import Verdict, verdict
from explorer.lessons.control import LessonControl
from explorer.lessons.networks import build_network
from explorer.lessons.spec import Lesson, LessonError, NetworkSpec, TryNext
from explorer.lessons.tools import TOOLS, ToolResult, cost
from explorer.util import strict_json

RESULT_FILE = "lesson.json"


@dataclass
class LessonResult:
    lesson: Lesson
    size: str                       # "default" or "full"
    settings: dict
    measured: dict
    verdict: Verdict
    details: dict = field(default_factory=dict)
    tool: ToolResult | None = None
    seconds: float = 0.0
    variation: str = ""             # the "try next" label, when one was run

    def to_json(self) -> dict:
        """The object ``lesson run --json`` prints: strict JSON (numbers that are not finite become null)."""
        return strict_json.plain({
            "lesson": self.lesson.number, "title": self.lesson.title, "claim": self.lesson.text,
            "paper": self.lesson.paper, "paper_reports": self.lesson.check.paper, "size": self.size,
            "variation": self.variation or None, "settings": self.settings, "measured": self.measured,
            "verdict": self.verdict.verdict, "why": self.verdict.why, "summary": self.verdict.summary,
            "expectations": [o.to_json() for o in self.verdict.outcomes],
            "runs": [t.run_dir for t in (self.tool.trained if self.tool else [])],
            "seconds": self.seconds, "details": self.details})


def networks_of(lesson: Lesson, variation: TryNext | None = None) -> list[tuple[str, object]]:
    folder = lesson.source.parent if lesson.source else None
    specs = variation.networks if variation is not None and variation.networks else lesson.networks
    return [(s.name, build_network(s, folder)) for s in specs]


def run_lesson(lesson: Lesson, out_dir: str | Path, full: bool = False, variation: TryNext | None = None,
               control: LessonControl | None = None, tools=None) -> LessonResult:
    """Run ``lesson`` (optionally one of its "try next" variations) into ``out_dir`` and check it."""
    from explorer.runs.store import RunStore
    from explorer.util.atomic import write_atomic

    control = control or LessonControl()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    settings = lesson.settings_for(full, variation.settings if variation else None)
    start = time.perf_counter()
    nets = networks_of(lesson, variation)
    tool = (tools or TOOLS)[lesson.tool](nets, settings, out, control)
    measured = dict(tool.measured)
    for name in settings.get("inspect", []):
        graph = build_network(NetworkSpec(name=name, preset=name))
        measured.update({f"{name}.{k}": v for k, v in cost(graph).items()})
    size = "full size" if full else "the default (laptop) size"
    result = LessonResult(lesson, "full" if full else "default", settings, measured,
                          verdict(lesson.check, measured, size), tool.details, tool,
                          time.perf_counter() - start, variation.label if variation else "")
    store = RunStore(out / "records")
    for t in tool.trained:
        store.save(t.record)
    write_atomic(out / RESULT_FILE, strict_json.dumps(result.to_json(), indent=1))
    return result


def variation_of(lesson: Lesson, index: int) -> TryNext:
    """The lesson's "try next" entry number ``index`` (1-based), or one LessonError naming the choices."""
    if not 1 <= index <= len(lesson.try_next):
        choices = "; ".join(f"{i}: {t.label}" for i, t in enumerate(lesson.try_next, 1)) or "none"
        raise LessonError(f"lesson {lesson.number} has no variation {index} (its variations: {choices})")
    return lesson.try_next[index - 1]
