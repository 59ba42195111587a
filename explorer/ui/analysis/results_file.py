"""Analysis results saved beside what they were computed on, so they reappear when the document reopens.

One JSON file per target: ``analysis.json`` inside a run folder (beside its graph.json and last.pt),
``<id>.analysis.json`` beside a listed run's ``<id>.run.json``, and ``graph.analysis.json`` in the
document's runs folder for the document's own graph (that file also remembers the run folders analysed
from this document). Written atomically; read back as untrusted input: a bad file is reported and
skipped, never fatal. The fields inside each tool's result are checked by the view that shows it (with
the helpers below), so a fresh result and a reloaded one take the same path.
"""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from explorer.util import strict_json
from explorer.util.atomic import write_atomic
from explorer.util.untrusted import UntrustedInputError, finite_number, read_regular_file, text

FORMAT = "residual-explorer-analysis"
VERSION = 1
MAX_BYTES = 64 * 2**20
MAX_ITEMS = 100_000       # rows in one result list (a 1,000-layer network has ~500 units)


class Results:
    """The saved results of one target: tool name -> result object, plus the run folders remembered."""

    def __init__(self, path: Path | None):
        self.path = path
        self.by_tool: dict[str, dict] = {}
        self.run_folders: list[str] = []
        self.selected = ""            # the target last analysed from this document ("folder:<path>", ...)

    def save(self) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        doc = {"format": FORMAT, "version": VERSION, "results": self.by_tool, "run_folders": self.run_folders,
               "selected": self.selected}
        write_atomic(self.path, strict_json.dumps(doc))  # NaN and infinities as null


def load_results(path: Path | None) -> Results:
    """The results saved at ``path`` (none when there is no file); UntrustedInputError for a bad file."""
    res = Results(path)
    if path is None or not path.exists():
        return res
    raw = read_regular_file(path, MAX_BYTES, "analysis results file")
    try:
        doc = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise UntrustedInputError(f"{path}: not a JSON file ({e})") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise UntrustedInputError(f"{path}: not a Residual Explorer analysis file")
    if doc.get("version") != VERSION:
        raise UntrustedInputError(f"{path}: analysis format version {doc.get('version')!r}; this app reads "
                                  f"version {VERSION}")
    results = doc.get("results", {})
    if not isinstance(results, dict):
        raise UntrustedInputError(f"{path}: 'results' must be an object of tool name → result")
    res.by_tool = {text(k, "a tool name", 100): obj(v, f"the '{k}' result") for k, v in results.items()}
    res.run_folders = [text(p, "a run folder", 4096) for p in items(doc.get("run_folders", []), "'run_folders'")]
    res.selected = text(doc.get("selected", ""), "'selected'", 4200)
    return res


# -- checked reading of one result's fields -------------------------------------------------------------
def obj(value: Any, what: str) -> dict:
    if not isinstance(value, dict):
        raise UntrustedInputError(f"{what} must be an object")
    return value


def items(value: Any, what: str) -> list:
    if not isinstance(value, list):
        raise UntrustedInputError(f"{what} must be a list")
    if len(value) > MAX_ITEMS:
        raise UntrustedInputError(f"{what} has {len(value):,} entries (at most {MAX_ITEMS:,})")
    return value


def number(value: Any, what: str) -> float:
    """A finite number, or NaN where the result had none (saved as null)."""
    return math.nan if value is None else finite_number(value, what)


def numbers(d: dict, key: str, what: str = "") -> list[float]:
    return [number(v, f"{what or key} value") for v in items(d.get(key), f"'{key}'")]


def label(d: dict, key: str, default: str | None = None) -> str:
    if default is not None and d.get(key) is None:
        return default
    return text(d.get(key), f"'{key}'", 10_000)


def column(rows: list, key: str, what: str) -> list[float]:
    return [number(obj(r, what).get(key), f"{what} '{key}'") for r in rows]


def table_rows(rows: list, keys: list[str], what: str) -> list[list[float]]:
    """``rows`` as a table: one list of the ``keys``' checked numbers per row (a view's CSV)."""
    return [list(r) for r in zip(*(column(rows, k, what) for k in keys))]


def finite_column(rows: list, key: str, what: str) -> list[float]:
    """Like ``column``, but every value must be there and finite (what a plot needs to place a mark)."""
    return [finite_number(obj(r, what).get(key), f"{what} '{key}'") for r in rows]


def names(rows: list, key: str, what: str) -> list[str]:
    return [text(obj(r, what).get(key), f"{what} '{key}'", 200) for r in rows]
