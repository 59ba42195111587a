"""Reading a run's ``provenance.json`` (where its weights came from), without torch: ``info RUN_DIR`` shows it
and stays a fraction of a second. fine_tuning.py writes the file."""
from __future__ import annotations

import json
from pathlib import Path

from explorer.util.untrusted import UntrustedInputError, read_regular_file

PROVENANCE = "provenance.json"


def read_provenance(run_dir: str | Path) -> dict | None:
    """The run's provenance, or None when it has none (a run from scratch, an older run)."""
    path = Path(run_dir) / PROVENANCE
    if not path.is_file():
        return None
    try:
        data = json.loads(read_regular_file(path, 1 << 20, "provenance"))
    except (UntrustedInputError, ValueError, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) else None
