"""Throughput of the training engine (every statistic on), of the compiled network in a minimal PyTorch
loop, and of the same architecture written by hand (where the preset has a hand-written version).

All train on the same data, batch and optimiser, interleaved in one process; `ratio` = engine / plain,
`ratio_vs_reference` = engine / hand-written, `plain_ratio_vs_reference` = plain / hand-written
samples per second (1.0 = free). With --compile also the engine with --compile: `compiled_samples_per_s`,
`compiled_ratio_vs_reference` (÷ the hand-written model in eager mode) and `compile_warmup_s`. Rounds go on
until every ratio is known to ±1 % (at most --max-steps), else a "too noisy" warning. Progress goes to
stderr, as plain lines when it is not a terminal.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

from explorer.arch import DEFAULT_ARCH
from explorer.cli import UserError
from explorer.util import strict_json


def add_arguments(p) -> None:
    p.add_argument("arch", metavar="ARCH", nargs="?", default=DEFAULT_ARCH,
                   help=f"preset name or graph .json file (default {DEFAULT_ARCH})")
    p.add_argument("--dataset", default="digits", metavar="NAME", help="data set (default digits)")
    p.add_argument("--batch-size", type=int, default=None, help="samples per step (default: the train default)")
    p.add_argument("--steps", type=int, default=200, help="measured steps per side at least (default 200)")
    p.add_argument("--max-steps", type=int, default=None,
                   help="measured steps per side at most, while a ratio is not yet known to ±1 per cent "
                        "(default 5 × --steps)")
    p.add_argument("--compile", action="store_true",
                   help="also the engine with --compile (torch.compile; its compiling time is reported apart)")
    p.add_argument("--chunk", type=int, default=None,
                   help="steps per interleaved chunk (default: the smallest multiple of the statistics interval "
                        "that spans 10 steps, the default log interval; keep it a multiple of that interval, "
                        "so that every engine chunk pays for its statistics)")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps")
    p.add_argument("--amp", choices=("off", "bf16", "fp16"), default="off", help="mixed precision on CUDA")
    p.add_argument("--channels-last", action="store_true", help="channels-last memory format")
    p.add_argument("--optimizer", choices=("sgd", "adam", "adamw"), default=None, help="default sgd")
    p.add_argument("--stats-every", type=int, default=None,
                   help="steps between per-layer statistics in the engine (default: the train default, 10; "
                        "1 = every step)")
    p.add_argument("--threads", type=int, default=0, help="CPU threads for both loops (default: torch's choice)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true", help="print one JSON object")


def run(args) -> int:
    from explorer.arch import ArchError, load_arch
    from explorer.benchmarks.reference import reference_for
    from explorer.data import DatasetError, load_dataset
    from explorer.train.bench import RATIOS, BenchError, benchmark, default_chunk
    from explorer.train.config import ConfigError, TrainConfig
    from explorer.train.device import DeviceError, resolve_device

    if args.steps < 1 or (args.chunk is not None and args.chunk < 1) or (args.max_steps is not None and
                                                                          args.max_steps < args.steps):
        raise UserError("--steps and --chunk must be at least 1, and --max-steps at least --steps")
    try:
        graph = load_arch(args.arch)
    except ArchError as e:
        raise UserError(str(e)) from None
    try:
        dataset = load_dataset(args.dataset, seed=args.seed)
    except DatasetError as e:
        raise UserError(str(e)) from None
    changes = {"device": args.device, "amp": args.amp, "channels_last": args.channels_last, "seed": args.seed,
               "threads": args.threads}
    if args.batch_size is not None:
        changes["batch_size"] = args.batch_size
    if args.stats_every is not None:
        if args.stats_every < 1:
            raise UserError("--stats-every must be at least 1 (the benchmark measures the engine with statistics on)")
        changes["stats_every"] = args.stats_every
    if args.optimizer:
        changes["optimizer"] = args.optimizer
    cfg = TrainConfig().replace(**changes)
    try:
        cfg.check()
        resolve_device(cfg.device)
    except (ConfigError, DeviceError) as e:
        raise UserError(str(e)) from None
    reference = None if Path(args.arch).exists() else reference_for(args.arch)
    progress = ProgressLines(sys.stderr)
    sides = ["engine"] + (["compiled"] if args.compile else []) + ["plain"] + (
        ["reference"] if reference else []) + (["reference_compiled"] if reference and args.compile else [])
    building = ", ".join(SIDE_NAMES[k] for k in sides)
    progress.say(f"bench: {graph.name} on {dataset.name}, building and warming up ({building})"
                 + ("; compiling takes a minute or two" if args.compile else ""))
    try:
        r = benchmark(graph, dataset, cfg, steps=args.steps, chunk=min(args.chunk or default_chunk(cfg), args.steps),
                      reference=reference, progress=progress.round, compile=args.compile, max_steps=args.max_steps)
    except BenchError as e:
        raise UserError(str(e)) from None
    finally:
        progress.end()
    if r.warning:
        print(f"warning: {r.warning}", file=sys.stderr)
    if args.json:
        d = r.to_dict()
        d.update({"arch": graph.name, "dataset": dataset.name})
        print(strict_json.dumps(d))
        return 0
    print(f"{graph.name} on {dataset.name}, {r.device}, batch {r.batch_size}, {r.steps} steps per side "
          f"interleaved in chunks of {r.chunk} (medians; spread = interquartile range / median)")
    every = "every step" if r.stats_every == 1 else f"every {r.stats_every} steps"
    rows = [("engine", f"engine (every layer statistic {every})", r.engine_samples_per_s),
            ("plain", "graph module, plain PyTorch loop", r.plain_samples_per_s),
            ("compiled", f"engine + torch.compile (statistics {every})", r.compiled_samples_per_s),
            ("reference", "hand-written model, plain PyTorch loop", r.reference_samples_per_s),
            ("reference_compiled", "hand-written + torch.compile, plain loop", r.reference_compiled_samples_per_s)]
    rows = [(side, label, value) for side, label, value in rows if value is not None]
    width = max(len(label) for _, label, _ in rows) + 1
    for side, label, value in rows:
        print(f"  {label + ':':<{width}} {value:10,.1f} samples/s  (spread {r.spread[side]:.1%})")
    lines = [("ratio", r.ratio, f"  (paired by round: {r.paired_ratio:.3f})")]
    lines += [(k, getattr(r, k), "") for k in ("ratio_vs_reference", "plain_ratio_vs_reference",
                                               "compiled_ratio_vs_reference", "compiled_ratio_vs_compiled_reference")]
    for key, value, extra in lines:
        if value is not None:
            a, b = RATIOS[key]
            print(f"  ratio {SIDE_NAMES[a]} / {SIDE_NAMES[b]}: {value:.3f}{extra}{_pm(r, key)}")
    if r.compile_speedup_of_reference is not None:
        print(f"  what torch.compile gives the hand-written model here: {r.compile_speedup_of_reference:.3f}×"
              f"{_pm(r, 'compile_speedup_of_reference')}")
    if r.reference_samples_per_s is None:
        print("  (no hand-written version of this architecture to compare with)")
    if r.compile_warmup_s is not None:
        print(f"  compiling the engine's network took {r.compile_warmup_s:.1f} s (not in the rates)")
    cpu = (f"{SIDE_NAMES[RATIOS[k][0]]} / {SIDE_NAMES[RATIOS[k][1]]} {v:.3f}" for k, v in r.cpu_ratios.items())
    print("  per CPU second of this process (a busy machine moves these less): " + ", ".join(cpu))
    return 0


# One name per side, the same in the progress line, the rows, the ratios and the CPU line. "graph module" is
# the graph built as an nn.Module, the engine's network: not torch.compile, which only the "+ torch.compile"
# sides use.
SIDE_NAMES = {"engine": "engine", "plain": "graph module", "compiled": "engine + torch.compile",
              "reference": "hand-written", "reference_compiled": "hand-written + torch.compile"}


def _pm(r, key: str) -> str:
    u = r.uncertainty[key]
    return f"  ± {u:.1%}" if u == u and u != float("inf") else ""


class ProgressLines:
    """Round-by-round progress on stderr: redrawn in place on a terminal, otherwise a plain line at most
    every ``every`` seconds (and the last one), so a log shows that a long benchmark is alive."""

    def __init__(self, stream, every: float = 10.0):
        self.stream, self.every = stream, every
        self.tty = stream.isatty()
        self.last = time.monotonic()
        self.drawn = False

    def say(self, text: str) -> None:
        print(text, file=self.stream, flush=True)

    def round(self, done: int, total: int, rates: dict) -> None:
        now = time.monotonic()
        if not self.tty and done < total and now - self.last < self.every:
            return
        self.last = now
        sides = ", ".join(f"{SIDE_NAMES.get(k, k)} {v:,.0f}" for k, v in rates.items())
        text = f"bench: round {done}/{total} {sides} samples/s"
        if self.tty:
            print("\r" + text + "\x1b[K", end="", file=self.stream, flush=True)
            self.drawn = True
        else:
            self.say(text)

    def end(self) -> None:
        if self.drawn:
            print(file=self.stream, flush=True)
            self.drawn = False
