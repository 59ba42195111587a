"""The note's argument as guided experiments: list the lessons, or run one headless and check it.

`lesson list` shows each lesson's number, title and paper; `lesson run N --out DIR` builds its networks,
runs its tool at a size that finishes in a few minutes on a laptop CPU (`--full` for the papers' size),
and prints what the paper reports next to what this run measured, with a verdict: reproduced, not
reproduced (at this size) or inconclusive. `--try K` runs the lesson's K-th "try next" variation.
Lessons are data files (resources/lessons/*.toml or *.md); `--lessons DIR` adds a folder of your own.
"""
from __future__ import annotations

import signal
import sys
from pathlib import Path

from explorer.cli import UserError
from explorer.cli.ctrl_c import cancel_on_ctrl_c
from explorer.util import strict_json


def add_arguments(p) -> None:
    import argparse
    p.formatter_class = argparse.RawDescriptionHelpFormatter
    p.epilog = ("Examples:\n  python main.py lesson list\n  python main.py lesson run 1 --out lessons/1\n"
                "  python main.py lesson run 3 --try 1 --json --out lessons/3-projection")
    p.add_argument("action", metavar="ACTION", choices=("list", "run"), help="list or run")
    p.add_argument("number", metavar="N", nargs="?", type=int, help="run: the lesson's number (see `lesson list`)")
    p.add_argument("--out", metavar="DIR", help="run: where the lesson's runs and lesson.json go (required)")
    p.add_argument("--full", action="store_true", help="run: the papers' size (longer training; can take an hour "
                                                      "on a CPU) instead of the default laptop size")
    p.add_argument("--try", dest="variation", type=int, metavar="K",
                   help="run: the lesson's K-th \"try next\" variation instead of the lesson as written")
    p.add_argument("--lessons", action="append", default=[], metavar="DIR",
                   help="also read lessons from this folder (repeatable); one with a built-in lesson's number "
                        "replaces it")
    p.add_argument("--json", action="store_true",
                   help='list: [{"number", "title", "paper"}]; run: one object {"lesson", "claim", "paper", '
                        '"measured": {...}, "verdict": "reproduced|not reproduced|inconclusive", "why", ...}')


def run(args) -> int:
    from explorer.lessons.loader import find_lesson, load_lessons
    from explorer.lessons.spec import LessonError

    try:
        lessons = load_lessons(args.lessons)
        if args.action == "list":
            return _list(lessons, args)
        if args.number is None:
            raise UserError("lesson run: name the lesson's number, e.g. `lesson run 1 --out DIR`")
        if not args.out:
            raise UserError("lesson run: --out DIR is required (the lesson's runs and result go there)")
        lesson = find_lesson(args.number, lessons)
        return _run(lesson, args)
    except LessonError as e:
        raise UserError(str(e)) from None


def _list(lessons, args) -> int:
    if args.number is not None or args.out or args.full or args.variation is not None:
        raise UserError("lesson list takes no number, --out, --full or --try")
    if args.json:
        print(strict_json.dumps([lesson.summary() for lesson in lessons], indent=1))
        return 0
    for lesson in lessons:
        print(f"{lesson.number:>3}  {lesson.title}\n     {lesson.paper}")
    return 0


def _run(lesson, args) -> int:
    from explorer.analysis.control import Cancelled
    from explorer.lessons.control import LessonControl
    from explorer.lessons.runner import run_lesson, variation_of
    from explorer.train.progress import Progress

    variation = variation_of(lesson, args.variation) if args.variation is not None else None
    _check_out(Path(args.out), lesson.number)
    progress = Progress(sys.stderr)
    control = LessonControl(on_progress=progress.count)
    print(f"lesson {lesson.number}: {lesson.title}" + (f" — {variation.label}" if variation else ""),
          file=sys.stderr)
    previous = cancel_on_ctrl_c(control, "cancelling the lesson")
    try:
        result = run_lesson(lesson, args.out, full=args.full, variation=variation, control=control)
    except Cancelled:
        print("error: interrupted", file=sys.stderr)
        return 130
    finally:
        progress.clear()
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
    if args.json:
        print(strict_json.dumps(result.to_json()))
    else:
        print(page(result))
    return 0


def _check_out(out: Path, number: int) -> None:
    """Run again into a lesson's own folder, else into a new or unrelated one: never over another lesson's
    lesson.json, into a study's folder or a run's (their commands would then refuse or misread them)."""
    import json

    from explorer.lessons.runner import RESULT_FILE
    if (out / "study.json").is_file() or (out / "last.pt").is_file():
        what = "a study's" if (out / "study.json").is_file() else "a run's"
        raise UserError(f"{out} is {what} folder, not a lesson's: choose another --out folder")
    result = out / RESULT_FILE
    if result.exists():
        try:  # a result is a few kB: anything far larger, or no regular file, is no lesson's
            small = result.is_file() and result.stat().st_size < (1 << 20)
            theirs = json.loads(result.read_text(encoding="utf-8")).get("lesson") if small else None
        except (OSError, ValueError, AttributeError):
            theirs = None
        if theirs != number:
            whose = f"lesson {theirs}'s" if isinstance(theirs, int) else "a file that is no lesson result"
            raise UserError(f"{result} is {whose}; lesson {number} would replace it: choose another --out folder")


def page(result) -> str:
    """The result as a person reads it: the claim, the paper's numbers, this run's, the verdict."""
    lesson = result.lesson
    lines = [f"Lesson {lesson.number}: {lesson.title}", f"({lesson.paper})", "",
             " ".join(lesson.text.split()), "", f"What the paper reports: {lesson.check.paper}", "",
             "What you got:"]
    lines += [f"  {o.text}" for o in result.verdict.outcomes]
    lines += ["", f"Verdict: {result.verdict.verdict} ({result.size} size, {result.seconds:.0f} s)", "",
              "Try next:"] + [f"  --try {i}: {t.label}" for i, t in enumerate(lesson.try_next, 1)]
    return "\n".join(lines)
