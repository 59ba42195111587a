"""List the named architectures by family, optionally with their parameter and MAC counts.

Counts come from shape inference on the graph (the cost model), so listing them needs no torch.
"""
from __future__ import annotations

from explorer.graph.shapes import fmt_shape
from explorer.network.inference import analyze
from explorer.presets import build_preset, list_presets
from explorer.util import strict_json


def add_arguments(p) -> None:
    p.add_argument("--json", action="store_true", help="print one JSON list (with the counts)")
    p.add_argument("--counts", action="store_true",
                   help="also show parameters and multiply-accumulates per sample (a second or two)")


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
        print(strict_json.dumps(rows, indent=1))
        return 0
    families: dict[str, list[dict]] = {}
    for r in rows:
        families.setdefault(r["family"], []).append(r)
    width = max(len(r["name"]) for r in rows)
    for i, (family, members) in enumerate(families.items()):
        print(("\n" if i else "") + f"{family} ({len(members)})")
        for r in members:
            counts = f"{r['params']:>13,} params {r['macs']:>15,} MACs  " if args.counts else ""
            print(f"  {r['name']:<{width}} {fmt_shape(r['input_shape']):>10}  {counts}{r['description']}")
    return 0
