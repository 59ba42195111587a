"""The window's training worker, headless, on a given device: one short run through ``TrainingSession`` (the
thread, the queued report batches, the end signal) without a window, for ``explorer.benchmarks.gpu_check``.

    python -m explorer.ui.training.gpu_worker_check [--device cuda] [--steps 30]

Prints one JSON object: the device the engine reported, steps done, the run's status, samples/s, and the
number of report batches the GUI thread received. Runs with the offscreen Qt platform (no display needed).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time


def check(device: str, steps: int, timeout_s: float = 240.0) -> dict:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from explorer.train import FailedReport, FinishedReport, StartedReport, TrainConfig
    from explorer.train.testing import tiny_graph
    from explorer.ui.training.worker import TrainingSession, TrainJob

    app = QApplication.instance() or QApplication(sys.argv[:1])
    session = TrainingSession()
    got: dict = {"batches": 0, "device": None, "status": None, "steps": 0, "samples_per_s": None, "error": None}

    def on_reports(_run_id, batch) -> None:
        got["batches"] += 1
        for r in batch:
            if isinstance(r, StartedReport):
                got["device"] = r.device
            elif isinstance(r, FinishedReport):
                got.update(status=r.status, steps=r.steps, samples_per_s=r.samples_per_s)
            elif isinstance(r, FailedReport):
                got.update(status="failed", error=r.text)

    loop = QEventLoop()
    session.reportsReady.connect(on_reports)
    session.failed.connect(lambda _rid, kind, message: got.update(status="failed", error=f"{kind}: {message}"))
    session.ended.connect(lambda _rid: loop.quit())
    QTimer.singleShot(int(timeout_s * 1000), loop.quit)
    cfg = TrainConfig(epochs=100, batch_size=64, max_steps=steps, device=device, log_every=5, stats_every=5,
                      validate=False)
    t0 = time.perf_counter()
    session.start(TrainJob("gpu-check", tiny_graph(classes=10), "digits", cfg, auto_log=False, auto_stats=False))
    loop.exec()
    ended = session.shutdown(5_000)
    got["seconds"] = time.perf_counter() - t0
    got["ok"] = bool(ended and got["status"] == "completed" and got["steps"] == steps)
    del app
    return got


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m explorer.ui.training.gpu_worker_check",
                                description=__doc__.split("\n\n")[0])
    p.add_argument("--device", default="cuda", help="device to train on (default cuda)")
    p.add_argument("--steps", type=int, default=30, help="optimiser steps (default 30)")
    args = p.parse_args(argv)
    result = check(args.device, max(1, args.steps))
    print(json.dumps(result))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
