"""Start the window: ``python main.py [ARCH]`` or ``python main.py --screenshot FILE [ARCH]``.

``--screenshot`` renders the whole window off-screen once it has drawn the graph, saves a PNG and
exits (docs and checks use it). ARCH is a preset name or a graph ``.json`` file, as on the command line.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

ORG, APP = "ResidualExplorer", "Residual Explorer"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="residual-explorer", description=(
        "Residual Explorer: build, inspect and train residual networks. Without a command it opens the window; "
        "`python main.py presets`, `info`, `validate`, `train`, ... run the command line."))
    p.add_argument("arch", nargs="?", help="a preset name or a graph .json file to open instead of the default")
    p.add_argument("--screenshot", metavar="FILE", help="render the window off-screen to a PNG and exit")
    p.add_argument("--size", help="window size, WIDTHxHEIGHT (default: what fits the screen; 1500x940 for "
                   "--screenshot)")
    p.add_argument("--expand", action="store_true", help="expand every residual block into primitives after opening")
    return p


def make_application(argv: list[str] | None = None):
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        app = QApplication([sys.argv[0] if sys.argv else "residual-explorer"] + list(argv or []))
    app.setOrganizationName(ORG)
    app.setApplicationName(APP)
    app.setApplicationDisplayName(APP)
    from explorer.ui.main_thread_gc import collect_in_main_thread
    collect_in_main_thread(app)  # a worker thread must never collect (and so delete) Qt objects
    return app


def _headless() -> bool:
    return sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def wait_until_rendered(window, app, timeout_s: float = 20.0) -> None:
    """Let the event loop settle: analysis done, view fitted, items painted."""
    deadline = time.monotonic() + timeout_s
    for _ in range(5):
        app.processEvents()
    window.analysis.result  # noqa: B018  (computes now if an edit is pending)
    window.view.fit_or_start()
    while time.monotonic() < deadline:
        app.processEvents()
        if not window.analysis.pending:
            break
        time.sleep(0.01)
    window.view.viewport().repaint()
    app.processEvents()


def _size(text: str) -> tuple[int, int] | None:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        return None
    return (w, h) if w >= 400 and h >= 300 else None


SCREENSHOT_SIZE = "1500x940"


def run_app(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    size = _size(args.size or SCREENSHOT_SIZE)
    if size is None:
        print(f"error: --size must look like 1500x940 (at least 400x300), got {args.size!r}", file=sys.stderr)
        return 2
    if args.screenshot or _headless():
        if not args.screenshot and not os.environ.get("QT_QPA_PLATFORM"):
            print("error: no display found; run Residual Explorer on a desktop, or use "
                  "`python main.py --screenshot FILE` to render the window off-screen", file=sys.stderr)
            return 2
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

    from explorer.arch import ArchError, load_arch

    graph = path = None
    if args.arch:
        try:
            graph = load_arch(args.arch)
        except ArchError as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
        if args.arch.endswith(".json") or os.path.isfile(args.arch):
            path = os.path.abspath(args.arch)

    app = make_application()
    from pathlib import Path

    from explorer.ui.main_window import MainWindow

    window = MainWindow()   # sized to the screen it opens on
    if args.size or args.screenshot:
        window.resize(*size)
    if graph is not None:
        from explorer.ui.document import arrange, placed

        aspect = max(0.5, (size[0] - 560) / max(1, size[1] - 250))   # the window's canvas
        if path:
            placed(graph, aspect)   # a file without positions is laid out
        else:  # a preset has no positions of its own: lay it out to fill the canvas
            arrange(graph, "LR", aspect)
            graph.name = args.arch
        window.document.set_graph(graph, Path(path) if path else None)

    if args.screenshot:
        window.show()
        wait_until_rendered(window, app)
        if args.expand:
            window.edit.expand_everything()
            window.document.stack.setClean()
            wait_until_rendered(window, app)
        image = window.grab()
        ok = image.save(args.screenshot, "PNG")
        window.document.close()
        window.hide()
        if not ok:
            print(f"error: could not write {args.screenshot}; check the folder exists and is writable",
                  file=sys.stderr)
            return 2
        print(args.screenshot)
        return 0

    window.show()
    if args.expand:
        window.edit.expand_everything()
        window.document.stack.setClean()
    window.files.offer_recovery()
    return app.exec()
