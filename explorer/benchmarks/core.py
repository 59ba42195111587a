"""Time building, validating/inferring and compiling the deepest presets.

``python -m explorer.benchmarks.core [names...]`` prints one line per preset with median seconds.
Building and inference are measured cold (caches cleared), then warm (an edit re-run).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time

DEFAULT = ("preact_resnet1001", "resnet1202")


def _median(fn, repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def clear_caches() -> None:
    from explorer.blocks.base import clear_caches as clear_block_caches
    clear_block_caches()


def bench(name: str) -> dict:
    import torch

    from explorer.compile import compile_graph
    from explorer.network.inference import analyze
    from explorer.presets import build_preset

    def cold_build():
        clear_caches()
        return build_preset(name)

    build = _median(cold_build)
    graph = build_preset(name)

    def cold_infer():
        clear_caches()
        return analyze(graph)

    infer_cold = _median(cold_infer)
    infer_warm = _median(lambda: analyze(graph))
    analysis = analyze(graph)
    torch.set_num_threads(max(1, torch.get_num_threads()))
    comp = _median(lambda: compile_graph(graph, analysis), repeats=2)
    return {"preset": name, "build_s": build, "infer_cold_s": infer_cold, "infer_warm_s": infer_warm,
            "compile_s": comp, "params": analysis.total.params, "weight_layers": analysis.total.weight_layers}


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="python -m explorer.benchmarks.core", description=__doc__.splitlines()[0])
    p.add_argument("presets", nargs="*", metavar="PRESET", help=f"preset names (default: {' '.join(DEFAULT)})")
    names = p.parse_args(argv).presets or DEFAULT
    from explorer.presets import list_presets
    known = {info.name for info in list_presets()}
    unknown = [name for name in names if name not in known]
    if unknown:
        print(f"error: unknown preset {unknown[0]!r}; `python main.py presets` lists them", file=sys.stderr)
        return 2
    for name in names:
        r = bench(name)
        print(f"{r['preset']:<20} build {r['build_s']:.3f}s  validate+infer cold {r['infer_cold_s']:.3f}s "
              f"warm {r['infer_warm_s'] * 1000:.1f}ms  compile {r['compile_s']:.3f}s  "
              f"({r['weight_layers']} weight layers, {r['params']:,} params)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
