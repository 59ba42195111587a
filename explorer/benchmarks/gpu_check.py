"""The GPU path in one command, for the first machine that has one: ``python -m explorer.benchmarks.gpu_check``.

In under five minutes on a CUDA machine it runs, and prints as one JSON object:

- ``training``: short runs of ResNet-20 on the shapes data (3×32×32, batch 128) in float32, with AMP bf16
  and fp16, channels-last, and ``--compile`` (with its compiling time): status, final loss, samples/s;
- ``bench``: the engine, the compiled network and ``--compile`` against the hand-written ResNet-20 in the
  same process, interleaved (``python main.py bench``'s figures: ratio, ratio_vs_reference,
  compiled_ratio_vs_reference, compile_warmup_s, and the hand-written model compiled as the yardstick of
  what compiling gives: compile_speedup_of_reference, compiled_ratio_vs_compiled_reference; whether it
  was too noisy);
- ``window_worker``: the window's training worker thread, headless, training on CUDA (run as its own
  process, ``explorer.ui.training.gpu_worker_check``: this layer imports no Qt).

Each part has a time budget; a part that would overrun the five minutes is listed as skipped. Without
CUDA it says so and exits 0 (``{"cuda": false, ...}``). ``--device cpu --quick`` is a dry run of the same
steps on a small network, for checking the check itself.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time

BUDGET_S = 285.0   # the whole check: under five minutes, with room to print
TRAINING = (("float32", {}), ("amp_bf16", {"amp": "bf16"}), ("amp_fp16", {"amp": "fp16"}),
            ("channels_last", {"channels_last": True}), ("compile", {"compile": True}))


class Clock:
    def __init__(self, budget_s: float):
        self.end = time.monotonic() + budget_s

    def left(self) -> float:
        return self.end - time.monotonic()


def cuda_status() -> dict:
    import torch
    if not torch.cuda.is_available():
        return {"cuda": False, "message": "no CUDA device here (torch.cuda.is_available() is False); "
                                          "nothing to check: run this on a machine with an NVIDIA GPU"}
    return {"cuda": True, "gpu": torch.cuda.get_device_name(0), "torch": torch.__version__,
            "cuda_version": torch.version.cuda, "bf16_supported": bool(torch.cuda.is_bf16_supported())}


def _setup(device: str, quick: bool):
    from explorer.arch import load_arch
    from explorer.data import load_dataset
    from explorer.train import TrainConfig
    from explorer.train.testing import random_dataset, tiny_graph
    if quick:
        graph, data, batch = tiny_graph(classes=4, input_shape=(3, 8, 8)), random_dataset(512, 64, shape=(3, 8, 8)), 32
    else:
        graph, data, batch = load_arch("resnet20"), load_dataset("shapes", seed=0), 128
    return graph, data, TrainConfig(device=device, batch_size=batch, epochs=2, validate=False, warmup_epochs=0)


def train_once(graph, data, cfg, steps: int) -> dict:
    """A short run; its status, final loss and speed, and what compiling did."""
    from explorer.train import FailedReport, FinishedReport, StatusReport, run_training
    out: dict = {"compile_warmup_s": None, "compile": None}
    t0 = time.perf_counter()
    for r in run_training(graph, data, cfg.replace(max_steps=steps)):
        if isinstance(r, StatusReport) and r.state in ("compiled", "eager"):
            out["compile"] = r.state if r.state == "compiled" else r.detail
            out["compile_warmup_s"] = r.seconds
        elif isinstance(r, FinishedReport):
            loss = r.final_train_loss
            out.update(status=r.status, steps=r.steps, device=r.device, samples_per_s=r.samples_per_s,
                       final_train_loss=loss if loss is not None and math.isfinite(loss) else None,
                       ok=r.status == "completed" and loss is not None and math.isfinite(loss))
        elif isinstance(r, FailedReport):
            out.update(status="failed", error=r.text, ok=False)
    out["seconds"] = time.perf_counter() - t0
    return out


def bench_once(graph, data, cfg, steps: int, chunk: int, quick: bool) -> dict:
    from explorer.benchmarks.reference import reference_for
    from explorer.train.bench import BenchError, benchmark
    try:
        r = benchmark(graph, data, cfg.replace(stats_every=chunk), steps=steps, max_steps=steps * (1 if quick else 2),
                      chunk=chunk,
                      compile=True,
                      reference=None if quick else reference_for("resnet20"))
    except BenchError as e:
        return {"ok": False, "error": str(e)}
    keys = ("engine_samples_per_s", "plain_samples_per_s", "reference_samples_per_s", "compiled_samples_per_s",
            "ratio", "ratio_vs_reference", "plain_ratio_vs_reference", "compiled_ratio_vs_reference",
            "reference_compiled_samples_per_s", "compile_speedup_of_reference", "compiled_ratio_vs_compiled_reference",
            "compile_warmup_s", "uncertainty", "noisy", "warning", "steps", "device")
    d = r.to_dict()
    return {"ok": True, **{k: d[k] for k in keys}}


def worker_once(device: str, timeout_s: float) -> dict:
    """The window's worker in its own process (Qt stays out of this layer)."""
    cmd = [sys.executable, "-m", "explorer.ui.training.gpu_worker_check", "--device", device]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s,
                              env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    except subprocess.TimeoutExpired:
        return {"ok": False, "error": f"did not finish in {timeout_s:.0f} s"}
    try:
        return json.loads(done.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        return {"ok": False, "error": (done.stderr.strip().splitlines() or ["no output"])[-1]}


def run_check(device: str, quick: bool, budget_s: float = BUDGET_S) -> dict:
    clock = Clock(budget_s)
    t0 = time.perf_counter()
    graph, data, cfg = _setup(device, quick)
    result: dict = {"training": {}, "skipped": []}
    steps = 4 if quick else 60
    for name, changes in TRAINING:
        need = 90.0 if changes.get("compile") else 20.0
        if clock.left() < need + 90.0:  # keep room for the bench and the worker
            result["skipped"].append(f"training {name}: not enough time left")
            continue
        result["training"][name] = train_once(graph, data, cfg.replace(**changes), steps)
    if clock.left() > 60.0:
        result["bench"] = bench_once(graph, data, cfg, 6 if quick else 50, 2 if quick else 10, quick)
    else:
        result["skipped"].append("bench: not enough time left")
    if clock.left() > 20.0:
        result["window_worker"] = worker_once(device, max(20.0, clock.left()))
    else:
        result["skipped"].append("window worker: not enough time left")
    parts = list(result["training"].values()) + [result.get("bench", {}), result.get("window_worker", {})]
    result["ok"] = all(p.get("ok") for p in parts) and not result["skipped"]
    result["seconds"] = time.perf_counter() - t0
    return result


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m explorer.benchmarks.gpu_check", description=__doc__.split("\n\n")[0])
    p.add_argument("--device", default="cuda", help="cuda (default), cuda:N; or cpu for a dry run")
    p.add_argument("--quick", action="store_true", help="a small network on random data instead of ResNet-20 "
                                                        "on shapes (for a dry run)")
    args = p.parse_args(argv)
    status = cuda_status()
    if args.device.startswith("cuda") and not status["cuda"]:
        print(json.dumps(status))  # plain text and a flag: nothing to make strict
        print(f"gpu_check: {status['message']}", file=sys.stderr)
        return 0
    print(f"gpu_check: {status.get('gpu', args.device)}: training (fp32, bf16, fp16, channels-last, compile), "
          "bench, window worker; under five minutes", file=sys.stderr, flush=True)
    from explorer.util.strict_json import dumps
    print(dumps({**status, "device": args.device, **run_check(args.device, args.quick)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
