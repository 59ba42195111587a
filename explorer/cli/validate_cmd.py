"""Check a graph file: exit 0 when valid, otherwise one ``error:`` line naming the node and the fix.

``--all`` lists every problem, one line each, instead of the first. A valid network whose training would
not fit in this machine's memory at the default batch size is still valid, with a ``warning:`` line.
"""
from __future__ import annotations

import sys

from explorer.cli import UserError, one_line
from explorer.graph.fileio import FileFormatError, load_graph
from explorer.network.inference import analyze
from explorer.network.memory import DEFAULT_BATCH_SIZE, check_fits, machine_bytes


def add_arguments(p) -> None:
    p.add_argument("file", metavar="FILE", help="graph .json file")
    p.add_argument("--all", action="store_true", help="list every problem and warning, not only the first error")


def run(args) -> int:
    try:
        graph = load_graph(args.file)
    except FileFormatError as e:
        if args.all and len(e.problems) > 1:
            for line in e.problems:
                print(f"error: {one_line(line)}", file=sys.stderr)
            raise UserError(f"{args.file}: {len(e.problems)} problems; see above") from None
        raise UserError(str(e) + ("; --all lists them" if len(e.problems) > 1 else "")) from None
    a = analyze(graph)
    if args.all:
        for p in a.problems:
            print(f"{p.severity}: {one_line(p.text)}", file=sys.stderr)
    if not a.valid:
        if args.all:
            n = len(a.errors)
            raise UserError(f"{args.file}: {n} error{'s' * (n > 1)}; see above")
        more = len(a.errors) - 1
        raise UserError(a.errors[0].text + (f" (and {more} more problem{'s' * (more > 1)}; --all lists them)"
                                            if more else ""))
    too_big = check_fits(a, DEFAULT_BATCH_SIZE, "sgd", machine_bytes())
    if too_big:
        print(f"warning: {too_big}", file=sys.stderr)
    print(f"{args.file}: valid ({len(graph)} nodes, {a.total.params:,} parameters, output {tuple(a.output_shape)})")
    return 0
