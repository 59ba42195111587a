"""How opening a large graph grows with its size: a chain of 20k and of 200k nodes, edges listed in reverse.

``python -m explorer.benchmarks.graph_scale [--sizes 20000,100000,200000] [--json]`` prints, per size, the CPU
seconds of reading the file (``loads_graph``: format checks and ``Graph.from_records``), of the analysis
``validate`` and ``info`` run (shapes, costs, problems), of the window's layout (layered positions), and
of ``python main.py validate`` in its own process (start-up included); then how each grew from the
smallest size to the largest against the node count, and over the last step (the two largest sizes). Growth
near the size ratio is linear; CPU time (not wall time) is what a busy neighbour barely moves. Each phase is the
best of two runs. The default sizes include 100k because the cost of one record is not constant: it rises with the memory the whole graph
takes (the processor's caches hold less of it) and levels off past about 100k nodes. Measured on the
development machine, the layout took 4.5, 7.2, 9.2 and 10.5 µs per node at 20k, 50k, 100k and 200k, with
the same work per node, so growth from 20k overstates the algorithm's; the step from 100k to 200k shows it.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DEFAULT_SIZES = (20_000, 100_000, 200_000)


def chain(n: int) -> dict:
    """A graph file: Input, ``n`` nodes alternating BatchNorm and ReLU, Output; edges in reverse order (the
    order that once made loading quadratic)."""
    nodes = [{"id": "input", "type": "input", "params": {"shape": [1, 8, 8]}}]
    nodes += [{"id": f"n{i}", "type": "activation" if i % 2 else "batchnorm"} for i in range(n)]
    nodes.append({"id": "output", "type": "output"})
    ids = [nd["id"] for nd in nodes]
    edges = [{"from": a, "to": b} for a, b in zip(ids, ids[1:])]
    return {"format": "residual-explorer-graph", "version": 1, "name": f"chain{n}", "nodes": nodes,
            "edges": edges[::-1]}


def measure(n: int) -> dict:
    """CPU seconds of each phase for a chain of ``n`` nodes."""
    import explorer.blocks  # noqa: F401  (the block types, registered before timing)
    from explorer.graph.fileio import loads_graph
    from explorer.graph.layout import layered_positions, suggest_wrap
    from explorer.network.inference import analyze

    text = json.dumps(chain(n))
    graph, load_s = _best(lambda: loads_graph(text))
    result, analyze_s = _best(lambda: analyze(graph))
    _, layout_s = _best(lambda: layered_positions(graph, "LR", suggest_wrap(graph)))
    if not result.valid:
        raise SystemExit(f"error: the generated chain of {n} nodes is not valid: {result.errors[0].text}")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "chain.json"
        path.write_text(text, encoding="utf-8")
        validate = _child_cpu([sys.executable, str(Path(__file__).resolve().parents[2] / "main.py"), "validate",
                               str(path)])
    return {"nodes": len(graph), "load_s": load_s, "analyze_s": analyze_s, "layout_s": layout_s,
            "validate_cli_cpu_s": validate}


def _best(fn, runs: int = 2):
    """(``fn()``'s value, the fewest CPU seconds of ``runs`` calls): one-off costs of a first call, such as
    the memory the allocator first takes from the system, are not the algorithm's growth."""
    best, value = float("inf"), None
    for _ in range(runs):
        t = time.process_time()
        value = fn()
        best = min(best, time.process_time() - t)
    return value, best


def _child_cpu(cmd: list[str]) -> float:
    """User + system CPU seconds of running ``cmd`` to its end (it must succeed)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
    if done.returncode != 0:
        raise SystemExit(f"error: validate failed: {done.stderr.strip()}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


PHASES = ("load_s", "analyze_s", "layout_s", "validate_cli_cpu_s")


def growth(rows: list[dict], last_step: bool = False) -> dict:
    """Per phase: (time at the largest size ÷ time at the smallest) ÷ (nodes ratio); 1.0 = linear.
    ``last_step``: from the second largest size to the largest instead."""
    small, large = rows[-2] if last_step else rows[0], rows[-1]
    size = large["nodes"] / small["nodes"]
    return {k: (large[k] / small[k]) / size if small[k] > 0 else None for k in PHASES}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m explorer.benchmarks.graph_scale", description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", default=",".join(map(str, DEFAULT_SIZES)), metavar="N,N,...",
                   help="chain lengths (default 20000,100000,200000)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    args = p.parse_args(argv)
    try:
        sizes = sorted(int(s) for s in args.sizes.split(","))
    except ValueError:
        print(f"error: --sizes '{args.sizes}' must be whole numbers separated by commas", file=sys.stderr)
        return 2
    if not sizes or sizes[0] < 10 or sizes[-1] > 249_000:
        print("error: sizes must lie between 10 and 249000 nodes (a graph file holds at most 250000)", file=sys.stderr)
        return 2
    rows = [measure(n) for n in sizes]
    grew = growth(rows) if len(rows) > 1 else {}
    step = growth(rows, last_step=True) if len(rows) > 2 else {}
    if args.json:
        print(json.dumps({"sizes": rows, "growth_vs_linear": grew, "last_step_growth_vs_linear": step or grew}))
        return 0
    print(f"{'nodes':>8}  {'load':>7}  {'analyze':>7}  {'layout':>7}  {'validate (CLI)':>14}   CPU seconds")
    for r in rows:
        print(f"{r['nodes']:>8,}  {r['load_s']:7.2f}  {r['analyze_s']:7.2f}  {r['layout_s']:7.2f}  "
              f"{r['validate_cli_cpu_s']:14.2f}")
    if grew:
        ratio = rows[-1]["nodes"] / rows[0]["nodes"]
        print(f"growth from {rows[0]['nodes']:,} to {rows[-1]['nodes']:,} nodes (×{ratio:.0f}), as a multiple of "
              "linear (1.0 = linear; the CLI figure includes a fixed start-up):")
        print("  " + _line(grew))
    if step:
        print(f"from {rows[-2]['nodes']:,} to {rows[-1]['nodes']:,} nodes (the step that shows the algorithm's growth): "
              + _line(step))
    return 0


def _line(grew: dict) -> str:
    return ", ".join(f"{k.removesuffix('_s').removesuffix('_cpu')} {v:.2f}" for k, v in grew.items() if v is not None)


if __name__ == "__main__":
    sys.exit(main())
