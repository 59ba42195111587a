"""Per-node table of output shapes, parameters and multiply-accumulates, with totals; for a run folder,
also where its weights came from (provenance.json: the source, the layers loaded, re-initialised, frozen)."""
from __future__ import annotations

from pathlib import Path

from explorer.arch import ArchError, load_arch, parse_shape
from explorer.blocks import get_block
from explorer.cli import UserError
from explorer.network.inference import analyze
from explorer.graph.shapes import fmt_shape
from explorer.util import strict_json


def add_arguments(p) -> None:
    p.add_argument("arch", metavar="ARCH", help="preset name (see `presets`), graph .json file or run folder")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--num-classes", type=int, help="override the number of classes")
    p.add_argument("--input-shape", metavar="C,H,W", help="override the input shape, e.g. 3,32,32")


def _override_hint(shape) -> str:
    """What else the user can change when the network refuses the input shape they chose."""
    if shape is None:
        return ""
    if len(shape) < 3:
        side = shape[1] if len(shape) == 2 else 32
        return f"; or give --input-shape as C,H,W (e.g. {shape[0]},{side},{side}): this network takes images"
    return f"; or choose another --input-shape than {','.join(map(str, shape))}"


def run(args) -> int:
    from explorer.train.provenance import ProvenanceError, read_provenance  # torch-free: info never imports torch

    run_dir = Path(args.arch) if Path(args.arch).is_dir() else None
    if run_dir is not None and not (run_dir / "graph.json").is_file():
        raise UserError(f"{args.arch} is a folder without graph.json; name a run folder, a preset or a .json file")
    if Path(args.arch).suffix in (".pt", ".pth") and Path(args.arch).is_file():
        # a checkpoint is a torch archive; its run folder says the same torch-free (graph.json, provenance.json)
        folder = Path(args.arch).parent
        where = f"name its run folder, {folder}" if (folder / "graph.json").is_file() else "name a run folder"
        raise UserError(f"{args.arch} is a weights file; info reads graphs: {where}, a preset or a .json file")
    damaged = None
    try:
        provenance = read_provenance(run_dir) if run_dir is not None else None
    except ProvenanceError as e:
        provenance, damaged = None, f"{run_dir / 'provenance.json'} is damaged ({e})"
    try:
        shape = parse_shape(args.input_shape) if args.input_shape else None
        graph = load_arch(str(run_dir / "graph.json") if run_dir else args.arch, args.num_classes, shape)
    except ArchError as e:
        raise UserError(str(e)) from None
    a = analyze(graph)
    if not a.valid:
        raise UserError(a.errors[0].text + _override_hint(shape))
    rows = []
    for nid in graph.topological_order():
        node, info = graph.node(nid), a.nodes[nid]
        rows.append({"id": nid, "type": node.type, "repeat": node.repeat,
                     "output_shape": list(info.out_shape or ()), "params": info.cost.params,
                     "macs": info.cost.macs, "layers": info.cost.weight_layers,
                     "summary": get_block(node.type).describe(node.params)})
    if args.json:
        print(strict_json.dumps({"name": graph.name, "params": a.total.params, "macs": a.total.macs,
                          "layers": a.total.weight_layers, "input_shape": list(a.input_shape),
                          "output_shape": list(a.output_shape), "nodes": rows,
                          **({"provenance": provenance} if run_dir is not None else {}),
                          **({"provenance_error": damaged} if damaged else {})}))
        return 0
    print(f"{'node':<22} {'type':<16} {'output':>12} {'params':>13} {'MACs':>15}  details")
    for r in rows:
        typ = r["type"] + (f" ×{r['repeat']}" if r["repeat"] > 1 else "")
        print(f"{r['id']:<22} {typ:<16} {fmt_shape(r['output_shape']):>12} {r['params']:>13,} {r['macs']:>15,}  {r['summary']}")
    print(f"\n{graph.name}: input {fmt_shape(a.input_shape)} -> output {fmt_shape(a.output_shape)}; "
          f"{a.total.params:,} parameters, {a.total.macs:,} MACs, {a.total.weight_layers} weight layers")
    for w in a.problems:
        print(f"warning: {w.text}")
    if run_dir is not None:
        lines = [f"weights: unknown: {damaged}"] if damaged else provenance_lines(provenance)
        print("\n" + "\n".join(lines))
    return 0


def provenance_lines(p: dict | None) -> list[str]:
    """Where a run's weights came from, in a few lines."""
    if not p:
        return ["weights: no provenance.json: random initialisation, every layer trained"]
    lines = []
    init = p.get("init_from")
    if isinstance(init, dict):
        lines.append(f"weights: from {init.get('file') or init.get('source')} (matched by {init.get('matched_by')})")
        lines.append(f"  loaded: {_names(init.get('loaded'))}")
        again = init.get("reinitialised") or {}
        if isinstance(again, dict) and again:
            lines.append("  re-initialised: " + "; ".join(f"{n} ({why})" for n, why in again.items()))
        if init.get("unused"):
            lines.append(f"  not used from the source: {_names(init['unused'])}")
    else:
        lines.append("weights: random initialisation")
    if p.get("frozen"):
        until = f" until epoch {p['unfreeze_at']}" if p.get("unfreeze_at") else ""
        bn = "" if p.get("freeze_bn", True) else " (BatchNorm statistics not kept)"
        lines.append(f"frozen{until}: {_names(p['frozen'])}{bn}")
    if p.get("lr_mult"):
        lines.append("learning-rate factors: " + ", ".join(f"{n} ×{f:g}" for n, f in dict(p["lr_mult"]).items()
                                                           if isinstance(f, (int, float))))
    if p.get("train_samples"):
        lines.append(f"training samples: {p['train_samples']} (stratified subset)")
    return lines


def _names(items) -> str:
    items = [str(i) for i in items] if isinstance(items, list) else []
    return ", ".join(items) if items else "none"
