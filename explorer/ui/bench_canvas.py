"""Canvas benchmark: open + layout time and panning frame rate for the deepest presets.

``python -m explorer.ui.bench_canvas [preset ...] [--frames N]`` prints one line per case: each preset as
repeated stages and fully expanded into primitives. "open" reads a saved graph file, lays it out, builds
the scene, runs shape inference and paints the first frame in a 1600×1000 window (median of three).
Panning is measured
at 100 % zoom and with the whole graph in view (the overview, for big graphs): each frame scrolls 24 px
and repaints synchronously; "full" forces the whole viewport to repaint each frame (the worst case),
"scroll" lets Qt repaint only what scrolled in (what a person sees). Runs off-screen without a display.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

DEFAULT = ("resnet1202", "preact_resnet1001")


def _pan(window, app, frames: int, full: bool) -> float:
    view = window.view
    bar = view.horizontalScrollBar()
    step = 24
    times = []
    direction = 1
    for _ in range(frames):
        if not bar.minimum() <= bar.value() + direction * step <= bar.maximum():
            direction = -direction
        t = time.perf_counter()
        bar.setValue(bar.value() + direction * step)
        if full:
            view.viewport().update()
        view.viewport().repaint()
        app.processEvents()
        times.append(time.perf_counter() - t)
    return 1.0 / statistics.median(times)


def _open(window, app, path: Path) -> float:
    from explorer.graph.fileio import load_graph
    from explorer.ui.document import arrange

    t = time.perf_counter()
    graph = load_graph(path)
    arrange(graph, *window.edit.layout_hint())  # the window's own auto-layout: layered, wrapped to fit
    window.document.set_graph(graph, path)
    window.analysis.result  # noqa: B018  (shape inference now, not on the next event-loop turn)
    window.view.fit_or_start()
    window.view.viewport().repaint()
    app.processEvents()
    return time.perf_counter() - t


def bench_case(window, app, path: Path, frames: int, repeats: int = 3) -> dict:
    open_s = statistics.median(_open(window, app, path) for _ in range(repeats))
    graph = window.document.graph

    view = window.view
    view.set_zoom(1.0)
    view.centerOn(window.scene.nodes["input"])
    app.processEvents()
    fps_100_scroll = _pan(window, app, frames, full=False)
    fps_100_full = _pan(window, app, frames, full=True)
    view.fit()
    app.processEvents()
    fps_fit_full = _pan(window, app, frames, full=True)
    return {"nodes": len(graph), "edges": len(graph.edges), "open_s": open_s,
            "fps_100_scroll": fps_100_scroll, "fps_100_full": fps_100_full, "fps_fit_full": fps_fit_full,
            "fit_zoom": view.scale_factor, "overview": window.scene.overview}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m explorer.ui.bench_canvas", description=__doc__.splitlines()[0])
    p.add_argument("presets", nargs="*", default=list(DEFAULT))
    p.add_argument("--frames", type=int, default=90)
    p.add_argument("--repeats", type=int, default=3, help="opens per case; the median is printed")
    args = p.parse_args(argv)
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("RESIDUAL_EXPLORER_NO_AUTOSAVE_PROMPT", "1")

    from PySide6.QtCore import QSettings

    from explorer.graph.fileio import save_graph
    from explorer.network.transforms import expand_all
    from explorer.presets import build_preset
    from explorer.ui.app import make_application
    from explorer.ui.main_window import MainWindow

    app = make_application()
    tmp = Path(tempfile.mkdtemp(prefix="bench-canvas-"))
    window = MainWindow(settings=QSettings(str(tmp / "settings.ini"), QSettings.IniFormat))
    window.resize(1600, 1000)
    window.show()
    for _ in range(5):
        app.processEvents()
    print(f"{'case':<32}{'nodes':>6}{'edges':>7}{'open+layout':>13}{'pan 100% scroll':>17}"
          f"{'pan 100% full':>15}{'pan fit full':>14}  fit zoom")
    for name in args.presets:
        for expanded in (False, True):
            g = build_preset(name)
            if expanded:
                expand_all(g)
            path = tmp / f"{name}{'_expanded' if expanded else ''}.json"
            save_graph(g, path)
            r = bench_case(window, app, path, args.frames, args.repeats)
            label = f"{name} ({'fully expanded' if expanded else 'stages'})"
            print(f"{label:<32}{r['nodes']:>6}{r['edges']:>7}{r['open_s']:>12.2f}s{r['fps_100_scroll']:>13.0f} fps"
                  f"{r['fps_100_full']:>11.0f} fps{r['fps_fit_full']:>10.0f} fps  {r['fit_zoom']:.3f}"
                  f"{' (overview)' if r['overview'] else ''}", flush=True)
    window.document.stack.setClean()
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
