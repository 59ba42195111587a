"""Write a network as a standalone PyTorch module (py), TorchScript or ONNX.

ARCH is a preset name, a graph .json file, or a run folder from `train --out` (or one of its .pt
checkpoints), whose trained weights then go along: inside the TorchScript and ONNX files, and as a .pt
state_dict beside the .py that its build() loads with strict=True.

  py           one readable module that imports only torch: a class per block type, build(num_classes=...),
               load_compiled() for Residual Explorer's own weights
  torchscript  the network traced in eval mode; load it with torch.jit.load
  onnx         torch.onnx.export with a free batch dimension (needs: pip install 'residual-explorer[onnx]')
"""
from __future__ import annotations

import sys

from explorer.cli import UserError

FORMATS = ("py", "torchscript", "onnx")  # explorer.export.formats.FORMATS, kept here so --help needs no torch


def add_arguments(p) -> None:
    import argparse
    p.formatter_class = argparse.RawDescriptionHelpFormatter
    p.epilog = __doc__.split("\n", 1)[1].strip()
    p.add_argument("arch", metavar="ARCH", help="preset name, graph .json file, or run folder from `train --out`")
    p.add_argument("--format", required=True, choices=FORMATS, help="what to write")
    p.add_argument("-o", "--out", required=True, metavar="FILE", help="the file to write")


def run(args) -> int:
    from explorer.export import ExportError
    from explorer.export.formats import check_target, export
    from explorer.export.source import load_source

    try:
        check_target(args.format, args.out)
        source = load_source(args.arch)
        if args.format != "py":
            print(f"exporting {source.graph.name} as {args.format} ...", file=sys.stderr, flush=True)
        written = export(source, args.format, args.out)
    except ExportError as e:
        raise UserError(str(e)) from None
    trained = " with its trained weights" if source.weights is not None else ""
    print(f"wrote {written[0]} ({args.format}{trained})")
    for extra in written[1:]:
        print(f"wrote {extra} (weights: model.load_state_dict(torch.load(...)) after build())")
    return 0
