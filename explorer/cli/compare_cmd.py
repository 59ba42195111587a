"""Train a network and its plain twin (shortcuts removed), same settings and seed, and compare them.

The twin trains first, then the network; both summaries are printed side by side, and --json prints one
object {"residual": {...}, "plain": {...}}, each the object `train --json` prints. Try
`compare resnet56 --epochs 10` on the built-in digits: the plain twin ends with a far higher training
loss (the degradation problem).
"""
from __future__ import annotations

import sys

from explorer.arch import DEFAULT_ARCH
from explorer.cli import UserError
from explorer.cli.training_run import (USER_FAILURES, add_data_arguments, add_training_arguments, checked, clear_old_run,
                                       config_changes, failure, load_data, load_graph, summary,
                                       train_with_progress)
from explorer.train.config import TrainConfig
from explorer.util import strict_json

ROWS = (("status", "status", str), ("epochs", "epochs", str), ("steps", "steps", str),
        ("params", "parameters", "{:,}".format), ("final_train_loss", "final train loss", "{:.4f}".format),
        ("final_val_loss", "final val loss", "{:.4f}".format), ("final_val_acc", "final val acc", "{:.2%}".format),
        ("best_val_acc", "best val acc", "{:.2%}".format), ("samples_per_s", "samples/s", "{:,.0f}".format),
        ("device", "device", str), ("reason", "failure", str))


def add_arguments(p) -> None:
    import argparse
    p.formatter_class = argparse.RawDescriptionHelpFormatter
    p.epilog = __doc__.split("\n", 1)[1].strip()
    p.add_argument("arch", metavar="ARCH", nargs="?", default=DEFAULT_ARCH,
                   help=f"preset name (see `presets`) or graph .json file with shortcuts (default {DEFAULT_ARCH})")
    add_data_arguments(p)
    add_training_arguments(p, "training (the same for both networks; unset options keep the defaults)")
    p.add_argument("--out", metavar="DIR", help="write each run's files as `train --out` does, "
                                                "in DIR/plain and DIR/residual")
    p.add_argument("--force", action="store_true",
                   help="replace the runs that DIR/plain and DIR/residual already hold")
    p.add_argument("--json", action="store_true",
                   help='print one JSON object {"residual": {...}, "plain": {...}} on stdout at the end')


def run(args) -> int:
    from explorer.train.compare import PLAIN, RESIDUAL, plan_comparison
    from explorer.train.control import TrainControl
    from explorer.train.reports import FailedReport

    cfg = checked(TrainConfig().replace(**config_changes(args), out_dir=args.out))
    graph = load_graph(args.arch)
    plan = plan_comparison(graph, cfg)
    if plan.identical:
        raise UserError(f"{plan.describe()}; compare a network with shortcuts, e.g. resnet20 (see `presets`)")
    for r in plan.runs:
        clear_old_run(r.config.out_dir, args.force)
    dataset = load_data(args, cfg.seed)

    out = sys.stderr if args.json else sys.stdout
    print(plan.describe(limit=5), file=out)
    control = TrainControl()  # one for both: Ctrl-C stops the comparison, not just the run under way
    results, failed = {}, []
    for r in plan.runs:
        final, params = train_with_progress(r.graph, dataset, r.config, out, r.arch, control=control)
        if isinstance(final, FailedReport):
            if final.kind in USER_FAILURES:
                raise UserError(f"{r.arch}: {final.text}")
            # A plain network whose loss diverges is a result of the comparison, not a reason to stop it.
            results[r.role] = failure(final)
            failed.append(f"{r.arch}: {final.text}")
        else:
            results[r.role] = summary(final, r.arch, dataset, params)
    if args.json:
        print(strict_json.dumps({RESIDUAL: results[RESIDUAL], PLAIN: results[PLAIN]}))
    else:
        print(side_by_side(plan.run(RESIDUAL).arch, results[RESIDUAL], plan.run(PLAIN).arch, results[PLAIN]))
    for text in failed:
        print(f"error: {text}", file=sys.stderr)
    return 1 if failed else 0


def side_by_side(left_name: str, left: dict, right_name: str, right: dict) -> str:
    """A table of the two summaries: one row per figure either has."""
    def cell(summary: dict, key: str, fmt) -> str:
        value = summary.get(key)
        return "n/a" if value is None else fmt(value)

    rows = [("", left_name, right_name)] + [(label, cell(left, key, fmt), cell(right, key, fmt))
                                            for key, label, fmt in ROWS if key in left or key in right]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    return "\n".join(f"{a:<{widths[0]}}  {b:>{widths[1]}}  {c:>{widths[2]}}".rstrip() for a, b, c in rows)
