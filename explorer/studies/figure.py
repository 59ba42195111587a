"""The study's pictures: depth.png (training and validation error against depth, plain and residual in two
colours, mean over seeds with error bars and a band: He et al.'s Fig. 6) and the per-trial loss curves
(coloured by depth, plain in reds, residual in blues), both as PNG bytes."""
from __future__ import annotations

import csv
from pathlib import Path

from explorer.studies.folder import FIGURE_FILE, StudyFolder
from explorer.studies.plot import Series, line_chart, png_bytes, side_by_side
from explorer.studies.study import Study
from explorer.studies.summary import summary_rows
from explorer.util.atomic import write_atomic

PLAIN_COLOR = (214, 69, 65)
RESIDUAL_COLOR = (45, 110, 190)
MAX_CURVE_POINTS = 2000


def depth_figure_png(study: Study) -> bytes:
    rows = summary_rows(study)
    depths = sorted({r["depth"] for r in rows})
    panels = []
    for key, title in (("train", "training error"), ("val", "validation error")):
        series = []
        for plain, label, color in ((True, "plain", PLAIN_COLOR), (False, "residual", RESIDUAL_COLOR)):
            pts = [r for r in rows if r["plain"] == plain and r[f"{key}_err_mean"] is not None]
            if pts:
                series.append(Series(label, color, [r["depth"] for r in pts],
                                     [100 * r[f"{key}_err_mean"] for r in pts],
                                     [100 * r[f"{key}_err_std"] for r in pts]))
        panels.append(line_chart(series, f"{title} against depth", "depth (weight layers)", "error (%)",
                                 x_ticks=depths or None, y_from_zero=True))
    return png_bytes(side_by_side(panels))


def write_depth_figure(study: Study, folder) -> Path:
    path = Path(folder) / FIGURE_FILE
    write_atomic(path, depth_figure_png(study))
    return path


def loss_curves(study: Study, folder) -> dict[str, tuple[list[float], list[float]]]:
    """Each trial's training loss by step, from its run folder's steps.csv (trials without one left out)."""
    curves = {}
    for t in study.trials:
        path = StudyFolder(folder).trial_dir(t.id) / "steps.csv"
        try:
            with open(path, newline="", encoding="utf-8") as f:
                rows = [(float(r["step"]), float(r["loss"])) for r in csv.DictReader(f)]
        except (OSError, KeyError, ValueError, csv.Error):
            continue
        rows = rows[:: max(1, len(rows) // MAX_CURVE_POINTS)]
        curves[t.id] = ([s for s, _ in rows], [v for _, v in rows])
    return curves


def depth_color(depth: int, depths: list[int], plain: bool) -> tuple[int, int, int]:
    """Light for shallow, dark for deep; reds for plain, blues for residual."""
    i = depths.index(depth) if depth in depths else 0
    f = 0.35 + 0.65 * (i / max(1, len(depths) - 1))
    base = PLAIN_COLOR if plain else RESIDUAL_COLOR
    return tuple(int(255 - (255 - c) * f) for c in base)


def loss_curves_png(study: Study, folder) -> bytes:
    curves = loss_curves(study, folder)
    depths = sorted({t.depth for t in study.trials})
    series, labelled = [], set()
    for t in study.trials:
        if t.id in curves:
            key = (t.depth, t.plain)
            label = "" if key in labelled else f"{'plain' if t.plain else 'residual'} {t.depth}"
            labelled.add(key)
            xs, ys = curves[t.id]
            series.append(Series(label, depth_color(t.depth, depths, t.plain), xs, ys, markers=False, width=1))
    return png_bytes(line_chart(series, "training loss of every trial", "step", "loss", size=(900, 420)))
