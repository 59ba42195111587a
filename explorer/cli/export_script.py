"""`export --format train-script`: the training options whose values become the script's flag defaults,
and writing the script. A run folder's own settings are the starting point; the options given here
override them."""
from __future__ import annotations

from pathlib import Path

from explorer.cli import UserError
from explorer.train.config import OPTIMIZERS, SCHEDULES

# export option -> TrainConfig field
OPTIONS = {"epochs": "epochs", "batch_size": "batch_size", "lr": "lr", "optimizer": "optimizer",
           "schedule": "schedule", "weight_decay": "weight_decay", "script_device": "device", "seed": "seed",
           "max_steps": "max_steps"}


def add_arguments(p) -> None:
    g = p.add_argument_group("train-script defaults (unset: a run folder's settings, else the app's defaults)")
    g.add_argument("--dataset", metavar="SPEC", help="--data: digits, cifar10:PATH, mnist:PATH or folder:PATH "
                                                     "(default digits)")
    g.add_argument("--epochs", type=int, help="passes over the training data")
    g.add_argument("--batch-size", type=int, help="samples per step and process")
    g.add_argument("--lr", type=float, help="peak learning rate")
    g.add_argument("--optimizer", choices=OPTIMIZERS, help="the optimiser")
    g.add_argument("--schedule", choices=SCHEDULES, help="the learning-rate schedule")
    g.add_argument("--weight-decay", type=float, help="on conv and linear weights")
    g.add_argument("--device", dest="script_device", metavar="DEVICE", help="auto, cpu, cuda, cuda:N or mps")
    g.add_argument("--max-steps", type=int, help="stop after this many steps")

def unused(args) -> str | None:
    """The first train-script option given with another format (it would do nothing), as an error."""
    given = [opt for opt in ("dataset", *OPTIONS) if opt != "seed" and getattr(args, opt) is not None]
    if given and args.format != "train-script":
        flag = "--" + ("device" if given[0] == "script_device" else given[0]).replace("_", "-")
        return f"{flag} sets a default of the training script; use it with --format train-script"
    return None


def write(args, source) -> str:
    """Write the script for ``source`` (an ExportSource) to ``args.out``; returns what to tell the user."""
    from explorer.export import ExportError
    from explorer.export.targets import check_outputs
    from explorer.export.train_script import train_script
    from explorer.train.checkpoint import CheckpointError, load_checkpoint
    from explorer.train.config import TrainConfig
    from explorer.util.atomic import write_atomic

    base = TrainConfig()
    if source.weights is not None:  # a trained run: train elsewhere as it was trained here
        try:
            base = load_checkpoint(source.origin).config
        except CheckpointError as e:
            raise UserError(str(e)) from None
    changes = {field: getattr(args, opt) for opt, field in OPTIONS.items() if getattr(args, opt) is not None}
    try:
        text = train_script(source.graph, base.replace(**changes, out_dir=None), data=args.dataset or "digits")
    except ExportError as e:
        raise UserError(str(e)) from None
    try:
        check_outputs([Path(args.out)], args.force, source.files)
    except ExportError as e:
        raise UserError(str(e)) from None
    try:
        write_atomic(args.out, text)
    except OSError as e:
        raise UserError(f"cannot write {args.out} ({e.strerror or e})") from None
    return (f"wrote {args.out} (train-script: python {args.out} --help; "
            f"torchrun --nproc_per_node N {args.out} for several devices)")
