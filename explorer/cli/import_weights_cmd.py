"""Load a torchvision or timm state_dict saved on disk into the preset of the same structure, and write it
as a run folder (graph.json, config.json, last.pt) that analyze, export and the window open like a trained run.

The file is read with torch.load(weights_only=True): tensors only, no code runs. Tensors are paired with
the preset's in order and every shape must agree; the first that does not is named. A folder that already
holds a run is refused unless --force, which replaces it whole. Example:
  python main.py import-weights resnet18 resnet18-f37072fd.pth -o runs/resnet18_imagenet
"""
from __future__ import annotations

import sys

from explorer.cli import UserError


def add_arguments(p) -> None:
    p.add_argument("preset", metavar="PRESET", help="the preset the weights were trained as (see `presets`)")
    p.add_argument("weights", metavar="FILE.pth", help="a state_dict written with torch.save")
    p.add_argument("-o", "--out", metavar="RUN_DIR", required=True, help="run folder to write")
    p.add_argument("--force", action="store_true", help="replace RUN_DIR whole when it already holds a run")
    p.add_argument("--num-classes", type=int, help="classes of the file's classifier, when not the preset's")
    p.add_argument("--input-shape", metavar="C,H,W", help="input the weights were trained on, when not the "
                                                          "preset's")


def run(args) -> int:
    from explorer.arch import ArchError, parse_shape
    from explorer.importer import ImporterError, import_weights

    if args.num_classes is not None and args.num_classes < 1:
        raise UserError("--num-classes must be at least 1")
    try:
        shape = parse_shape(args.input_shape) if args.input_shape else None
        notes: list[str] = []
        out = import_weights(args.preset, args.weights, args.out, args.num_classes, shape, force=args.force,
                             notes=notes)
    except ArchError as e:
        raise UserError(f"--input-shape: {e}") from None
    except ImporterError as e:
        raise UserError(str(e)) from None
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    print(f"wrote {out}: {args.preset} with the weights of {args.weights}; open it with "
          f"`python main.py {out / 'graph.json'}`")
    return 0
