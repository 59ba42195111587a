"""Which runs of a project are ticked to overlay, kept beside its run records (``overlay.json``) so the
ticks come back when the document reopens. Read as untrusted input: a bad file means no ticks, never an
error. No Qt."""
from __future__ import annotations

import json
from pathlib import Path

from explorer.util.atomic import write_atomic
from explorer.util.untrusted import UntrustedInputError, read_regular_file

FILE = "overlay.json"
MAX_BYTES = 1 << 20


def save_overlay(folder: Path, run_ids) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    write_atomic(folder / FILE, json.dumps({"overlay": sorted(run_ids)}))


def load_overlay(folder: Path) -> set[str]:
    """The ticked run ids saved in ``folder`` (empty when there is no file or it is not ours)."""
    path = folder / FILE
    if not path.is_file():
        return set()
    try:
        data = json.loads(read_regular_file(path, MAX_BYTES, "overlay file"))
    except (UntrustedInputError, ValueError, RecursionError, OSError):
        return set()
    ids = data.get("overlay") if isinstance(data, dict) else None
    return {i for i in ids if isinstance(i, str)} if isinstance(ids, list) else set()
