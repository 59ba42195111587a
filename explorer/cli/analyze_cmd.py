"""Explain residual networks: gradient flow and depth sweep at initialisation, lesion study, path lengths,
loss landscape, block anatomy and degeneracy, each network against its plain twin.

Examples:
  python main.py analyze gradflow resnet56                    # gradient by depth, residual vs plain twin
  python main.py analyze gradflow resnet56 --no-bn            # ... with normalisation bypassed (it explodes)
  python main.py analyze gradflow resnet110 --no-bn --init fixup  # ... its branches started as Fixup's: level
  python main.py analyze depth-sweep resnet --depths 8,20,56,110
  python main.py compare resnet20 --epochs 3 --out runs/r20   # then, on the trained runs:
  python main.py analyze lesion runs/r20/residual --random-k  # the plain twin's run beside it is used too
  python main.py analyze landscape runs/r20/residual --grid 21 --two-d
  python main.py analyze paths runs/r20/residual
  python main.py analyze anatomy resnet20 --node stage2
  python main.py analyze degeneracy resnet56 --compare-twin   # effective rank by depth at initialisation
  python main.py analyze degeneracy runs/r20/residual --compare-twin  # ... at init, best and last
"""
from __future__ import annotations

import sys

from explorer.cli import UserError
from explorer.cli.training_run import load_graph
from explorer.util import strict_json

TOOLS = ("gradflow", "depth-sweep", "lesion", "paths", "landscape", "anatomy", "degeneracy")
TARGETS = {"gradflow": "ARCH", "depth-sweep": "FAMILY", "lesion": "RUN_DIR", "paths": "RUN_DIR or ARCH",
           "landscape": "RUN_DIR", "anatomy": "ARCH", "degeneracy": "RUN_DIR or ARCH"}
# (lowest, highest) accepted for each whole-number option: checked before any data or torch is loaded,
# and shown in the help.
RANGES = {"batch_size": (2, 4096), "grid": (3, 101), "seed": (0, 2**32 - 1), "draws": (1, 100),
          "samples": (1, 1000)}
SPAN_MAX = 100.0
# The tools each tool-specific option applies to; given to another tool it is refused, not ignored.
OPTION_TOOLS = {"no_bn": ("gradflow", "depth-sweep"), "init": ("gradflow",), "depths": ("depth-sweep",), "random_k": ("lesion",),
                "draws": ("lesion",), "grid": ("landscape",), "span": ("landscape",), "two_d": ("landscape",),
                "samples": ("paths",), "node": ("anatomy",), "compare_twin": ("degeneracy",), "bn": ("degeneracy",),
                "batch_size": ("gradflow", "depth-sweep", "paths", "landscape", "degeneracy")}
DEFAULT_BATCH = {"gradflow": 128, "depth-sweep": 128, "paths": 32, "landscape": 256, "degeneracy": 256}
BN_ESTIMATE_SAMPLES = 256  # training samples that set a fresh network's BatchNorm statistics first (paths)
DEFAULT_DEPTHS = "8,20,56,110"
INIT_CHOICES = ("default", "zero-gamma", "skipinit", "fixup")


def _range(name: str) -> str:
    lo, hi = RANGES[name]
    return f"{lo}–{hi:,}"


def add_arguments(p) -> None:
    p.add_argument("tool", metavar="TOOL", choices=TOOLS, help=f"one of {', '.join(TOOLS)}")
    p.add_argument("target", metavar="TARGET",
                   help="; ".join(f"{t}: {w}" for t, w in TARGETS.items()) +
                        " (ARCH: preset or graph .json; RUN_DIR: a folder written by `train --out` or its .pt; "
                        "FAMILY: a preset prefix such as resnet, or one preset or graph file)")
    p.add_argument("--dataset", metavar="NAME", help="data set, as for train (default digits; for a run, the "
                                                     "one it was trained on)")
    p.add_argument("--device", default="auto", help="auto (CUDA, then MPS, then CPU), cpu, cuda, cuda:N or mps")
    p.add_argument("--no-bn", action="store_true", help="gradflow, depth-sweep: bypass normalisation layers (a "
                                                        "plain net's gradient then vanishes; a residual net's "
                                                        "explodes toward the input unless --init starts its "
                                                        "branches small)")
    p.add_argument("--init", choices=INIT_CHOICES, help="gradflow: how the network's residual branches start: "
                   "zero-gamma (the branch's last BN γ = 0, Goyal et al. 2017; kept as an affine 0 under --no-bn), "
                   "skipinit (a branch scale α = 0, De & Smith 2020), fixup (Zhang et al. 2019: no BN in the "
                   "blocks, scalar biases, last conv at 0, other convs scaled by L^(-1/(2m-2)); the classifier "
                   "keeps its default start, since a zero one passes no gradient back at initialisation); the "
                   "plain twin keeps the default start")
    p.add_argument("--depths", metavar="D1,D2,...", help=f"depth-sweep: total weight layers (default {DEFAULT_DEPTHS})")
    p.add_argument("--random-k", action="store_true", help="lesion: also delete k random blocks at once, k = 1…n")
    p.add_argument("--draws", type=int, help=f"lesion: draws per k for --random-k, {_range('draws')} (default 5)")
    p.add_argument("--grid", type=int, help=f"landscape: points per axis, an odd number {_range('grid')} so the "
                                            "centre is the run's weights (default 21)")
    p.add_argument("--span", type=float, help=f"landscape: largest step along a direction, above 0 and at most "
                                              f"{SPAN_MAX:g} (default 1)")
    p.add_argument("--two-d", action="store_true", help="landscape: a 2-D surface instead of a line")
    p.add_argument("--samples", type=int, help=f"paths: paths sampled per length, {_range('samples')} (default 16)")
    p.add_argument("--node", metavar="ID", help="anatomy: only this node")
    p.add_argument("--compare-twin", action="store_true",
                   help="degeneracy: also the plain twin (for a run, the plain run `compare --out` wrote beside "
                        "it), printed under \"plain\" in the network's shape: {\"label\", \"layers\", \"checkpoints\"}")
    p.add_argument("--bn", choices=("running", "batch"),
                   help="degeneracy: which statistics BatchNorm normalises by: running (the network as deployed) or "
                        "batch (the batch's own, as in training); default running for trained checkpoints, batch "
                        "at initialisation (whose running statistics are still 0 and 1); each checkpoint's "
                        "choice is named in the output (\"bn\")")
    p.add_argument("--batch-size", type=int,
                   help=f"samples used for the measurement, {_range('batch_size')} (default 128 for gradflow, "
                        "256 for landscape and degeneracy; paths: 32, the one batch every sampled path sees)")
    p.add_argument("--seed", type=int, default=0, help=f"weights at initialisation and random choices, "
                                                       f"{_range('seed')} (default 0)")
    p.add_argument("--json", action="store_true",
                   help="print one JSON object; degeneracy's is {\"layers\": [{\"node\", \"unit\", \"depth\", "
                        "\"effective_rank\", \"dead_fraction\", \"zero_fraction\", \"max_corr\", ...}] at the last "
                        "checkpoint, \"checkpoints\": [{\"checkpoint\": init|best|last, \"layers\"}], \"plain\", "
                        "\"verdict\", ...} for each unit's output on the validation batch: effective rank = exp(entropy "
                        "of the normalised singular values) of the output minus its batch mean (init: the run's "
                        "seed), dead = channels constant across the batch, max_corr = the largest |correlation| "
                        "of two live channels (null under two)")


def check_options(args) -> None:
    """Refuse out-of-range or misplaced options with one message naming the option, before anything is loaded."""
    import math

    for name, tools in OPTION_TOOLS.items():
        value = getattr(args, name)
        if value not in (None, False) and args.tool not in tools:
            raise UserError(f"--{name.replace('_', '-')} applies to {' and '.join(tools)}, not {args.tool}")
    for name, (lo, hi) in RANGES.items():
        value = getattr(args, name)
        if value is not None and not lo <= value <= hi:
            raise UserError(f"--{name.replace('_', '-')} must be between {lo} and {hi:,}, got {value:,}")
    if args.grid is not None and args.grid % 2 == 0:
        raise UserError(f"--grid must be odd so that the centre point is the run's weights; try {args.grid + 1}")
    if args.span is not None and not (math.isfinite(args.span) and 0 < args.span <= SPAN_MAX):
        raise UserError(f"--span must be above 0 and at most {SPAN_MAX:g}, got {args.span:g}")
    if args.depths is not None:
        _depths(args.depths)


def _depths(text: str) -> list[int]:
    try:
        depths = sorted({int(t) for t in text.split(",") if t.strip()})
    except ValueError:
        raise UserError(f"--depths must be whole numbers separated by commas, like {DEFAULT_DEPTHS}; got '{text}'") from None
    if not depths or not all(3 <= d <= 2000 for d in depths):
        raise UserError(f"--depths must be between 3 and 2,000 weight layers each, like {DEFAULT_DEPTHS}; got '{text}'")
    return depths


def run(args) -> int:
    check_options(args)
    from explorer.analysis.control import Control
    from explorer.train.device import DeviceError, resolve_device
    from explorer.train.progress import Progress

    try:
        device = resolve_device(args.device)
    except DeviceError as e:
        raise UserError(str(e)) from None
    progress = Progress(sys.stderr)
    control = Control(on_progress=progress.count)
    from explorer.analysis.trained import RunError
    try:
        result = TOOL_RUNNERS[args.tool](args, device, control)
    except RunError as e:
        raise UserError(str(e)) from None
    finally:
        progress.clear()
    if args.json:
        print(strict_json.dumps(result))
    return 0


# -- shared loading -------------------------------------------------------------------------------------
def _dataset(spec: str | None, seed: int):
    from explorer.data import DatasetError
    from explorer.data.cache import cached_dataset

    try:
        return cached_dataset(spec or "digits", seed=seed)
    except DatasetError as e:
        raise UserError(str(e)) from None


def _fitted(graph, ds, quiet: bool):
    from explorer.network.adapt import adapt_to_data
    from explorer.network.inference import analyze

    g, notices = adapt_to_data(graph, ds.input_shape, ds.num_classes)
    a = analyze(g)
    if not a.valid:
        raise UserError(a.errors[0].text)
    if not quiet:
        for n in notices:
            print(f"note: {n}", file=sys.stderr)
    return g


def _batch(args, ds, device, train: bool = True):
    n = args.batch_size or DEFAULT_BATCH[args.tool]
    x, y = (ds.x_train, ds.y_train) if train else (ds.x_val, ds.y_val)
    return x[:n].to(device), y[:n].to(device)


def _is_run(target: str) -> bool:
    from pathlib import Path

    p = Path(target)
    return p.is_dir() or p.suffix == ".pt"


def _runs(args, device):
    """The network's run and its plain twin's (or None), and the data set they were trained on."""
    from explorer.analysis.trained import comparison_paths, load_run, run_data

    net_path, twin_path = comparison_paths(args.target)
    net = load_run(net_path, device)
    twin = load_run(twin_path, device) if twin_path is not None else None
    return net, twin, run_data(net, args.dataset)


# -- the tools ------------------------------------------------------------------------------------------
def _gradflow(args, device, control) -> dict:
    from explorer.analysis.gradient_flow import compare_verdict, own_twin_verdict, profile_graph
    from explorer.network.twins import plain_twin

    ds = _dataset(args.dataset, args.seed)
    graph = _fitted(load_graph(args.target), ds, args.json)
    twin, changes = plain_twin(graph)  # of the default start: a plain block whose branch starts at 0 passes nothing
    init = (args.init or "default").replace("-", "_")
    if init != "default":
        graph = _with_init(graph, init, args.json)
    x, y = _batch(args, ds, device)
    bn = not args.no_bn
    control.step("gradient flow networks", 0, 2)
    res = profile_graph(graph, x, y, args.seed, bn)
    control.step("gradient flow networks", 1, 2)
    plain = profile_graph(twin, x, y, args.seed, bn) if changes else res
    control.step("gradient flow networks", 2, 2)
    verdict = (compare_verdict(args.target, res, "the plain twin", plain, bn) if changes
               else own_twin_verdict(args.target))
    if not args.json:
        for label, prof in ((args.target, res), ("plain twin", plain))[:2 if changes else 1]:
            print(f"\n{label}: gradient norm reaching each unit's output, input side first (loss {prof.loss:.3f})")
            _bars([f"{k} ({d})" for k, d in zip(prof.keys, prof.depth)], prof.output_grad)
        print(f"\n{verdict}")
    return {"arch": args.target, "dataset": args.dataset or "digits", "normalisation": bn, "init": init,
            "residual": res.rows(), "plain": plain.rows(), "verdict": verdict,
            "residual_first_over_last": res.ratio_first_last(), "plain_first_over_last": plain.ratio_first_last(),
            "residual_spread_orders": res.spread_orders(), "plain_spread_orders": plain.spread_orders()}


def _with_init(graph, init: str, quiet: bool):
    from explorer.network.init_options import InitError, with_init

    try:
        graph, notes = with_init(graph, init, zero_classifier=False)
    except InitError as e:
        raise UserError(str(e)) from None
    if not quiet:
        for n in notes:
            print(f"note: {n}", file=sys.stderr)
    return graph


def _depth_sweep(args, device, control) -> dict:
    from pathlib import Path

    from explorer.analysis.depth_sweep import DepthError, depth_sweep, family_graph, sweep_verdict

    ds = _dataset(args.dataset, args.seed)
    depths = _depths(args.depths or DEFAULT_DEPTHS)
    target = args.target
    base = load_graph(target) if target.endswith(".json") or Path(target).is_file() or _is_preset(target) else None
    try:
        graphs = {d: _fitted(family_graph(target, d, base), ds, True) for d in depths}
    except DepthError as e:
        raise UserError(str(e)) from None
    x, y = _batch(args, ds, device)
    points = depth_sweep(graphs, x, y, args.seed, not args.no_bn, control)
    verdict = sweep_verdict(points)
    if not args.json:
        print(f"{'depth':>6} {'first-layer grad network':>26} {'plain twin':>12} {'first/last network':>20} "
              f"{'plain':>10}")
        for p in points:
            r = p.row()
            print(f"{p.depth:>6} {r['residual_first_grad']:>26.3g} {r['plain_first_grad']:>12.3g} "
                  f"{r['residual_first_over_last']:>20.3g} {r['plain_first_over_last']:>10.3g}")
        print(f"\n{verdict}")
    return {"family": target, "normalisation": not args.no_bn, "depths": [p.row() for p in points], "verdict": verdict}


def _is_preset(name: str) -> bool:
    from explorer.presets import list_presets

    return name in {p.name for p in list_presets()}


def _lesion(args, device, control) -> dict:
    from explorer.analysis.lesion import lesion_study, lesion_verdict, split_name

    net, twin, ds = _runs(args, device)
    split = split_name(ds.name)
    x, y = ds.x_val.to(device), ds.y_val.to(device)
    kwargs = {"random_k": args.random_k, "draws": args.draws or 5, "seed": args.seed, "control": control}
    study = lesion_study(net.module, net.graph, x, y, label=net.label, **kwargs)
    twin_study = lesion_study(twin.module, twin.graph, x, y, label=twin.label, **kwargs) if twin else None
    verdict = lesion_verdict(study, twin_study)
    if not args.json:
        for s in (study, twin_study):
            if s is None:
                continue
            print(f"\n{s.label}: {split} accuracy {s.baseline_acc:.3f} ({ds.name} {split} split); with one block "
                  "deleted:")
            for b in s.blocks:
                print(f"{b.key:>16} {b.accuracy:.3f}" + ("  (downsampling: its branch dropped, its shortcut kept)"
                                                         if b.downsampling else ""))
            for b in s.skipped:
                print(f"{b.key:>16} cannot be deleted: {b.reason}")
            for r in s.random:
                print(f"{'k = ' + str(r.k):>16} {r.mean_acc:.3f} ± {r.std:.3f} over {r.draws} draw(s)")
        print(f"\n{verdict}")
    out = study.to_json()
    out.update({"run": net.path, "dataset": ds.name, "split": split, "verdict": verdict,
                "plain": twin_study.to_json() | {"run": twin.path} if twin_study else None})
    return out


def _paths(args, device, control) -> dict:
    from explorer.analysis.paths import path_gradients, paths_verdict

    if _is_run(args.target):
        net, _, ds = _runs(args, device)
        module, graph, label = net.module, net.graph, net.label
    else:
        import torch

        from explorer.compile import compile_graph

        ds = _dataset(args.dataset, args.seed)
        graph = _fitted(load_graph(args.target), ds, args.json)
        torch.manual_seed(args.seed)
        module, label = compile_graph(graph).to(device), f"{args.target} (at initialisation)"
    measure = args.batch_size or DEFAULT_BATCH["paths"]
    n = max(measure, BN_ESTIMATE_SAMPLES)
    x, y = ds.x_train[:n].to(device), ds.y_train[:n].to(device)
    prof = path_gradients(module, graph, x, y, samples=args.samples or 16, seed=args.seed, control=control,
                          measure=measure)
    verdict = paths_verdict(prof, label)
    out = prof.to_json() | {"label": label, "verdict": verdict}
    if not args.json:
        print(f"BatchNorm: {prof.bn}; every path sees the same {prof.measured} training samples")
        print(f"{'length':>6} {'paths':>14} {'share':>8} {'grad per path':>14} {'± spread':>10} {'share of gradient':>18}")
        for row in out["lengths"]:
            g, sd = row["grad_per_path"], row["grad_spread"]
            print(f"{row['length']:>6} {row['paths']:>14,} {row['share_of_paths']:>8.1%} "
                  f"{'-' if g is None else f'{g:.3g}':>14} {'-' if sd is None else f'{sd:.2g}':>10} "
                  f"{row['share_of_gradient']:>18.1%}")
        print(f"\n{verdict}")
    return out


def _landscape(args, device, control) -> dict:
    from explorer.analysis.evaluate import evaluate
    from explorer.analysis.landscape import landscape_verdict, loss_landscape

    net, twin, ds = _runs(args, device)
    x, y = _batch(args, ds, device)
    grid, span = args.grid or 21, args.span or 1.0
    out, lands = {}, {}
    for role, r in (("residual", net), ("plain", twin)):
        if r is None:
            continue
        trained = evaluate(r.module, x, y, control)[0]
        land = loss_landscape(r.module, x, y, steps=grid, span=span, two_d=args.two_d, seed=args.seed,
                              control=control)
        lands[role] = (r.label, land)
        out[role] = land.to_json() | {"trained_loss": trained, "run": r.path, "label": r.label}
    verdict = landscape_verdict(*lands["residual"], *lands.get("plain", (None, None)))
    if not args.json:
        for label, land in lands.values():
            print(f"\n{label}: loss along a filter-normalised direction"
                  + (" (centre row of the surface)" if args.two_d else ""))
            line = land.loss if land.betas is None else land.loss[:, len(land.betas) // 2]
            _bars([f"{a:+.2f}" for a in land.alphas], line)
        print(f"\n{verdict}")
    result = dict(out["residual"])
    result.update({"dataset": ds.name, "subset": len(x), "plain": out.get("plain"), "verdict": verdict})
    return result


def _anatomy(args, device, control) -> dict:
    from explorer.analysis.anatomy import AnatomyError, anatomy

    graph = load_graph(args.target)
    if args.dataset:
        graph = _fitted(graph, _dataset(args.dataset, args.seed), args.json)
    try:
        blocks = anatomy(graph, args.node)
    except AnatomyError as e:
        raise UserError(str(e)) from None
    if not args.json:
        for b in blocks:
            print(f"{b.node:>16} {b.title:<20} ×{b.repeat:<4} {b.params:>12,} params {b.params_share:6.1%} "
                  f"{b.macs:>14,} MACs {b.macs_share:6.1%}")
            for la in b.layers:
                print(f"{'':>18}{la.node:<16} {la.type:<18} {la.out_shape:>12} {la.params:>10,} {la.macs:>14,}")
    return {"arch": args.target, "blocks": [b.to_json() for b in blocks]}


def _degeneracy(args, device, control) -> dict:
    from explorer.analysis.degeneracy import graph_plan, run_plans, study
    from explorer.analysis.trained import run_data
    from explorer.network.twins import plain_twin

    if _is_run(args.target):
        first, plan, twin_plan = run_plans(args.target, args.compare_twin, device)
        ds, label = run_data(first, args.dataset), first.label
    else:
        ds = _dataset(args.dataset, args.seed)
        graph = _fitted(load_graph(args.target), ds, args.json)
        twin, changes = plain_twin(graph)
        if args.compare_twin and not any(c.removes_shortcut for c in changes) and not args.json:
            print(f"note: {args.target} has no shortcut to remove; its plain twin is the same network", file=sys.stderr)
        label, plan = args.target, graph_plan(graph, args.seed, device)
        twin_plan = graph_plan(twin, args.seed, device) if args.compare_twin else None
    x, _ = _batch(args, ds, device, train=False)
    result = study(label, plan, twin_plan, x, control, args.bn)
    if not args.json:
        for net in (result.net, result.plain):
            if net is not None:
                _degeneracy_table(net)
        print(f"\n{result.verdict}")
    return result.to_json() | {"target": args.target, "dataset": ds.name}


def _degeneracy_table(result) -> None:
    names = [s.checkpoint for s in result.snapshots]
    bns = ", ".join(f"{s.checkpoint}: {s.bn}" for s in result.snapshots)
    print(f"\n{result.label}: effective rank of each unit's output ({', '.join(names)}; BatchNorm statistics "
          f"{bns}); dead channels and max correlation at {names[-1]}")
    print(f"{'unit':>16} {'depth':>5} " + " ".join(f"{n:>8}" for n in names) + f" {'dead':>6} {'max corr':>8}")
    rows = list(zip(*(s.layers for s in result.snapshots)))
    step = max(1, len(rows) // 30)  # at most ~30 rows for 1000-layer nets
    for layers in rows[::step]:
        last = layers[-1]
        corr = "-" if last.max_corr is None else f"{last.max_corr:.3f}"
        print(f"{last.key:>16} {last.depth:>5} " + " ".join(f"{la.effective_rank:>8.1f}" for la in layers)
              + f" {last.dead_fraction:>6.0%} {corr:>8}")


TOOL_RUNNERS = {"gradflow": _gradflow, "depth-sweep": _depth_sweep, "lesion": _lesion, "paths": _paths,
                "landscape": _landscape, "anatomy": _anatomy, "degeneracy": _degeneracy}


def _bars(keys, values, width: int = 40) -> None:
    import numpy as np

    logs = np.log10(np.maximum(values, 1e-30))
    lo, hi = float(logs.min()), float(logs.max())
    step = max(1, len(keys) // 30)  # at most ~30 rows for 1000-layer nets
    for i in range(0, len(keys), step):
        n = int(round((logs[i] - lo) / (hi - lo + 1e-12) * width))
        print(f"{keys[i]:>20} {values[i]:10.3g} {'█' * max(1, n)}")
