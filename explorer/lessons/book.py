"""The lessons document: which lessons a person ran, with what verdict, and where each run's files are.

A folder holding ``lessons.json`` (the index, written atomically after every run) and one sub-folder per
run (what ``run_lesson`` writes: ``lesson.json``, the run folders and the run records), so nothing a run
produced is lost and the window can show a lesson's last result again after a restart. A damaged index
is set aside (renamed ``lessons.json.damaged``) with one message, and the runs' folders stay untouched.
"""
from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from explorer.lessons.runner import RESULT_FILE
from explorer.util import strict_json
from explorer.util.atomic import write_atomic

INDEX = "lessons.json"
FORMAT = "residual-explorer-lessons"
MAX_INDEX_BYTES = 8 * 2**20


@dataclass(frozen=True)
class Entry:
    lesson: int
    folder: str          # the run's sub-folder name
    verdict: str
    size: str            # "default" or "full"
    variation: str       # "" for the lesson as written
    when: float

    @classmethod
    def from_json(cls, d) -> "Entry":
        if not isinstance(d, dict):
            raise ValueError("an entry is not an object")
        e = cls(d.get("lesson"), d.get("folder"), d.get("verdict"), d.get("size"), d.get("variation", ""),
                d.get("when"))
        ok = (isinstance(e.lesson, int) and not isinstance(e.lesson, bool) and isinstance(e.folder, str)
              and e.folder and "/" not in e.folder and "\\" not in e.folder and not e.folder.startswith(".")
              and all(isinstance(v, str) for v in (e.verdict, e.size, e.variation))
              and isinstance(e.when, (int, float)) and not isinstance(e.when, bool))
        if not ok:
            raise ValueError(f"a bad entry: {d!r:.80}")
        return e


class LessonBook:
    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self.entries: list[Entry] = []
        self.problem = ""
        self._load()

    def _load(self) -> None:
        path = self.folder / INDEX
        if not path.is_file():
            return
        try:
            if path.stat().st_size > MAX_INDEX_BYTES:
                raise ValueError("it is too large")
            data = strict_json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("runs"), list):
                raise ValueError("it is not a lessons index")
            self.entries = [Entry.from_json(d) for d in data["runs"]]
        except (OSError, ValueError, RecursionError) as e:
            self.entries = []
            damaged = path.with_name(INDEX + ".damaged")
            path.replace(damaged)
            self.problem = f"{path} could not be read ({e}); it was kept as {damaged.name} and a new index started"

    def new_folder(self, number: int) -> Path:
        """A fresh sub-folder for a run of lesson ``number``."""
        stamp = time.strftime("%Y%m%d-%H%M%S")
        for i in range(1000):
            path = self.folder / f"lesson{number:02d}-{stamp}" if i == 0 else self.folder / f"lesson{number:02d}-{stamp}-{i}"
            if not path.exists():
                path.mkdir(parents=True)
                return path
        raise OSError(f"no free run folder for lesson {number} in {self.folder}")

    def add(self, result: dict, folder: Path) -> Entry:
        """Record a finished run (``result`` as ``LessonResult.to_json`` gives it) and save the index."""
        entry = Entry(int(result["lesson"]), Path(folder).name, str(result["verdict"]), str(result["size"]),
                      str(result.get("variation") or ""), time.time())
        self.entries.append(entry)
        self.folder.mkdir(parents=True, exist_ok=True)
        write_atomic(self.folder / INDEX, json.dumps({"format": FORMAT, "version": 1,
                                                     "runs": [asdict(e) for e in self.entries]}, indent=1))
        return entry

    def runs_of(self, number: int) -> list[Entry]:
        return [e for e in self.entries if e.lesson == number]

    def latest(self, number: int) -> Entry | None:
        runs = self.runs_of(number)
        return runs[-1] if runs else None

    def result(self, entry: Entry) -> dict | None:
        """The saved result of a run, or None when its folder no longer holds one."""
        path = self.folder / entry.folder / RESULT_FILE
        try:
            data = strict_json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError):
            return None
        return data if isinstance(data, dict) else None

    def records_folder(self, entry: Entry) -> Path:
        return self.folder / entry.folder / "records"
