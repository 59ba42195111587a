"""Throughput of the training engine (every statistic on) against a minimal PyTorch loop.

Both train the same module on the same data, batch and optimiser, interleaved in one process;
`ratio` = engine / plain samples per second (1.0 = the engine's reporting is free).
"""
from __future__ import annotations

import json

from explorer.cli import UserError


def add_arguments(p) -> None:
    p.add_argument("arch", metavar="ARCH", help="preset name or graph .json file")
    p.add_argument("--dataset", default="digits", metavar="NAME", help="data set (default digits)")
    p.add_argument("--batch-size", type=int, default=None, help="samples per step (default: the train default)")
    p.add_argument("--steps", type=int, default=200, help="measured steps per side (default 200)")
    p.add_argument("--chunk", type=int, default=None,
                   help="steps per interleaved chunk (default: the statistics interval)")
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
    from explorer.data import DatasetError, load_dataset
    from explorer.train.bench import BenchError, benchmark
    from explorer.train.config import ConfigError, TrainConfig
    from explorer.train.device import DeviceError, resolve_device

    if args.steps < 1 or (args.chunk is not None and args.chunk < 1):
        raise UserError("--steps and --chunk must be at least 1")
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
    try:
        r = benchmark(graph, dataset, cfg, steps=args.steps, chunk=min(args.chunk or cfg.stats_every, args.steps))
    except BenchError as e:
        raise UserError(str(e)) from None
    if args.json:
        d = r.to_dict()
        d.update({"arch": graph.name, "dataset": dataset.name})
        print(json.dumps(d))
        return 0
    print(f"{graph.name} on {dataset.name}, {r.device}, batch {r.batch_size}, {r.steps} steps per side "
          f"interleaved in chunks of {r.chunk} (medians)")
    every = "every step" if r.stats_every == 1 else f"every {r.stats_every} steps"
    rows = ((f"engine, all layer statistics {every}:", r.engine_samples_per_s),
            ("plain PyTorch loop:", r.plain_samples_per_s))
    for label, value in rows:
        print(f"  {label:<46} {value:10,.1f} samples/s")
    print(f"  ratio: {r.ratio:.3f}  (paired by round: {r.paired_ratio:.3f})")
    return 0
