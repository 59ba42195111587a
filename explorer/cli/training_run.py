"""One training run on the command line, shared by `train` and `compare`: the data and training options,
the config they make, loading the network and data set, the progress display and the summary object.

Not a command itself (commands are the ``*_cmd`` modules).
"""
from __future__ import annotations

import signal
import sys
from pathlib import Path

from explorer.cli import UserError
from explorer.train.config import TrainConfig
from explorer.train.fields import FIELDS

# Failures found before the first step: the user's input, so one `error:` line rather than a failed run.
USER_FAILURES = ("config", "graph", "data", "device", "checkpoint")

CONFIG_ARGS = ("epochs", "batch_size", "lr", "optimizer", "momentum", "nesterov", "schedule", "warmup_epochs",
               "weight_decay", "label_smoothing", "grad_clip", "crop_padding", "flip", "device", "amp",
               "channels_last", "compile", "seed", "threads", "max_steps", "log_every", "stats_every", "init_from",
               "freeze", "freeze_bn", "unfreeze_at", "lr_mult", "train_samples")


def add_data_arguments(p) -> None:
    p.add_argument("--dataset", default="digits", metavar="NAME",
                   help="digits, shapes, cifar10:PATH, mnist:PATH, fashion-mnist:PATH or folder:PATH (default digits)")
    p.add_argument("--data-option", action="append", default=[], metavar="KEY=VALUE",
                   help="data set option, e.g. size=8000 or image_size=32 for shapes (repeatable)")
    p.add_argument("--val-fraction", type=float, default=0.2,
                   help="share held out for validation where the data set has no test split (default 0.2)")


def add_training_arguments(p, title: str = "training") -> None:
    """The options that make a TrainConfig (see CONFIG_ARGS); unset ones stay None, so a caller can tell
    them from the defaults."""
    d = TrainConfig()
    g = p.add_argument_group(title)
    for name in ("epochs", "batch_size", "lr", "optimizer"):
        add_option(g, name)
    g.add_argument("--momentum", type=float, help=f"SGD momentum (default {d.momentum})")
    g.add_argument("--no-nesterov", dest="nesterov", action="store_const", const=False,
                   help="plain instead of Nesterov momentum")
    add_option(g, "schedule")
    g.add_argument("--warmup", type=float, dest="warmup_epochs", metavar="EPOCHS",
                   help=f"linear warm-up epochs (default {d.warmup_epochs:g}; 0 = none)")
    add_option(g, "weight_decay")
    g.add_argument("--label-smoothing", type=float, help="default 0")
    g.add_argument("--grad-clip", type=float, metavar="NORM", help="clip the global gradient norm (default off)")
    g.add_argument("--crop", type=int, dest="crop_padding", metavar="PIXELS",
                   help="random-crop augmentation after padding by PIXELS (CIFAR: 4; default 0)")
    g.add_argument("--flip", action="store_const", const=True, help="random horizontal flips")
    for name in ("device", "amp"):
        add_option(g, name)
    g.add_argument("--channels-last", action="store_const", const=True, help="channels-last memory format")
    for name in ("compile", "seed"):
        add_option(g, name)
    g.add_argument("--threads", type=int, help="CPU threads (default: torch's choice, all cores)")
    g.add_argument("--max-steps", type=int, help="stop after this many steps")
    g.add_argument("--log-every", type=int, help=f"steps between progress updates (default {d.log_every})")
    g.add_argument("--stats-every", type=int,
                   help=f"steps between per-layer gradient statistics, 0 = off (default {d.stats_every})")
    add_fine_tuning_arguments(p)


def add_fine_tuning_arguments(p) -> None:
    import argparse
    g = p.add_argument_group("fine-tuning (node names: node or stage ids, or until:NODE for all up to NODE)")
    g.add_argument("--init-from", metavar="SOURCE",
                   help="start from these weights: a run folder, a checkpoint or a .pth state_dict; tensors go by "
                        "node id and shape, the rest is re-initialised and listed (optimizer and epochs start fresh)")
    g.add_argument("--freeze", metavar="NODES", help="comma-separated nodes to keep fixed (no gradient, not in the "
                                                     "optimizer), e.g. until:stage2")
    g.add_argument("--freeze-bn", action=argparse.BooleanOptionalAction, default=None,
                   help="keep the BatchNorm statistics of frozen nodes (eval mode; default on)")
    add_option(g, "unfreeze_at")
    g.add_argument("--lr-mult", metavar="NODE=FACTOR,...", help="per-node learning-rate factors, e.g. "
                                                               "until:stage2=0.1,classifier=10")
    add_option(g, "train_samples")


def add_option(group, name: str) -> None:
    """Add the option of the settings table's field ``name`` (``explorer.train.fields``, which the window's
    training form is built from too); unset, it stays None, so a caller can tell it from the default."""
    f = FIELDS[name]
    if f.kind is bool:
        group.add_argument(f.flag, action="store_const", const=True, help=f.cli_help())
    elif f.choices:
        group.add_argument(f.flag, choices=f.choices, help=f.cli_help())
    else:
        group.add_argument(f.flag, type=None if f.kind is str else f.kind, metavar=f.metavar, help=f.cli_help())


def add_log_arguments(p) -> None:
    p.add_argument("--tensorboard", metavar="DIR",
                   help="also write TensorBoard event files here: loss, accuracy, learning rate and per-layer "
                        "gradient norms by stage (needs: pip install 'residual-explorer[tensorboard]')")


def tensorboard_log(folder: str | None):
    """The TensorBoard consumer for ``--tensorboard``, opened before any slow step; None without the flag."""
    if folder is None:
        return None
    from explorer.train.tensorboard_log import TensorBoardError, TensorBoardLog
    try:
        return TensorBoardLog(folder)
    except TensorBoardError as e:
        raise UserError(str(e)) from None


def config_changes(args) -> dict:
    """The training options the user set, as TrainConfig fields."""
    changes = {k: getattr(args, k) for k in CONFIG_ARGS if getattr(args, k) is not None}
    if "freeze" in changes:
        changes["freeze"] = _node_list(changes["freeze"])
    if "lr_mult" in changes:
        changes["lr_mult"] = _multipliers(changes["lr_mult"])
    return changes


def _node_list(text: str) -> list[str]:
    nodes = [n.strip() for n in text.split(",") if n.strip()]
    if not nodes:
        raise UserError(f"--freeze '{text}' names no node; give node or stage ids, e.g. --freeze until:stage2")
    return nodes


def _multipliers(text: str) -> dict[str, float]:
    out = {}
    for item in (i.strip() for i in text.split(",")):
        node, sep, value = item.rpartition("=")
        try:
            factor = float(value)
        except ValueError:
            factor = None
        if not sep or not node.strip() or factor is None:
            raise UserError(f"--lr-mult '{item}' must look like NODE=FACTOR, e.g. classifier=10 or until:stage2=0.1")
        out[node.strip()] = factor
    return out


def checked(cfg: TrainConfig) -> TrainConfig:
    """The settings, range-checked; ``threads`` is applied here, once for the process (a run never sets
    process-wide torch state)."""
    from explorer.train import ConfigError
    try:
        cfg = cfg.check()
    except ConfigError as e:
        raise UserError(str(e)) from None
    _refuse_other_folders(cfg.out_dir)
    if cfg.threads:
        import torch
        torch.set_num_threads(cfg.threads)
    return cfg


def _refuse_other_folders(out_dir: str | None) -> None:
    """A study's or a lesson's folder takes no run's files (their commands would then refuse it)."""
    from explorer.train.run_dir import owned_elsewhere
    problem = owned_elsewhere(out_dir) if out_dir else None
    if problem:
        raise UserError(problem.replace("another folder", "another --out folder"))


def clear_old_run(out_dir: str | None, force: bool) -> None:
    """A new run (no --resume) into a folder that holds a trained one: refused unless --force, which replaces
    the old run whole, so the folder never mixes a new last.pt with the old best.pt and metrics.csv."""
    from explorer.train.run_dir import run_files
    from explorer.train.run_lock import RunFolderInUse, RunLock
    held = [name for name in run_files(out_dir) if name not in ("graph.json", "config.json")] if out_dir else []
    if not held:
        return
    if not force:
        raise UserError(f"{out_dir} already holds a run ({', '.join(held)}): add --resume {out_dir} to continue "
                        "it, --force to replace it whole, or choose another --out folder")
    try:
        with RunLock(out_dir):  # not while another process trains into it
            for name in run_files(out_dir):
                Path(out_dir, name).unlink()
    except RunFolderInUse as e:
        raise UserError(str(e)) from None
    except OSError as e:
        raise UserError(f"cannot replace the run in {out_dir}: {e.strerror or e}") from None


def load_graph(arch: str):
    from explorer.arch import ArchError, load_arch
    try:
        return load_arch(arch)
    except ArchError as e:
        raise UserError(str(e)) from None


def load_data(args, seed: int):
    """The data set the options name (kept in the data set cache, so a second run reuses it)."""
    from explorer.data import DatasetError
    from explorer.data.cache import cached_dataset
    try:
        return cached_dataset(args.dataset, seed=seed, val_fraction=args.val_fraction,
                              **_data_options(args.data_option))
    except DatasetError as e:
        raise UserError(str(e)) from None


def train_with_progress(graph, dataset, cfg: TrainConfig, out, name: str, control=None, resume=None, log=None):
    """Run the engine to its end, printing what ``train`` prints (epoch lines on ``out``, the progress bar
    and notices on stderr); ``log`` (e.g. a TensorBoardLog) also gets every report and is closed at the
    end. Returns the FinishedReport or FailedReport and the parameter count."""
    from explorer.train import TrainControl, run_training
    from explorer.train.progress import Progress
    from explorer.train.reports import (EpochReport, FailedReport, FinishedReport, StartedReport, StatusReport,
                                        StepReport)

    progress = Progress(sys.stderr)  # a redrawn bar on a terminal, a plain line every few seconds elsewhere
    control = control or TrainControl()
    ctrl_c = _CtrlC(control)
    final, params = None, 0
    try:
        for r in run_training(graph, dataset, cfg, control, resume=resume):
            if log is not None:
                log.add(r)
            if isinstance(r, StartedReport):
                params = r.params
                for n in r.notices:
                    print(f"notice: {n}", file=sys.stderr)
                subset = (f" ({r.train_samples} of its training samples)"
                          if r.train_samples != int(dataset.y_train.shape[0]) else "")
                print(f"training {name} ({r.params:,} parameters) on {dataset}{subset} "
                      f"with {r.device}: {r.epochs} epochs × {r.steps_per_epoch} steps", file=out)
            elif isinstance(r, StepReport):
                progress.step(r)
            elif isinstance(r, StatusReport) and r.detail:  # --compile: its own phase before the first steps
                progress.clear()
                print(f"warning: {r.detail}" if r.state == "eager" else r.detail, file=sys.stderr, flush=True)
            elif isinstance(r, EpochReport):
                progress.clear()
                val = f"val loss {r.val_loss:.4f} acc {r.val_acc:6.2%}" if r.val_acc is not None else "no validation"
                print(f"epoch {r.epoch:>3}/{r.epochs}  train loss {r.train_loss:.4f} acc {r.train_acc:6.2%}  {val}  "
                      f"{r.samples_per_s:,.0f} samples/s  {r.seconds:.1f}s{'  *best' if r.best else ''}", file=out,
                      flush=True)
            elif isinstance(r, (FinishedReport, FailedReport)):
                final = r
    finally:
        ctrl_c.restore()
        progress.clear()
        if log is not None:
            log.close()
    if ctrl_c.pressed:  # stopped by the user: say where the resumable checkpoint is, then exit 130 (cli.main)
        kept = getattr(final, "checkpoint", None)
        print(f"interrupted{f': resume with --resume {kept}' if kept else ''}", file=sys.stderr)
        raise KeyboardInterrupt
    return final, params


def summary(final, arch: str, dataset, params: int) -> dict:
    """The object ``train --json`` prints for a run that finished (completed or stopped)."""
    return dict(final.summary(), arch=arch, dataset=dataset.name, params=params)


def failure(final) -> dict:
    """The object ``train --json`` prints for a run that failed after it started (NaN loss, out of memory)."""
    return {"status": "failed", "kind": final.kind, "reason": final.reason, "advice": final.advice,
            "epoch": final.epoch, "step": final.step, "checkpoint": final.checkpoint}


def result_line(final) -> str:
    """One line for a run that finished."""
    val = f"final val acc {final.final_val_acc:.2%}" if final.final_val_acc is not None else "no validation"
    return (f"{final.status}: {final.epochs_done} epochs, {final.steps} steps, final train loss "
            f"{_num(final.final_train_loss)}, {val}, {final.samples_per_s:,.0f} samples/s on {final.device}"
            + (f"; checkpoint {final.checkpoint}" if final.checkpoint else ""))


def _data_options(items: list[str]) -> dict:
    from explorer.data.errors import DatasetError
    from explorer.data.options import parse_key_values
    try:
        return parse_key_values(items)
    except DatasetError as e:
        raise UserError(str(e)) from None


class _CtrlC:
    """First Ctrl-C: stop after the current step (the resumable checkpoint is written), and remember it, so the
    command still exits 130 like any interrupted program; second: abort at once. Only in the main thread."""

    def __init__(self, control):
        import threading
        self.control, self.pressed, self.previous = control, False, None
        if threading.current_thread() is threading.main_thread():
            self.previous = signal.signal(signal.SIGINT, self._handler)

    def _handler(self, signum, frame):
        if self.pressed:
            raise KeyboardInterrupt
        self.pressed = True
        self.control.stop()
        print("\nstopping after this step (Ctrl-C again to abort)", file=sys.stderr)

    def restore(self) -> None:
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)


def _num(v) -> str:
    return "n/a" if v is None else f"{v:.4f}"
