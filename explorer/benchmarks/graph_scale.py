"""How opening a large graph grows with its size: a chain of 20k and of 200k nodes, edges listed in reverse.

``python -m explorer.benchmarks.graph_scale [--sizes 20000,200000] [--json]`` prints, per size, the CPU
seconds of reading the file (``loads_graph``: format checks and ``Graph.from_records``), of the analysis
``validate`` and ``info`` run (shapes, costs, problems), of the window's layout (layered positions), and
of ``python main.py validate`` in its own process (start-up included); then how each grew from the
smallest size to the largest against the node count. Growth near the size ratio is linear; CPU time (not
wall time) is what a busy neighbour barely moves.
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

DEFAULT_SIZES = (20_000, 200_000)


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
    t0 = time.process_time()
    graph = loads_graph(text)
    t1 = time.process_time()
    result = analyze(graph)
    t2 = time.process_time()
    layered_positions(graph, "LR", suggest_wrap(graph))
    t3 = time.process_time()
    if not result.valid:
        raise SystemExit(f"error: the generated chain of {n} nodes is not valid: {result.errors[0].text}")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "chain.json"
        path.write_text(text, encoding="utf-8")
        validate = _child_cpu([sys.executable, str(Path(__file__).resolve().parents[2] / "main.py"), "validate",
                               str(path)])
    return {"nodes": len(graph), "load_s": t1 - t0, "analyze_s": t2 - t1, "layout_s": t3 - t2,
            "validate_cli_cpu_s": validate}


def _child_cpu(cmd: list[str]) -> float:
    """User + system CPU seconds of running ``cmd`` to its end (it must succeed)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
    if done.returncode != 0:
        raise SystemExit(f"error: validate failed: {done.stderr.strip()}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


PHASES = ("load_s", "analyze_s", "layout_s", "validate_cli_cpu_s")


def growth(rows: list[dict]) -> dict:
    """Per phase: (time at the largest size ÷ time at the smallest) ÷ (nodes ratio); 1.0 = linear."""
    small, large = rows[0], rows[-1]
    size = large["nodes"] / small["nodes"]
    return {k: (large[k] / small[k]) / size if small[k] > 0 else None for k in PHASES}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m explorer.benchmarks.graph_scale", description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", default=",".join(map(str, DEFAULT_SIZES)), metavar="N,N,...",
                   help="chain lengths (default 20000,200000)")
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
    if args.json:
        print(json.dumps({"sizes": rows, "growth_vs_linear": grew}))
        return 0
    print(f"{'nodes':>8}  {'load':>7}  {'analyze':>7}  {'layout':>7}  {'validate (CLI)':>14}   CPU seconds")
    for r in rows:
        print(f"{r['nodes']:>8,}  {r['load_s']:7.2f}  {r['analyze_s']:7.2f}  {r['layout_s']:7.2f}  "
              f"{r['validate_cli_cpu_s']:14.2f}")
    if grew:
        ratio = rows[-1]["nodes"] / rows[0]["nodes"]
        print(f"growth from {rows[0]['nodes']:,} to {rows[-1]['nodes']:,} nodes (×{ratio:.0f}), as a multiple of "
              "linear (1.0 = linear; the CLI figure includes a fixed start-up):")
        print("  " + ", ".join(f"{k.removesuffix('_s').removesuffix('_cpu')} {v:.2f}" for k, v in grew.items()
                               if v is not None))
    return 0


if __name__ == "__main__":
    sys.exit(main())
