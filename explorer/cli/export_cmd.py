"""Write a network as a standalone PyTorch module (py), TorchScript, ONNX, torch.export (pt2) or a training script.

ARCH is a preset name, a graph .json file, or a run folder from `train --out` (or one of its .pt
checkpoints), whose trained weights then go along: inside the TorchScript, ONNX and pt2 files, and as a .pt
state_dict beside the .py that its build() loads with strict=True. Without a run, TorchScript, ONNX and pt2 hold
the initial weights of --seed (default 0), the ones `train --seed` starts from; every file says which weights
it holds (the .py's WEIGHTS, weights.txt in a TorchScript or pt2 archive, ONNX metadata "weights"). An existing
output is replaced only with --force, and never a checkpoint.

  py           one readable module that imports only torch: a class per block type, build(num_classes=...),
               load_compiled() for Residual Explorer's own weights
  torchscript  the network traced in eval mode; load it with torch.jit.load
  onnx         torch.onnx.export with a free batch dimension (needs: pip install 'residual-explorer[onnx]')
  pt2          torch.export.export with a free batch dimension, saved by torch.export.save (TorchScript's
               successor); load it with torch.export.load(FILE).module()
  train-script a standalone training script (torch only, the network inlined) for one device or
               torchrun --nproc_per_node N (DistributedDataParallel); the options below set its defaults
"""
from __future__ import annotations

import dataclasses
import sys

from explorer.cli import UserError, export_script

FORMATS = ("py", "torchscript", "onnx", "pt2", "train-script")  # explorer.export.formats.FORMATS + the script
NAMES = ("ours", "torchvision")  # explorer.export.formats.NAMES


def add_arguments(p) -> None:
    import argparse
    p.formatter_class = argparse.RawDescriptionHelpFormatter
    p.epilog = __doc__.split("\n", 1)[1].strip()
    p.add_argument("arch", metavar="ARCH", help="preset name, graph .json file, or run folder from `train --out`")
    p.add_argument("--format", required=True, choices=FORMATS, help="what to write")
    p.add_argument("-o", "--out", required=True, metavar="FILE", help="the file to write")
    p.add_argument("--seed", type=int, help="seed of the initial weights when ARCH is no run: torchscript, onnx, pt2 "
                                            "hold those of seed 0 unless told; py writes them beside the .py "
                                            "only when given; train-script: its default seed")
    p.add_argument("--names", choices=NAMES, default="ours",
                   help="py: the layers' names: ours (the node ids, default) or torchvision (conv1, bn1, layer1 … "
                        "layer4, fc, downsample: torchvision's state_dict loads; torchvision's ResNets only)")
    p.add_argument("--force", action="store_true",
                   help="replace existing output files (never a checkpoint or other file of a run folder, a "
                        "read-only file or the file exported)")
    export_script.add_arguments(p)


def run(args) -> int:
    from explorer.export import ExportError
    from explorer.export import torchvision_names
    from explorer.export.formats import check_target, export, plan, with_default_seed
    from explorer.export.source import load_source
    from explorer.train.config import SEED_MAX

    if export_script.unused(args):
        raise UserError(export_script.unused(args))
    script = args.format == "train-script"
    if args.seed is not None and not 0 <= args.seed <= SEED_MAX:
        raise UserError(f"--seed must be a whole number 0..{SEED_MAX:,}, as for train (got {args.seed})")
    if args.names != "ours" and args.format != "py":
        raise UserError(f"--names {args.names} renames the layers of the .py module; use it with --format py")
    try:
        check_target("py" if script else args.format, args.out)  # a script is a .py file
        source = load_source(args.arch)
        if args.seed is not None and not script:
            if source.weights is not None:
                raise UserError(f"{args.arch} is a run: its trained weights go along, and --seed only chooses "
                                "initial weights; leave --seed out")
            source = dataclasses.replace(source, seed=args.seed)
        if script:
            print(export_script.write(args, source))
            return 0
        plan(source, args.format, args.out, args.force, args.names)
        if args.format != "py":
            print(f"exporting {source.graph.name} as {args.format} ...", file=sys.stderr, flush=True)
        written = export(source, args.format, args.out, force=args.force, names=args.names)
    except ExportError as e:
        raise UserError(str(e)) from None
    if args.format == "py" and args.names == "ours" and torchvision_names.fits(source.graph):
        print("notice: this is a torchvision ResNet; --names torchvision names its layers as torchvision does, "
              "so torchvision's state_dict loads into it", file=sys.stderr)
    note = with_default_seed(source, args.format).weights_note()
    if len(written) == 1:
        print(f"wrote {written[0]} ({args.format}; weights: {note})")
        return 0
    print(f"wrote {written[0]} ({args.format})")
    for extra in written[1:]:
        print(f"wrote {extra} (weights: {note}; model.load_state_dict(torch.load(...)) after build())")
    return 0
