"""Many trainings as one study: depth over a family (the degradation experiment) or a grid of architectures,
each network with its plain twin and several seeds, on a local pool of worker processes or on Ray.

  python main.py study depth resnet --depths 20,56 --epochs 3 --out D     # plain twins trained too
  python main.py study grid --archs resnet20,preact_resnet20 --seeds 3 --out G
  python main.py study status D [--json]          # trials, their state, the figure's numbers so far
  python main.py study report D -o report.html    # one self-contained page

D/ holds study.json (settings, trials, states), trials/<id>/ (each an ordinary run folder: analyze, export
and the window open it), results.csv and depth.png. Running the same command again, or --resume, continues
a study: finished trials are kept, interrupted ones resume from their last.pt, failed ones are retried
once. Ctrl-C stops it (running trials save last.pt first) and exits 130; it resumes later. On a CPU the
local pool runs one trial per core with one thread each, on CUDA one trial per GPU (--workers, --threads
override). --ray starts or joins a local Ray instance, --ray ADDRESS joins a cluster (needs: pip install
'residual-explorer[ray]').
"""
from __future__ import annotations

import signal
import sys
import time

from explorer.cli import UserError
from explorer.cli.ctrl_c import cancel_on_ctrl_c
from explorer.cli.training_run import add_data_arguments, add_training_arguments, config_changes, load_data
from explorer.util import strict_json

ACTIONS = ("depth", "grid", "status", "report")
TARGETS = {"depth": "FAMILY", "status": "STUDY_DIR", "report": "STUDY_DIR"}
RUN_ONLY = ("depths", "archs", "seeds", "twin", "workers", "ray", "resume")
HOW_TO_RUN = ("threads", "device")  # training options that say where the trials run, not what they compute
DATA_DEFAULTED = ("dataset", "val_fraction")
PROGRESS_EVERY_S = 10.0


def add_arguments(p) -> None:
    import argparse
    p.formatter_class = argparse.RawDescriptionHelpFormatter
    p.epilog = __doc__.split("\n", 1)[1].strip()
    p.add_argument("action", choices=ACTIONS, help="depth, grid, status or report")
    p.add_argument("target", metavar="FAMILY|STUDY_DIR", nargs="?",
                   help="depth: the family, as `analyze depth-sweep` takes it (resnet, preact_resnet, a preset or "
                        "graph file as template); status, report: the study folder")
    g = p.add_argument_group("study")
    g.add_argument("--depths", metavar="D1,D2,...", help="depth: total weight layers, e.g. 20,32,56")
    g.add_argument("--archs", metavar="A,B,...", help="grid: presets or graph files, e.g. resnet56,preact_resnet56")
    g.add_argument("--seeds", type=int, help="seeds per network, counting up from --seed (default 1)")
    g.add_argument("--twin", action=argparse.BooleanOptionalAction, default=None,
                   help="also train each network's plain twin (shortcuts removed); default on for depth, "
                        "off for grid")
    g.add_argument("--out", metavar="DIR", help="depth, grid: the study folder (new, empty, or this study's "
                                                "to continue it)")
    g.add_argument("--resume", action="store_true", help="continue the study in --out with its own settings")
    g.add_argument("--workers", type=int, metavar="N", help="trials at once (default: one per GPU, else one "
                                                            "per CPU core)")
    g.add_argument("--ray", nargs="?", const="", metavar="ADDRESS",
                   help="run each trial as a Ray task: alone, start or join a local Ray instance; with ADDRESS, "
                        "join that cluster")
    g.add_argument("-o", "--output", metavar="FILE", help="report: the HTML file to write (default "
                                                         "STUDY_DIR/report.html)")
    g.add_argument("--json", action="store_true", help='print one JSON object {"trials": [...], "summary": [...], '
                                                      '"verdict": "..."} on stdout at the end')
    add_data_arguments(p)
    add_training_arguments(p, "training (every trial the same; unset options keep the defaults of `train`)")
    # Unset data options stay None until ``run`` gives them their defaults, so that --resume can tell a
    # --dataset given from the default; each option's own spelling, for --resume's refusal.
    data_defaults = {k: p.get_default(k) for k in DATA_DEFAULTED}
    p.set_defaults(**dict.fromkeys(DATA_DEFAULTED), data_defaults=data_defaults,
                   option_names={a.dest: a.option_strings[0] for a in p._actions if a.option_strings})


def run(args) -> int:
    _check_options(args)
    for k, v in getattr(args, "data_defaults", {}).items():
        if getattr(args, k) is None:
            setattr(args, k, v)
    if args.action == "status":
        return _status(args)
    if args.action == "report":
        return _report(args)
    return _run(args)


def _check_options(args) -> None:
    if args.resume and args.action in ("depth", "grid"):
        _check_resume(args)
        return
    if args.action in TARGETS and not args.target:
        raise UserError(f"study {args.action} needs {TARGETS[args.action]}")
    if args.action == "grid" and args.target:
        raise UserError(f"study grid takes no FAMILY ('{args.target}'); name the networks with --archs A,B,C")
    if args.action in ("status", "report"):
        used = [o for o in RUN_ONLY if getattr(args, o) not in (None, False)] + (["out"] if args.out else [])
        if used:
            raise UserError(f"study {args.action} takes only STUDY_DIR (and --json / -o), not --{used[0]}")
    elif args.output:
        raise UserError("-o/--output is for `study report`")
    if args.action == "depth" and args.archs:
        raise UserError("--archs is for `study grid`; study depth builds FAMILY at each of --depths")
    if args.action == "grid" and args.depths:
        raise UserError("--depths is for `study depth`; study grid trains the networks named by --archs")
    if args.action == "depth" and not args.depths and not args.resume:
        raise UserError("study depth needs --depths, e.g. --depths 20,32,56")
    if args.action == "grid" and not args.archs and not args.resume:
        raise UserError("study grid needs --archs, e.g. --archs resnet20,preact_resnet20")
    if args.action in ("depth", "grid") and not args.out:
        raise UserError(f"study {args.action} needs --out DIR, the study folder")
    if args.workers is not None and not 1 <= args.workers <= 1024:
        raise UserError(f"--workers must be 1 to 1024, got {args.workers}")


def _check_resume(args) -> None:
    """--resume continues the study with the settings it was started with: a FAMILY or an option that would
    change them is refused, not ignored (the same command without --resume checks them against the study)."""
    if not args.out:
        raise UserError(f"study {args.action} --resume needs --out DIR, the study folder")
    names = getattr(args, "option_names", {})
    given = [o for o in ("depths", "archs", "seeds", "twin") if getattr(args, o) is not None]
    given += [k for k in config_changes(args) if k not in HOW_TO_RUN]
    given += [k for k in DATA_DEFAULTED if getattr(args, k, None) is not None]
    given += ["data_option"] if args.data_option else []
    given = [names.get(k, f"--{k.replace('_', '-')}") for k in given]
    if args.target:
        given.insert(0, f"FAMILY ('{args.target}')")
    if given:
        raise UserError(f"--resume continues the study in {args.out} with the settings it was started with, so "
                        f"{given[0]} would be ignored: leave it out, or run the study's own command without "
                        "--resume (other settings are refused there)")


def _spec(args):
    from explorer.studies import DEPTH, GRID, SpecError, StudySpec, seed_list
    from explorer.studies.spec import parse_data_options

    changes = config_changes(args)
    first_seed = changes.pop("seed", 0)
    changes.pop("threads", None)  # the executor's (threads per worker), not part of what a trial computes
    try:
        seeds = seed_list(first_seed, args.seeds if args.seeds is not None else 1)
        options = parse_data_options(args.data_option)
        if args.action == "depth":
            spec = StudySpec(DEPTH, family=args.target, depths=tuple(_depths(args.depths)), seeds=seeds,
                             twin=args.twin is not False, dataset=args.dataset, data_options=options,
                             val_fraction=args.val_fraction, config=changes)
        else:
            archs = tuple(a.strip() for a in args.archs.split(",") if a.strip())
            spec = StudySpec(GRID, archs=archs, seeds=seeds, twin=bool(args.twin), dataset=args.dataset,
                             data_options=options, val_fraction=args.val_fraction, config=changes)
        return spec.check()
    except SpecError as e:
        raise UserError(str(e)) from None


def _depths(text: str) -> list[int]:
    try:
        return sorted({int(t) for t in text.split(",") if t.strip()})
    except ValueError:
        raise UserError(f"--depths must be whole numbers separated by commas, like 20,32,56; got '{text}'") from None


def _executor(args):
    from explorer.studies import ExecutorError, LocalExecutor, ray_executor

    device = args.device or "auto"
    if args.ray is None:
        return LocalExecutor(args.workers, args.threads, device)
    try:
        return ray_executor(args.ray or None, args.threads, device, args.workers)
    except ExecutorError as e:
        raise UserError(str(e)) from None


def _run(args) -> int:
    from explorer.studies import ExecutorError, SpecError, StudyControl, StudyError, result_object, run_study

    spec = None if args.resume else _spec(args)
    if spec is not None:
        load_data(args, spec.seeds[0])  # a data set that cannot load is said once, before any worker starts
    executor = _executor(args)
    control = StudyControl()
    show = _Progress(executor)
    previous = cancel_on_ctrl_c(control, "stopping the running trials; the study resumes later")
    try:
        study = run_study(spec, args.out, executor, progress=show, control=control)
    except (StudyError, SpecError, ExecutorError) as e:
        raise UserError(str(e)) from None
    finally:
        signal.signal(signal.SIGINT, previous) if previous is not None else None
    result = result_object(study)
    if args.json:
        print(strict_json.dumps(result))
    else:
        print(_table(result))
        print(_figure_table(result))
        print(f"verdict: {result['verdict']}")
    failed = [t for t in study.trials if t.state == "failed"]
    for t in failed:
        print(f"error: trial {t.id} failed: {t.error}", file=sys.stderr)
    if control.cancelled:
        print(f"stopped; run the same command again (or add --resume) to continue the study in {args.out}",
              file=sys.stderr)
        return 130
    return 1 if failed else 0


class _Progress:
    """One line on stderr when a trial starts or ends, and every few seconds while trials train."""

    def __init__(self, executor) -> None:
        self.executor = executor
        self.last = 0.0

    def __call__(self, u) -> None:
        if u.kind == "opened":
            print(f"study: {len(u.study.trials)} trials ({u.counts['done']} done already) on "
                  f"{self.executor.describe()}", file=sys.stderr, flush=True)
            for n in u.study.notices:
                print(f"notice: {n}", file=sys.stderr)
            return
        now = time.monotonic()
        if u.kind == "event" and now - self.last < PROGRESS_EVERY_S:
            return
        self.last = now
        what = {"started": f"{u.trial_id} started", "finished": f"{u.trial_id} {u.data.get('status')}",
                "event": "training", "ended": "end"}.get(u.kind, u.kind)
        if u.kind == "finished" and u.data.get("status") == "failed":
            what += f": {u.data.get('error')}"
        c = u.counts
        eta = "" if u.eta_s is None else f", ETA {_clock(u.eta_s)}"
        print(f"[{c['done'] + c['failed']}/{len(u.study.trials)} done ({c['failed']} failed), {c['running']} "
              f"running, {c['pending']} left{eta}] {what}", file=sys.stderr, flush=True)


def _clock(seconds: float) -> str:
    s = int(round(seconds))
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}"


def _open(folder: str):
    from explorer.studies import StudyError, StudyFolder
    try:
        return StudyFolder(folder).load()
    except StudyError as e:
        raise UserError(str(e)) from None


def _status(args) -> int:
    from explorer.studies import result_object
    study = _open(args.target)
    result = result_object(study)
    if args.json:
        print(strict_json.dumps(dict(result, counts=study.counts())))
        return 0
    print(_table(result))
    print(_figure_table(result))
    print(", ".join(f"{n} {s}" for s, n in study.counts().items()))
    print(f"verdict so far: {result['verdict']}")
    return 0


def _report(args) -> int:
    from pathlib import Path

    from explorer.studies.folder import REPORT_FILE
    from explorer.studies.report import write_report
    study = _open(args.target)
    out = Path(args.output or Path(args.target) / REPORT_FILE)
    if out.suffix.lower() not in (".html", ".htm"):
        # -o study.json or a checkpoint would be replaced by the page: only an .html name is ours to write
        raise UserError(f"-o {out}: the report is an HTML page; give a file name ending in .html")
    try:
        write_report(study, args.target, out)
    except OSError as e:
        raise UserError(f"cannot write {out}: {e.strerror or e}") from None
    print(f"wrote {out}", file=sys.stderr)
    if args.json:  # a script gets the page's path like every other --json answer: one object on stdout
        print(strict_json.dumps({"report": str(out)}))
    return 0


def _table(result: dict) -> str:
    def pct(v):
        return "" if v is None else f"{100 * v:.1f} %"

    rows = [("trial", "depth", "state", "train loss", "train err", "val err", "error")]
    for t in result["trials"]:
        loss = "" if t["final_train_loss"] is None else f"{t['final_train_loss']:.4f}"
        rows.append((t["id"], str(t["depth"]), t["state"], loss, pct(t["final_train_err"]), pct(t["final_val_err"]),
                     (t["error"] or "")[:60]))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c.ljust(w) if i in (0, 2, 6) else c.rjust(w) for i, (c, w) in
                               enumerate(zip(r, widths))).rstrip() for r in rows)


def _figure_table(result: dict) -> str:
    """The figure's numbers: mean ± standard deviation over seeds per depth, plain and residual (no ± from
    one seed: a single run has no spread to show)."""
    def pm(mean, std, n):
        if mean is None:
            return ""
        return f"{100 * mean:.1f} ± {100 * std:.1f} %" if n > 1 else f"{100 * mean:.1f} %"

    lines = [f"{'network':<24} {'depth':>5}  {'train err':>16}  {'val err':>16}  seeds"]
    for r in result["summary"]:
        name = f"{r['arch']}{' (plain)' if r['plain'] else ''}"
        lines.append(f"{name:<24} {r['depth']:>5}  {pm(r['train_err_mean'], r['train_err_std'], r['n']):>16}  "
                     f"{pm(r['val_err_mean'], r['val_err_std'], r['n']):>16}  {r['n']:>5}")
    return "\n".join(lines)
