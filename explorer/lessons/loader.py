"""Read lesson files: TOML (``NN-name.toml``) or Markdown with a TOML header between ``+++`` lines, whose
body is the lesson's page.

Every field is checked here, nested ones included, so a teacher's typo is one ``LessonError`` naming the
file, the field and what it accepts, never a traceback later in a run. The built-in lessons live in
``resources/lessons``; more folders can be given (``--lessons DIR``, or the window's extra folder), and
a lesson there with the number of a built-in one replaces it.
"""
from __future__ import annotations

import difflib
import math
import tomllib
from pathlib import Path
from typing import Any, Callable

from explorer.lessons.spec import (ANALYSES, OPS, SCALES, TOOLS, Check, Expectation, Lesson, LessonError,
                                   NetworkSpec, Stage, TryNext)

BUILTIN = Path(__file__).resolve().parents[2] / "resources" / "lessons"
SUFFIXES = (".toml", ".md")
MAX_BYTES = 256 * 1024
FENCE = "+++"


# -- small checked readers: each names the field it refuses -----------------------------------------------
def _need(ok: bool, where: str, what: str) -> None:
    if not ok:
        raise LessonError(f"{where}: {what}")


def _text(v: Any, where: str, empty: bool = False) -> str:
    _need(isinstance(v, str) and (empty or bool(v.strip())), where, f"must be {'a' if empty else 'non-empty'} text, "
                                                                     f"got {v!r}")
    return v.strip()


def _int(v: Any, where: str, lo: int = 0, hi: int = 10**9) -> int:
    _need(isinstance(v, int) and not isinstance(v, bool) and lo <= v <= hi, where,
          f"must be a whole number from {lo:,} to {hi:,}, got {v!r}")
    return v


def _num(v: Any, where: str, lo: float = -math.inf, hi: float = math.inf) -> float:
    ok = isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and lo <= v <= hi
    _need(ok, where, f"must be a finite number from {lo:g} to {hi:g}, got {v!r}")
    return float(v)


def _bool(v: Any, where: str) -> bool:
    _need(isinstance(v, bool), where, f"must be true or false, got {v!r}")
    return v


def _choice(v: Any, where: str, choices) -> str:
    _need(isinstance(v, str) and v in choices, where, f"must be one of {', '.join(choices)}, got {v!r}")
    return v


def _table(v: Any, where: str) -> dict:
    _need(isinstance(v, dict), where, f"must be a table, got {type(v).__name__}")
    return v


def _list(v: Any, where: str, item: Callable[[Any, str], Any], at_least: int = 1) -> list:
    _need(isinstance(v, list) and len(v) >= at_least, where, f"must be a list of at least {at_least}, got {v!r}")
    return [item(x, f"{where}[{i}]") for i, x in enumerate(v)]


def _known(d: dict, where: str, keys) -> None:
    for k in d:
        if k not in keys:
            close = difflib.get_close_matches(str(k), list(keys), n=1)
            hint = f"; did you mean '{close[0]}'?" if close else f"; the keys are {', '.join(keys)}"
            raise LessonError(f"{where}: unknown key '{k}'{hint}")


def _scalar(v: Any, where: str):
    _need(isinstance(v, (str, int, float, bool)) and not (isinstance(v, float) and not math.isfinite(v)), where,
          f"must be text, a number or true/false, got {v!r}")
    return v


# -- settings -------------------------------------------------------------------------------------------
def _odd_grid(v, where):
    n = _int(v, where, 3, 101)
    _need(n % 2 == 1, where, f"must be odd so the centre is the trained weights, got {n}")
    return n


SETTINGS: dict[str, Callable[[Any, str], Any]] = {
    "dataset": _text,
    "epochs": lambda v, w: _int(v, w, 1, 1000),
    "max_steps": lambda v, w: _int(v, w, 1, 10**7),
    "batch_size": lambda v, w: _int(v, w, 2, 4096),
    "lr": lambda v, w: _num(v, w, 1e-8, 10.0),
    "optimizer": lambda v, w: _choice(v, w, ("sgd", "adam", "adamw")),
    "seed": lambda v, w: _int(v, w, 0, 2**32 - 1),
    "train_samples": lambda v, w: _int(v, w, 10, 10**8),
    "stats_every": lambda v, w: _int(v, w, 0, 10**6),
    "log_every": lambda v, w: _int(v, w, 1, 10**6),
    "family": _text,
    "seeds": lambda v, w: _int(v, w, 1, 10),
    "depths": lambda v, w: sorted(set(_list(v, w, lambda x, ww: _int(x, ww, 3, 2000)))),
    "normalisation": lambda v, w: _list(v, w, _bool),
    "analyses": lambda v, w: _list(v, w, lambda x, ww: _choice(x, ww, ANALYSES), at_least=0),
    "inspect": lambda v, w: _list(v, w, _text, at_least=0),
    "measure_batch": lambda v, w: _int(v, w, 2, 4096),
    "grid": _odd_grid,
    "span": lambda v, w: _num(v, w, 1e-3, 100.0),
    "samples": lambda v, w: _int(v, w, 1, 1000),
}


def _settings(v: Any, where: str) -> dict:
    d = _table(v, where)
    _known(d, where, SETTINGS)
    return {k: SETTINGS[k](x, f"{where}.{k}") for k, x in d.items()}


# -- networks -------------------------------------------------------------------------------------------
NETWORK_KEYS = ("name", "preset", "family", "depth", "stages", "stem", "head_preact", "file", "set")


def _stage(v: Any, where: str) -> Stage:
    d = dict(_table(v, where))
    block = _text(d.pop("block", None), f"{where}.block")
    repeat = _int(d.pop("repeat", 1), f"{where}.repeat", 1, 1000)
    params = {k: _scalar(x, f"{where}.{k}") for k, x in d.items()}
    return Stage(block, repeat, params)


def _network(v: Any, where: str) -> NetworkSpec:
    d = _table(v, where)
    _known(d, where, NETWORK_KEYS)
    kinds = [k for k in ("preset", "family", "stages", "file") if k in d]
    _need(len(kinds) == 1, where, f"needs exactly one of preset, family (with depth), stages or file; got "
                                  f"{', '.join(kinds) or 'none'}")
    kind = kinds[0]
    default = d.get("preset") or (f"{d['family']}{d.get('depth')}" if kind == "family" else None)
    name = _text(d.get("name", default), f"{where}.name")
    _need("depth" not in d or kind == "family", f"{where}.depth", "goes with family only")
    spec = {"name": name,
            "set": {k: _scalar(x, f"{where}.set.{k}") for k, x in _table(d.get("set", {}), f"{where}.set").items()}}
    if kind == "preset":
        spec["preset"] = _text(d["preset"], f"{where}.preset")
    elif kind == "family":
        spec["family"] = _text(d["family"], f"{where}.family")
        spec["depth"] = _int(d.get("depth"), f"{where}.depth", 3, 2000)
    elif kind == "file":
        spec["file"] = _text(d["file"], f"{where}.file")
    else:
        spec["stages"] = tuple(_list(d["stages"], f"{where}.stages", _stage))
        spec["stem"] = _int(d.get("stem", 16), f"{where}.stem", 1, 4096)
        spec["head_preact"] = _bool(d.get("head_preact", False), f"{where}.head_preact")
    return NetworkSpec(**spec)


def _networks(v: Any, where: str) -> tuple[NetworkSpec, ...]:
    nets = tuple(_list(v, where, _network))
    names = [n.name for n in nets]
    dup = next((n for n in names if names.count(n) > 1), None)
    _need(dup is None, where, f"two networks are named '{dup}'; give each its own name")
    return nets


# -- the check and what to try next ---------------------------------------------------------------------
def _expectation(v: Any, where: str) -> Expectation:
    d = _table(v, where)
    _known(d, where, ("says", "left", "op", "right", "margin", "scale"))
    right = d.get("right")
    _need(isinstance(right, str) and bool(right.strip()) or
          (isinstance(right, (int, float)) and not isinstance(right, bool) and math.isfinite(right)),
          f"{where}.right", f"must name a measured number or be a finite number, got {right!r}")
    return Expectation(_text(d.get("says"), f"{where}.says"), _text(d.get("left"), f"{where}.left"),
                       _choice(d.get("op"), f"{where}.op", OPS), right.strip() if isinstance(right, str) else float(right),
                       _num(d.get("margin", 0.0), f"{where}.margin", 0.0, 1e6),
                       _choice(d.get("scale", "linear"), f"{where}.scale", SCALES))


def _check(v: Any, where: str) -> Check:
    d = _table(v, where)
    _known(d, where, ("paper", "rule", "expect"))
    return Check(_text(d.get("paper"), f"{where}.paper"), _text(d.get("rule"), f"{where}.rule"),
                 tuple(_list(d.get("expect"), f"{where}.expect", _expectation)))


def _try_next(v: Any, where: str) -> TryNext:
    d = _table(v, where)
    _known(d, where, ("label", "settings", "networks"))
    return TryNext(_text(d.get("label"), f"{where}.label"), _settings(d.get("settings", {}), f"{where}.settings"),
                   _networks(d["networks"], f"{where}.networks") if "networks" in d else ())


LESSON_KEYS = ("number", "title", "paper", "text", "tool", "view", "networks", "settings", "full", "check", "try_next")


def parse_lesson(data: Any, source: Path, body: str = "") -> Lesson:
    """A Lesson from a parsed TOML table; ``body`` (a Markdown file's text) is the page when given."""
    where = str(source)
    d = _table(data, where)
    _known(d, where, LESSON_KEYS)
    text = body.strip() if body.strip() else _text(d.get("text"), f"{where}: text")
    _need(not (body.strip() and "text" in d), where, "has both a Markdown body and a text key; keep one")
    lesson = Lesson(
        number=_int(d.get("number"), f"{where}: number", 1, 999),
        title=_text(d.get("title"), f"{where}: title"),
        paper=_text(d.get("paper"), f"{where}: paper"),
        text=text,
        tool=_choice(d.get("tool"), f"{where}: tool", TOOLS),
        networks=_networks(d.get("networks", []), f"{where}: networks") if d.get("networks") else (),
        settings=_settings(d.get("settings", {}), f"{where}: settings"),
        full=_settings(d.get("full", {}), f"{where}: full"),
        check=_check(d.get("check"), f"{where}: check"),
        try_next=tuple(_list(d.get("try_next", []), f"{where}: try_next", _try_next, at_least=0)),
        view=_text(d.get("view", ""), f"{where}: view", empty=True),
        source=source)
    by_family = lesson.tool in ("depth-sweep", "study")
    _need(bool(lesson.networks) or by_family, f"{where}: networks", f"the {lesson.tool} tool needs at least one network")
    _need(not by_family or "family" in lesson.settings, f"{where}: settings.family",
          f"the {lesson.tool} tool needs a family (a preset-name prefix such as resnet)")
    return lesson


def read_lesson(path: str | Path) -> Lesson:
    """One lesson file, checked."""
    path = Path(path)
    _need(path.suffix in SUFFIXES, str(path), f"a lesson file ends in {' or '.join(SUFFIXES)}")
    try:
        raw = path.read_bytes()[:MAX_BYTES + 1]
    except OSError as e:
        raise LessonError(f"{path}: cannot read it ({e.strerror or e})") from None
    _need(len(raw) <= MAX_BYTES, str(path), f"is larger than {MAX_BYTES // 1024} KiB; a lesson is a short page")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise LessonError(f"{path}: is not UTF-8 text") from None
    header, body = _split_markdown(text, path) if path.suffix == ".md" else (text, "")
    try:
        data = tomllib.loads(header)
    except tomllib.TOMLDecodeError as e:
        raise LessonError(f"{path}: not valid TOML ({e})") from None
    return parse_lesson(data, path, body)


def _split_markdown(text: str, path: Path) -> tuple[str, str]:
    lines = text.splitlines()
    _need(bool(lines) and lines[0].strip() == FENCE, str(path),
          f"a Markdown lesson starts with a TOML header between two '{FENCE}' lines")
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == FENCE)
    except StopIteration:
        raise LessonError(f"{path}: the TOML header has no closing '{FENCE}' line") from None
    return "\n".join(lines[1:end]), "\n".join(lines[end + 1:])


def lesson_files(folder: str | Path) -> list[Path]:
    folder = Path(folder)
    if not folder.is_dir():
        raise LessonError(f"{folder}: no such lessons folder")
    return sorted(p for p in folder.iterdir() if p.suffix in SUFFIXES and p.is_file() and not p.name.startswith("."))


def load_lessons(extra: list[str | Path] | tuple = (), builtin: Path | None = BUILTIN) -> list[Lesson]:
    """The built-in lessons and those in ``extra`` folders, by number; a later folder's lesson replaces an
    earlier one with the same number, and two files with one number in the same folder are refused."""
    by_number: dict[int, Lesson] = {}
    for folder in ([builtin] if builtin is not None else []) + [Path(f) for f in extra]:
        seen: dict[int, Path] = {}
        for path in lesson_files(folder):
            lesson = read_lesson(path)
            _need(lesson.number not in seen, str(path),
                  f"has number {lesson.number}, as {seen.get(lesson.number)} does; give each lesson its own number")
            seen[lesson.number] = path
            by_number[lesson.number] = lesson
    return [by_number[n] for n in sorted(by_number)]


def find_lesson(number: int, lessons: list[Lesson]) -> Lesson:
    for lesson in lessons:
        if lesson.number == number:
            return lesson
    numbers = ", ".join(str(x.number) for x in lessons)
    raise LessonError(f"no lesson {number}; the lessons are {numbers} (`python main.py lesson list`)")
