"""Explain a network: gradient flow by depth (vs its plain twin), loss landscape, lesion study.

Examples:
  python main.py analyze resnet56 --dataset digits                 # gradient by depth, residual vs plain twin
  python main.py analyze resnet20 --kind landscape --steps 21
  python main.py analyze resnet20 --kind lesion --epochs 3        # train briefly, then remove blocks one by one
"""
from __future__ import annotations

import json

from explorer.cli import UserError

# (lowest, highest) accepted for each whole-number option: checked before any data or torch is loaded,
# and shown in the help.
RANGES = {"batch_size": (2, 4096), "steps": (3, 101), "epochs": (1, 1000), "seed": (0, 2**32 - 1)}
SPAN_MAX = 100.0


def _range(name: str) -> str:
    lo, hi = RANGES[name]
    return f"{lo}–{hi:,}"


def add_arguments(p) -> None:
    p.add_argument("arch", metavar="ARCH", help="preset name or graph .json file")
    p.add_argument("--kind", choices=("gradient-flow", "landscape", "lesion"), default="gradient-flow",
                   help="gradient norm by depth against the plain twin, loss along random directions, or "
                        "accuracy with each block removed (default gradient-flow)")
    p.add_argument("--dataset", default="digits", metavar="NAME", help="data set, as for train (default digits)")
    p.add_argument("--compare", metavar="ARCH2", help="gradient-flow: compare with this architecture "
                                                          "instead of the plain twin")
    p.add_argument("--batch-size", type=int, default=128,
                   help=f"samples used for the measurement, {_range('batch_size')} (default 128)")
    p.add_argument("--steps", type=int, default=21,
                   help=f"landscape: points per axis, an odd number {_range('steps')} so the centre is the "
                        "network itself (default 21)")
    p.add_argument("--span", type=float, default=1.0,
                   help=f"landscape: largest step along a direction, above 0 and at most {SPAN_MAX:g} (default 1)")
    p.add_argument("--two-d", action="store_true", help="landscape: a 2-D surface instead of a line")
    p.add_argument("--epochs", type=int, default=3,
                   help=f"lesion: epochs to train before lesioning, {_range('epochs')} (default 3)")
    p.add_argument("--seed", type=int, default=0, help=f"{_range('seed')} (default 0)")
    p.add_argument("--json", action="store_true", help="print one JSON object")


def check_options(args) -> None:
    """Refuse out-of-range options with one message naming the option, before anything is loaded."""
    import math

    for name, (lo, hi) in RANGES.items():
        value = getattr(args, name)
        if not lo <= value <= hi:
            raise UserError(f"--{name.replace('_', '-')} must be between {lo} and {hi:,}, got {value:,}")
    if args.steps % 2 == 0:
        raise UserError(f"--steps must be odd so that the centre point is the network itself; "
                        f"try {args.steps + 1}")
    if not (math.isfinite(args.span) and 0 < args.span <= SPAN_MAX):
        raise UserError(f"--span must be above 0 and at most {SPAN_MAX:g}, got {args.span:g}")


def _graph_for(arch: str, ds):
    from explorer.arch import ArchError, load_arch
    from explorer.network.adapt import adapt_to_data
    from explorer.network.inference import analyze

    try:
        g = load_arch(arch)
    except ArchError as e:
        raise UserError(str(e)) from None
    g, notices = adapt_to_data(g, ds.input_shape, ds.num_classes)
    a = analyze(g)
    if not a.valid:
        raise UserError(a.errors[0].text)
    return g, notices


def run(args) -> int:
    check_options(args)
    from explorer.data import DatasetError, load_dataset

    try:
        ds = load_dataset(args.dataset, seed=args.seed)
    except DatasetError as e:
        raise UserError(str(e)) from None
    graph, notices = _graph_for(args.arch, ds)
    if not args.json:
        for n in notices:
            print(f"note: {n}")
    x, y = ds.x_train[: args.batch_size], ds.y_train[: args.batch_size]
    result = {"arch": args.arch, "dataset": args.dataset, "kind": args.kind}
    if args.kind == "gradient-flow":
        result.update(_gradient_flow(args, graph, ds, x, y))
    elif args.kind == "landscape":
        result.update(_landscape(args, graph, x, y))
    else:
        result.update(_lesion(args, graph, ds))
    if args.json:
        print(json.dumps(result))
    return 0


def _gradient_flow(args, graph, ds, x, y) -> dict:
    from explorer.analysis.gradient_flow import profile_graph
    from explorer.network.twins import plain_twin

    other, label = (_graph_for(args.compare, ds)[0], args.compare) if args.compare else (plain_twin(graph)[0], "plain twin")
    out = {}
    for name, g in ((args.arch, graph), (label, other)):
        prof = profile_graph(g, x, y, seed=args.seed)
        out[name] = {"keys": prof.keys, "output_grad": prof.output_grad.tolist(), "param_grad": prof.param_grad.tolist(),
                     "first_over_last": prof.ratio_first_last(), "loss": prof.loss}
        if not args.json:
            print(f"\n{name}: gradient norm at each unit's output, input side first (loss {prof.loss:.3f})")
            _bars(prof.keys, prof.output_grad)
            r = prof.ratio_first_last()
            verdict = "explodes towards the input" if r > 10 else "vanishes towards the input" if r < 0.1 else "flows evenly"
            print(f"first/last = {r:.3g}: the gradient {verdict}")
    return {"profiles": out}


def _bars(keys, values, width: int = 40) -> None:
    import numpy as np

    logs = np.log10(np.maximum(values, 1e-30))
    lo, hi = float(logs.min()), float(logs.max())
    step = max(1, len(keys) // 30)  # at most ~30 rows for 1000-layer nets
    for i in range(0, len(keys), step):
        n = int(round((logs[i] - lo) / (hi - lo + 1e-12) * width))
        print(f"{keys[i]:>16} {values[i]:10.3g} {'█' * max(1, n)}")


def _landscape(args, graph, x, y) -> dict:
    import torch

    from explorer.analysis.landscape import loss_landscape, sharpness
    from explorer.compile import compile_graph
    from explorer.train.progress import Progress

    torch.manual_seed(args.seed)
    module = compile_graph(graph)
    module.train()
    with torch.no_grad():  # settle BatchNorm running statistics on the batch before looking around
        for _ in range(5):
            module(x)
    progress = Progress()
    try:
        land = loss_landscape(module, x, y, steps=args.steps, span=args.span, two_d=args.two_d, seed=args.seed,
                              on_point=lambda done, total: progress.count("landscape points", done, total))
    finally:
        progress.clear()
    if not args.json:
        print("\nloss along a random filter-normalised direction" + (" (centre row of the surface)" if args.two_d else ""))
        line = land.loss if land.betas is None else land.loss[:, len(land.betas) // 2]
        _bars([f"{a:+.2f}" for a in land.alphas], line)
        print(f"sharpness (mean rise over the centre) = {sharpness(land):.3g}")
    return {"alphas": land.alphas.tolist(), "betas": None if land.betas is None else land.betas.tolist(),
            "loss": land.loss.tolist(), "sharpness": sharpness(land)}


def _lesion(args, graph, ds) -> dict:
    from explorer.analysis.lesion import lesion_study
    from explorer.train import TrainConfig, TrainingError

    try:
        module = _train(graph, ds, TrainConfig(epochs=args.epochs, seed=args.seed), quiet=args.json)
    except TrainingError as e:
        raise UserError(str(e)) from None
    module = module.cpu()
    base, results = lesion_study(module, ds.x_val, ds.y_val)
    if not args.json:
        print(f"\nvalidation accuracy {base:.3f}; with one block removed:")
        for r in results:
            print(f"{r.key:>16} {'skipped: ' + r.reason if r.accuracy is None else f'{r.accuracy:.3f}'}")
    return {"baseline_acc": base, "lesions": [{"key": r.key, "node_id": r.node_id, "acc": r.accuracy} for r in results]}


def _train(graph, ds, cfg, quiet: bool):
    """Train for the lesion study, with progress on stderr (epoch lines unless ``quiet``)."""
    import sys

    from explorer.train import EpochReport, FailedReport, StepReport, TrainingError, TrainingRun
    from explorer.train.progress import Progress

    run, progress = TrainingRun(graph, ds, cfg), Progress()
    try:
        for r in run.reports():
            if isinstance(r, FailedReport):
                raise TrainingError(r)
            if isinstance(r, StepReport):
                progress.step(r)
            elif isinstance(r, EpochReport) and not quiet:
                progress.clear()
                val = f", val acc {r.val_acc:.3f}" if r.val_acc is not None else ""
                print(f"epoch {r.epoch}/{r.epochs}: train loss {r.train_loss:.4f}{val}", file=sys.stderr)
    finally:
        progress.clear()
    return run.model.eval()
