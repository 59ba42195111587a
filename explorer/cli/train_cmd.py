"""Train an architecture on a data set, with a progress bar; --json ends with a summary object.

The defaults reproduce He et al.'s experiments on the built-in digits in seconds on a CPU: SGD with
Nesterov momentum 0.9, learning rate 0.05 with one epoch of linear warm-up then cosine decay, batch 64,
weight decay 5e-4, no augmentation. `resnet20 --epochs 3` passes 93 % validation accuracy; with 10
epochs plain56 ends with a far higher training loss than resnet56 (the degradation problem).
"""
from __future__ import annotations

import sys
from pathlib import Path

from explorer.arch import DEFAULT_ARCH
from explorer.cli import UserError
from explorer.cli.training_run import (USER_FAILURES, add_data_arguments, add_log_arguments, add_training_arguments,
                                       checked, clear_old_run, config_changes, failure, load_data, load_graph, result_line,
                                       summary, tensorboard_log, train_with_progress)
from explorer.train.config import TrainConfig
from explorer.util import strict_json


def add_arguments(p) -> None:
    import argparse
    p.formatter_class = argparse.RawDescriptionHelpFormatter
    p.epilog = __doc__.split("\n", 1)[1].strip()
    p.add_argument("arch", metavar="ARCH", nargs="?",
                   help=f"preset name (see `presets`) or graph .json file (default {DEFAULT_ARCH}, the network the "
                        "window opens on; with --resume the checkpoint's, with --init-from a run folder its own)")
    add_data_arguments(p)
    add_training_arguments(p, "training (unset options keep the defaults, or the checkpoint's with --resume)")
    p.add_argument("--out", metavar="DIR", help="write checkpoints (last.pt, best.pt), graph.json, config.json, "
                                                "metrics.csv, steps.csv and layer_stats.csv here")
    add_log_arguments(p)
    p.add_argument("--resume", metavar="CHECKPOINT", help="continue a run from its last.pt (or run folder)")
    p.add_argument("--force", action="store_true",
                   help="replace a run that --out already holds (without it, such a folder is refused)")
    p.add_argument("--json", action="store_true", help="print one JSON summary object on stdout at the end")


def run(args) -> int:
    from explorer.train import CheckpointError, load_checkpoint
    from explorer.train.reports import FailedReport

    ckpt = None
    if args.resume and args.init_from:
        raise UserError("--resume continues a run, --init-from starts a new one from its weights: use one of them")
    if not args.arch and args.init_from and (Path(args.init_from) / "graph.json").is_file():
        args.arch = str(Path(args.init_from) / "graph.json")  # fine-tune the run's own network
    if args.resume:
        try:
            ckpt = load_checkpoint(args.resume)
        except CheckpointError as e:
            raise UserError(str(e)) from None
    elif not args.arch:
        args.arch = DEFAULT_ARCH
    base = ckpt.config if ckpt else TrainConfig()
    changes = config_changes(args)
    if args.out is not None:
        changes["out_dir"] = args.out
    elif ckpt is not None:
        # Write only where the user pointed: the folder named by --resume, never a path stored in the file.
        named = Path(args.resume)
        changes["out_dir"] = str(named if named.is_dir() else named.parent)
    cfg = checked(base.replace(**changes))
    if ckpt is None:
        clear_old_run(cfg.out_dir, args.force)
    log = tensorboard_log(args.tensorboard)  # a missing package is said before the slow steps

    graph = load_graph(args.arch) if args.arch else None
    if ckpt is not None and graph is not None:
        print("notice: --resume uses the checkpoint's network; ARCH is ignored", file=sys.stderr)
        graph = None
    dataset = load_data(args, cfg.seed)
    name = (graph or ckpt.graph).name
    from explorer.network.memory import training_problem  # refuse before a 60 GB allocation, not after
    too_big = training_problem(graph or ckpt.graph, dataset.input_shape, dataset.num_classes, cfg.batch_size,
                               cfg.optimizer, cfg.device)
    if too_big:
        raise UserError(too_big)

    final, params = train_with_progress(graph, dataset, cfg, sys.stderr if args.json else sys.stdout, name,
                                        resume=ckpt, log=log)
    lost_log = log.failure if log is not None else None  # e.g. a full disk: the run's own files are kept
    if lost_log and not isinstance(final, FailedReport):
        raise UserError(lost_log)
    if lost_log:
        print(f"warning: {lost_log}", file=sys.stderr)
    if isinstance(final, FailedReport):
        if final.kind in USER_FAILURES:
            raise UserError(final.text)
        if args.json:
            print(strict_json.dumps(failure(final)))
        print(f"error: {final.text}", file=sys.stderr)
        return 1
    if args.json:
        print(strict_json.dumps(summary(final, name, dataset, params)))
    else:
        print(result_line(final))
    return 0
