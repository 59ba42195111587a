"""Measured, not assumed: training throughput inside the window against the plain PyTorch loop, the
event-loop latency while it trains, and the cost of redrawing the plots on a very deep, long run.

    python -m explorer.ui.training.bench_gui [ARCH] [--dataset digits] [--steps 100] [--chunk 10]
    python -m explorer.ui.training.bench_gui --stress [--layers 1000 --stress-steps 10000]

Throughput: the same model, data, batch and optimiser as ``python main.py bench`` (its plain loop,
``explorer.train.bench.PlainLoop``), with the dock shown (offscreen), every plot live and the window's
own statistics interval. Chunks interleave (window, plain, window, ...; see ``throughput``); the
figures are medians over chunks. Validation is off on both sides (the plain loop has none).

Latency: a 10 ms QTimer in the GUI thread records how late each tick fires while the run trains;
p99 of the lateness is the figure (target < 50 ms).

Stress (``--stress``): synthetic reports for N layers × M steps, fed in batches as the worker would;
prints the GUI time per batch and per redraw of each plot, and the bounded buffer sizes.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time


def _percentile(values, q: float) -> float:
    if not values:
        return float("nan")
    v = sorted(values)
    return v[min(len(v) - 1, int(round(q / 100 * (len(v) - 1))))]


def _app():
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication
    return QApplication.instance() or QApplication(sys.argv[:1])


def _window(controller=None):
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QLabel, QMainWindow

    from explorer.ui.training.dock import TrainingDock

    mw = QMainWindow()
    mw.setCentralWidget(QLabel("canvas"))
    mw.resize(1500, 950)
    dock = TrainingDock(lambda: None, None, mw, controller=controller)
    mw.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, dock)
    mw.show()
    return mw, dock


class LatencyProbe:
    """Lateness of a periodic QTimer: how long the event loop was busy beyond the period."""

    def __init__(self, period_ms: int = 10):
        from PySide6.QtCore import Qt, QTimer
        self.period = period_ms / 1000
        self.late: list[float] = []
        self._last = None
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(period_ms)
        self.timer.timeout.connect(self._tick)

    def start(self):
        self._last = time.perf_counter()
        self.timer.start()

    def stop(self):
        self.timer.stop()

    def _tick(self):
        now = time.perf_counter()
        self.late.append(max(0.0, now - self._last - self.period))
        self._last = now


def throughput(arch: str, dataset: str, steps: int, chunk: int, batch_size: int | None, device: str,
               stats_every: int = 0, hidden: bool = False, tab: str = "loss") -> dict:
    """Interleaved like ``main.py bench``: after each chunk the window's run is paused (between steps, by
    its TrainControl) and the plain loop runs one chunk in the meantime, so load changes on a shared
    machine hit both sides alike. The window's chunk rate is the engine's StepReport rate (its clock
    stops while paused, so the plain chunk is not counted against it; the GUI thread's drawing, which
    competes with the worker for the CPU and the GIL, is). The latency probe runs only while the window
    trains, not while the plain loop blocks the GUI thread."""
    import torch
    from PySide6.QtCore import QEventLoop, QTimer

    from explorer.arch import load_arch
    from explorer.data import load_dataset
    from explorer.network.adapt import adapt_to_data
    from explorer.runs.project import auto_intervals
    from explorer.train import StatusReport, StepReport, TrainConfig
    from explorer.train import device as devices
    from explorer.compile import compile_graph
    from explorer.train.bench import PlainLoop

    app = _app()
    graph = load_arch(arch)
    ds = load_dataset(dataset, seed=0)
    graph, _ = adapt_to_data(graph, ds.input_shape, ds.num_classes)
    cfg = TrainConfig(device=device)
    if batch_size:
        cfg = cfg.replace(batch_size=batch_size)
    n = int(ds.x_train.shape[0])
    spe = -(-n // cfg.batch_size)
    warm = chunk
    total = warm + steps
    cfg = cfg.replace(epochs=-(-total // spe), max_steps=total, validate=False, log_every=chunk)
    dev = devices.resolve_device(cfg.device)

    plain = PlainLoop(lambda: compile_graph(graph), ds.to(dev), cfg, dev)
    plain.run(chunk)  # warm-up
    plain_rates: list[float] = []
    gui_rates: list[float] = []

    mw, dock = _window()
    if hidden:  # the worker thread without any drawing: separates the engine's cost from the plots'
        mw.hide()
    dock.tabs.setCurrentIndex(1 if tab == "gradients" else 0)
    c = dock.controller
    probe = LatencyProbe(10)
    loop = QEventLoop()

    plain_cpu = [0.0, 0.0]  # GUI-thread CPU and wall time spent in plain chunks (not the window's)

    def plain_chunk():
        probe.stop()
        t, cpu = time.perf_counter(), time.thread_time()
        plain.run(chunk)
        dt = time.perf_counter() - t
        plain_cpu[0] += time.thread_time() - cpu
        plain_cpu[1] += dt
        plain_rates.append(chunk * cfg.batch_size / dt)
        probe.start()
        c.resume()

    def on_reports(_rid, batch):
        for r in batch:
            if isinstance(r, StepReport):
                if r.step > warm:
                    gui_rates.append(r.samples_per_s)
                if r.step < total:
                    c.pause()
            elif isinstance(r, StatusReport) and r.state == "paused":
                QTimer.singleShot(0, plain_chunk)

    c.session.reportsReady.connect(on_reports)
    c.runFinished.connect(lambda _rid: loop.quit())
    QTimer.singleShot(0, probe.start)
    wall0, cpu0 = time.perf_counter(), time.thread_time()
    if stats_every:
        cfg = cfg.replace(stats_every=stats_every)
    rid = c.start(graph, dataset, cfg, arch=graph.name, auto_log=False, auto_stats=not stats_every)
    loop.exec()
    probe.stop()
    wall = time.perf_counter() - wall0
    gui_cpu = (time.thread_time() - cpu0 - plain_cpu[0]) / max(1e-9, wall - plain_cpu[1])
    rec = c.record(rid)
    redraws = {"loss & accuracy": dock.metrics.throttle.calls, "gradients": dock.gradients.throttle.calls}
    mw.close()
    app.processEvents()
    gui = statistics.median(gui_rates) if gui_rates else float("nan")
    pl = statistics.median(plain_rates) if plain_rates else float("nan")
    return {"arch": graph.name, "dataset": ds.name, "device": devices.describe(dev), "batch_size": cfg.batch_size,
            "steps": steps, "chunk": chunk, "torch_threads": torch.get_num_threads(),
            "status": rec.status, "message": rec.message,
            "gui_samples_per_s": gui, "plain_samples_per_s": pl, "ratio": gui / pl,
            "gui_chunks": gui_rates, "plain_chunks": plain_rates,
            "stats_every": stats_every or auto_intervals(cfg, n, log=False, stats=True).stats_every, "wall_s": wall,
            "redraws": redraws, "gui_thread_cpu": gui_cpu,
            "latency_ms": {"ticks": len(probe.late), "p50": 1000 * _percentile(probe.late, 50),
                           "p99": 1000 * _percentile(probe.late, 99), "max": 1000 * max(probe.late or [0])}}


def stress(layers: int, steps: int, batch_steps: int) -> dict:
    """Feed N layers × M steps of synthetic reports through the real controller and plots."""
    import numpy as np

    from explorer.runs import RunRecord
    from explorer.runs.feed import RunFeed
    from explorer.train import LayerStatsReport, StartedReport, StepReport
    from explorer.ui.training.run_controller import RunController

    app = _app()
    c = RunController()
    mw, dock = _window(c)
    keys = [f"stage{i // 100}[{i % 100}]" for i in range(layers)]
    rec = RunRecord("stress", "synthetic", "none", {}, "{}")
    c.add_feed(RunFeed(rec))
    c.set_focus(rec.id)
    c.feeds[rec.id].apply(StartedReport("cpu", 0, 1, steps, steps, 0, 0, 1, 1, keys, [k.split("[")[0] for k in keys]))
    rng = np.random.default_rng(0)
    depth = np.linspace(-4, 0, layers)
    views = {"loss": dock.metrics.loss, "acc": dock.metrics.acc, "heatmap": dock.gradients.heatmap,
             "depth": dock.gradients.by_depth, "layers": dock.gradients.curves}
    timings = {k: [] for k in views}
    for name, v in views.items():  # time each view's redraw where it happens (panels share a throttle)
        original = v.redraw

        def timed(original=original, name=name):
            t = time.perf_counter()
            original()
            timings[name].append(time.perf_counter() - t)
        v.throttle.replace(original, timed)
    batch_times = []
    dock.tabs.setCurrentIndex(1)
    t_all = time.perf_counter()
    for start in range(0, steps, batch_steps):
        batch = []
        for s in range(start + 1, min(steps, start + batch_steps) + 1):
            batch.append(StepReport(1, 1, s, steps, s, steps, float(np.exp(-s / steps) + 0.1 * rng.random()),
                                    float(rng.random()), 0.1, 1000.0, s * 0.01, 1.0))
            g = 10 ** (depth + 0.2 * rng.standard_normal(layers))
            batch.append(LayerStatsReport(s, 1, keys, keys, g, g, g * 1e-3, g))
        t = time.perf_counter()
        c._on_reports(rec.id, batch)
        batch_times.append(time.perf_counter() - t)
        app.processEvents()
        if start == steps // 2:
            dock.tabs.setCurrentIndex(0)
            app.processEvents()
            dock.tabs.setCurrentIndex(1)
    for v in views.values():
        v.throttle.flush()
    total = time.perf_counter() - t_all
    paint = {}
    for tab, name in ((0, "loss & accuracy"), (1, "gradients")):
        dock.tabs.setCurrentIndex(tab)
        app.processEvents()
        frames = []
        for _ in range(5):  # a full frame at the end of the run: update every view, then paint the window
            t = time.perf_counter()
            for v in views.values():
                if v.isVisible():
                    v.redraw()
            mw.repaint()
            frames.append(time.perf_counter() - t)
        paint[name] = 1000 * statistics.median(frames)
    mw.grab().save("/tmp/bench_gui_stress.png")
    feed = c.feeds[rec.id]
    out = {"layers": layers, "steps": steps, "reports_per_batch": 2 * batch_steps, "seconds": total,
           "batch_ms_p50": 1000 * _percentile(batch_times, 50), "batch_ms_p99": 1000 * _percentile(batch_times, 99),
           "series_points": len(rec.series["train_loss"]), "heatmap_columns": len(feed.layers["grad_norm"]),
           "frame_ms": paint}
    for k, ts in timings.items():
        out[f"{k}_redraws"] = len(ts)
        out[f"{k}_ms_p50"] = 1000 * _percentile(ts, 50)
        out[f"{k}_ms_max"] = 1000 * max(ts or [0])
    mw.close()
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m explorer.ui.training.bench_gui", description=__doc__.splitlines()[0])
    p.add_argument("arch", nargs="?", default="resnet20")
    p.add_argument("--dataset", default="digits")
    p.add_argument("--steps", type=int, default=100, help="measured steps (default 100)")
    p.add_argument("--chunk", type=int, default=10)
    p.add_argument("--batch-size", type=int, default=None)
    p.add_argument("--device", default="auto")
    p.add_argument("--stats-every", type=int, default=0,
                   help="per-layer statistics interval (default: the window's auto)")
    p.add_argument("--tab", choices=("loss", "gradients"), default="loss", help="which plots are on screen")
    p.add_argument("--hidden", action="store_true", help="train with the window hidden (no drawing): the baseline")
    p.add_argument("--stress", action="store_true", help="plot redraw cost on synthetic deep, long runs")
    p.add_argument("--layers", type=int, default=1000)
    p.add_argument("--stress-steps", type=int, default=10_000)
    args = p.parse_args(argv)
    if args.stress:
        r = stress(args.layers, args.stress_steps, 25)
        print(f"stress: {r['layers']} layers × {r['steps']} steps in {r['seconds']:.1f} s; GUI time per batch of "
              f"{r['reports_per_batch']} reports p50 {r['batch_ms_p50']:.2f} ms, p99 {r['batch_ms_p99']:.2f} ms")
        print(f"  buffers: {r['series_points']} loss points, {r['heatmap_columns']} heatmap columns (bounded)")
        print("  a whole frame at the end (update + paint of the window): "
              + ", ".join(f"{k} tab {v:.1f} ms" for k, v in r["frame_ms"].items()))
        for k in ("loss", "acc", "heatmap", "depth", "layers"):
            print(f"  {k:8s} redraws {r[k + '_redraws']:5d}  p50 {r[k + '_ms_p50']:6.2f} ms  "
                  f"max {r[k + '_ms_max']:6.2f} ms")
        return 0
    r = throughput(args.arch, args.dataset, args.steps, args.chunk, args.batch_size, args.device,
                   args.stats_every, args.hidden, args.tab)
    lat = r["latency_ms"]
    print(f"{r['arch']} on {r['dataset']}, {r['device']}, batch {r['batch_size']}, {r['steps']} steps in chunks of "
          f"{r['chunk']} (medians), torch threads {r['torch_threads']}; run {r['status']}")
    print(f"  window (worker thread + live plots): {r['gui_samples_per_s']:10,.1f} samples/s")
    print(f"  plain PyTorch loop (main.py bench):  {r['plain_samples_per_s']:10,.1f} samples/s")
    print(f"  ratio: {r['ratio']:.3f}   (target ≥ 0.95)")
    print(f"  event-loop latency while training: p50 {lat['p50']:.1f} ms, p99 {lat['p99']:.1f} ms, "
          f"max {lat['max']:.1f} ms over {lat['ticks']} ticks   (target p99 < 50 ms)")
    print(f"  GUI thread CPU while the window trains: {100 * r['gui_thread_cpu']:.1f} % of one core")
    print(f"  chunks (samples/s): window {[round(x) for x in r['gui_chunks']]}, "
          f"plain {[round(x) for x in r['plain_chunks']]}")
    print(f"  gradient statistics every {r['stats_every']} step(s); redraws: {r['redraws']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
