"""Turn a PyTorch model into a graph file: build it from FILE.py:CALLABLE (or module:CALLABLE), trace it with
torch.fx and map its layers onto our blocks.

This runs the named code with your permissions: the file's top level, then the callable (called without
arguments, so wrap a model that needs them in a small function). Import only code you trust.

Convolutions, BatchNorm, activations, pooling, Linear, Flatten, Add, Concat and Multiply become our
primitives; residual blocks that match one of ours exactly become that block, and runs of equal blocks a
stage. Anything else becomes an opaque node named after its operation: it keeps its traced shape, and the
graph validates once you replace it. Examples:
  python main.py import mynet.py:build -o mynet.json
  python main.py import torchvision.models:resnet18 --input-shape 3,224,224 -o resnet18.json --verify
"""
from __future__ import annotations

import math
import sys

from explorer.cli import UserError


def add_arguments(p) -> None:
    p.add_argument("spec", metavar="FILE.py:CALLABLE", help="the code that builds the model (runs it), or "
                                                             "package.module:CALLABLE")
    p.add_argument("-o", "--out", metavar="GRAPH.json", required=True, help="graph file to write")
    p.add_argument("--input-shape", metavar="C,H,W", help="shape of one input sample (default: the first "
                                                          "convolution's channels at 32×32)")
    p.add_argument("--primitives-only", action="store_true", help="keep every layer as a primitive instead of "
                                                                    "collapsing residual blocks and stages")
    p.add_argument("--verify", action="store_true", help="compile the graph with the model's weights and report "
                                                         "the largest output difference on a random batch")


def run(args) -> int:
    from explorer.arch import ArchError, parse_shape
    from explorer.importer import RUNS_CODE_NOTICE, ImporterError, import_spec

    try:
        shape = parse_shape(args.input_shape) if args.input_shape else None
    except ArchError as e:
        raise UserError(f"--input-shape: {e}") from None
    print(f"notice: {RUNS_CODE_NOTICE}", file=sys.stderr)
    try:
        imported = import_spec(args.spec, shape, blocks=not args.primitives_only)
    except ImporterError as e:
        raise UserError(str(e)) from None
    from explorer.graph.fileio import save_graph
    from explorer.network.inference import analyze

    try:
        save_graph(imported.graph, args.out)
    except OSError as e:
        raise UserError(f"cannot write {args.out} ({e.strerror or e})") from None
    for line in imported.notices:
        print(f"notice: {line}", file=sys.stderr)
    a = analyze(imported.graph)
    print(f"wrote {args.out}: {len(imported.graph)} nodes, {a.total.params:,} parameters, output "
          f"{tuple(a.output_shape) if a.output_shape else '?'}")
    if imported.opaque:
        print(f"warning: {len(imported.opaque)} opaque node(s) to replace before training: "
              f"{', '.join(imported.opaque)}", file=sys.stderr)
    elif args.verify:
        difference = _difference(imported)
        if not math.isfinite(difference):  # NaN compares as "no difference" and would pass any threshold
            raise UserError(f"not verified: the outputs on a random batch are not finite (NaN or infinity: do the "
                            f"model's weights hold NaN?); {args.out} was written")
        print(f"verified: largest output difference {difference:.3g} on a random batch")
    return 0


def _difference(imported) -> float:
    import torch

    from explorer.network.inference import analyze

    compiled = imported.compiled().eval()
    original = imported.module
    was = original.training
    original.eval()
    try:
        x = torch.randn(2, *analyze(imported.graph).input_shape)
        with torch.no_grad():
            return float((compiled(x) - original(x)).abs().max())
    finally:
        original.train(was)
