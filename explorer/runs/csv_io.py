"""Plot data as CSV: curves in long form (one row per point) and heatmaps as a step × layer table.

Long form because overlaid runs have different step grids; every spreadsheet and pandas reads it as is.
"""
from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Iterable, Sequence


def _num(v) -> str:
    v = float(v)
    return "" if math.isnan(v) else f"{v:.8g}"


def _cell(v):
    if isinstance(v, float):
        return _num(v)
    return v


def write_table_csv(path: str | Path, header: Sequence[str], rows: Iterable[Sequence]) -> int:
    """A plain table: floats as numbers (NaN empty), anything else as it is. Returns the row count."""
    n = 0
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        for row in rows:
            w.writerow([_cell(v) for v in row])
            n += 1
    return n


def write_curves_csv(path: str | Path, curves: Iterable[tuple[str, str, Sequence[float], Sequence[float]]],
                     x_name: str = "x", y_name: str = "y") -> int:
    """``curves``: (run name, series name, xs, ys). Returns the number of data rows written."""
    n = 0
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["run", "series", x_name, y_name])
        for run, series, xs, ys in curves:
            for x, y in zip(xs, ys):
                w.writerow([run, series, _num(x), _num(y)])
                n += 1
    return n


def write_matrix_csv(path: str | Path, corner: str, columns: Sequence[str], row_labels: Sequence[float],
                     rows: Iterable[Sequence[float]]) -> int:
    """A table: header ``corner, columns...``; each row ``label, values...``. Returns the row count."""
    n = 0
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow([corner, *columns])
        for label, row in zip(row_labels, rows):
            w.writerow([_num(label), *(_num(v) for v in row)])
            n += 1
    return n
