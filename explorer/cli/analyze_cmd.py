"""Explain a network: gradient flow by depth (vs its plain twin), loss landscape, lesion study.

Examples:
  python main.py analyze resnet56 --dataset digits                 # gradient by depth, residual vs plain twin
  python main.py analyze resnet20 --kind landscape --steps 21
  python main.py analyze resnet20 --kind lesion --epochs 3        # train briefly, then remove blocks one by one
"""
from __future__ import annotations

import json

import numpy as np
import torch

from explorer.arch import ArchError, load_arch
from explorer.cli import UserError
from explorer.data import DatasetError, load_dataset
from explorer.network.adapt import adapt_to_data
from explorer.network.inference import analyze
from explorer.network.twins import plain_twin


def add_arguments(p) -> None:
    p.add_argument("arch", metavar="ARCH", help="preset name or graph .json file")
    p.add_argument("--kind", choices=("gradient-flow", "landscape", "lesion"), default="gradient-flow")
    p.add_argument("--dataset", default="digits", help="data set (default: digits)")
    p.add_argument("--compare", metavar="ARCH2", help="gradient-flow: compare with this architecture "
                                                          "instead of the plain twin")
    p.add_argument("--batch-size", type=int, default=128, help="samples used for the measurement")
    p.add_argument("--steps", type=int, default=21, help="landscape: points per axis")
    p.add_argument("--span", type=float, default=1.0, help="landscape: largest step along a direction")
    p.add_argument("--two-d", action="store_true", help="landscape: a 2-D surface instead of a line")
    p.add_argument("--epochs", type=int, default=3, help="lesion: epochs to train before lesioning")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true", help="print one JSON object")


def _graph_for(arch: str, ds):
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
    try:
        ds = load_dataset(args.dataset, seed=args.seed)
    except DatasetError as e:
        raise UserError(str(e)) from None
    if args.batch_size < 2:
        raise UserError("--batch-size must be at least 2 (BatchNorm needs a batch)")
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
    logs = np.log10(np.maximum(values, 1e-30))
    lo, hi = float(logs.min()), float(logs.max())
    step = max(1, len(keys) // 30)  # at most ~30 rows for 1000-layer nets
    for i in range(0, len(keys), step):
        n = int(round((logs[i] - lo) / (hi - lo + 1e-12) * width))
        print(f"{keys[i]:>16} {values[i]:10.3g} {'█' * max(1, n)}")


def _landscape(args, graph, x, y) -> dict:
    from explorer.analysis.landscape import loss_landscape, sharpness
    from explorer.compile import compile_graph

    torch.manual_seed(args.seed)
    module = compile_graph(graph)
    module.train()
    with torch.no_grad():  # settle BatchNorm running statistics on the batch before looking around
        for _ in range(5):
            module(x)
    land = loss_landscape(module, x, y, steps=args.steps, span=args.span, two_d=args.two_d, seed=args.seed)
    if not args.json:
        print("\nloss along a random filter-normalised direction" + (" (centre row of the surface)" if args.two_d else ""))
        line = land.loss if land.betas is None else land.loss[:, len(land.betas) // 2]
        _bars([f"{a:+.2f}" for a in land.alphas], line)
        print(f"sharpness (mean rise over the centre) = {sharpness(land):.3g}")
    return {"alphas": land.alphas.tolist(), "betas": None if land.betas is None else land.betas.tolist(),
            "loss": land.loss.tolist(), "sharpness": sharpness(land)}


def _lesion(args, graph, ds) -> dict:
    from explorer.analysis.lesion import lesion_study
    from explorer.train import TrainConfig, TrainingError, train_module

    try:
        module = train_module(graph, ds, TrainConfig(epochs=args.epochs, seed=args.seed), quiet=args.json)
    except TrainingError as e:
        raise UserError(str(e)) from None
    module = module.cpu()
    base, results = lesion_study(module, ds.x_val, ds.y_val)
    if not args.json:
        print(f"\nvalidation accuracy {base:.3f}; with one block removed:")
        for r in results:
            print(f"{r.key:>16} {'skipped: ' + r.reason if r.accuracy is None else f'{r.accuracy:.3f}'}")
    return {"baseline_acc": base, "lesions": [{"key": r.key, "node_id": r.node_id, "acc": r.accuracy} for r in results]}
