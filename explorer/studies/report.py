"""report.html: one self-contained page (images embedded as base64, no scripts, nothing fetched) with the
verdict, the figure, the summary and trial tables, the settings, the per-trial loss curves and the versions."""
from __future__ import annotations

import base64
import html
from pathlib import Path

from explorer.studies.figure import depth_figure_png, loss_curves_png
from explorer.studies.runner import describe_spec
from explorer.studies.study import Study
from explorer.studies.summary import summary_rows, verdict
from explorer.studies.trial import FIELDS
from explorer.util.atomic import write_atomic

STYLE = ("body{font-family:sans-serif;margin:2em;color:#222;max-width:1100px}table{border-collapse:collapse;"
         "margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}th{background:#f3f3f3}"
         "td.l,th.l{text-align:left}.verdict{font-size:1.1em;background:#f6f8fc;padding:.8em;border-left:4px solid "
         "#2d6ebe}img{max-width:100%}")


def _cell(v) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:.4g}"
    return html.escape(str(v))


def _table(rows: list[dict], columns: list[str]) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{_cell(r.get(c))}</td>" for c in columns) + "</tr>" for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _image(png: bytes, alt: str) -> str:
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{base64.b64encode(png).decode("ascii")}">'


def report_html(study: Study, folder) -> str:
    spec = study.spec
    settings = [{"setting": "study", "value": f"{spec.kind}: {describe_spec(spec)}"},
                {"setting": "data set", "value": spec.dataset + "".join(f" {k}={v}" for k, v in
                                                                        sorted(spec.data_options.items()))},
                {"setting": "validation fraction", "value": spec.val_fraction}]
    settings += [{"setting": k, "value": v} for k, v in sorted(spec.config.items())]
    versions = [{"package": k, "version": v} for k, v in sorted(study.versions.items())]
    counts = ", ".join(f"{n} {s}" for s, n in study.counts().items() if n)
    parts = [
        "<!DOCTYPE html>", "<html><head><meta charset=\"utf-8\">",
        f"<title>Study: {html.escape(describe_spec(spec))}</title><style>{STYLE}</style></head><body>",
        f"<h1>Study: {html.escape(describe_spec(spec))}</h1>",
        f"<p class=\"verdict\" id=\"verdict\">{html.escape(verdict(study))}</p>",
        f"<p>Trials: {html.escape(counts)}.</p>",
        "<h2>Error against depth</h2>", _image(depth_figure_png(study), "error against depth"),
        "<h2>Summary (mean and standard deviation over seeds; errors as fractions)</h2>",
        _table(summary_rows(study), ["arch", "depth", "plain", "train_err_mean", "train_err_std", "val_err_mean",
                                     "val_err_std", "n"]),
        "<h2>Trials</h2>", _table([t.row() for t in study.trials], list(FIELDS)),
        "<h2>Training loss of every trial</h2>", _image(loss_curves_png(study, folder), "loss curves"),
        "<h2>Settings</h2>", _table(settings, ["setting", "value"]),
        "<h2>Versions</h2>", _table(versions, ["package", "version"]),
    ]
    notices = "".join(f"<li>{html.escape(n)}</li>" for n in study.notices)
    if notices:
        parts.append(f"<h2>Notes</h2><ul>{notices}</ul>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def write_report(study: Study, folder, path) -> Path:
    out = Path(path)
    write_atomic(out, report_html(study, folder))
    return out
