"""List the named architectures with their parameter counts."""
from __future__ import annotations

import json

from explorer.network.inference import analyze
from explorer.graph.shapes import fmt_shape
from explorer.presets import build_preset, list_presets


def add_arguments(p) -> None:
    p.add_argument("--json", action="store_true", help="print one JSON list")
    p.add_argument("--counts", action="store_true", help="also compute parameters and MACs (slower)")


def run(args) -> int:
    rows = []
    for info in list_presets():
        row = {"name": info.name, "family": info.family, "input_shape": list(info.input_shape),
               "num_classes": info.num_classes, "description": info.description}
        if args.counts or args.json:
            a = analyze(build_preset(info.name))
            row.update(params=a.total.params, macs=a.total.macs, layers=a.total.weight_layers)
        rows.append(row)
    if args.json:
        print(json.dumps(rows, indent=1))
        return 0
    for r in rows:
        extra = f"{r['params']:>13,}  " if "params" in r else ""
        print(f"{r['name']:<20} {fmt_shape(r['input_shape']):>10}  {extra}{r['description']}")
    return 0
