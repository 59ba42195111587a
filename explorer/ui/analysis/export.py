"""Export what a tool view shows: its picture (PNG, legend and notes included) and its data (CSV)."""
from __future__ import annotations

import csv
import math
from pathlib import Path

from PySide6.QtWidgets import QWidget


class ExportError(OSError):
    pass


def export_png(view: QWidget, path: str | Path) -> Path:
    path = Path(path)
    if path.suffix.lower() != ".png":
        path = path.with_suffix(".png")
    if not view.grab().save(str(path), "PNG"):
        raise ExportError(f"could not write {path}; check the folder exists and is writable")
    return path


def export_csv(header: list[str], rows: list[list], path: str | Path) -> int:
    """Write the table; NaN cells stay empty. Returns the number of data rows."""
    path = Path(path)
    if path.suffix.lower() != ".csv":
        path = path.with_suffix(".csv")
    try:
        with open(path, "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(header)
            for r in rows:
                w.writerow(["" if isinstance(v, float) and math.isnan(v) else
                            (f"{v:.8g}" if isinstance(v, float) else v) for v in r])
    except OSError as e:
        raise ExportError(f"could not write {path} ({e.strerror or e}); choose another folder") from None
    return len(rows)
