"""Check a graph file: exit 0 when valid, otherwise one ``error:`` line naming the node and the fix."""
from __future__ import annotations

from explorer.cli import UserError
from explorer.graph.fileio import FileFormatError, load_graph
from explorer.network.inference import analyze


def add_arguments(p) -> None:
    p.add_argument("file", metavar="FILE", help="graph .json file")


def run(args) -> int:
    try:
        graph = load_graph(args.file)
    except FileFormatError as e:
        raise UserError(str(e)) from None
    a = analyze(graph)
    if not a.valid:
        more = len(a.errors) - 1
        raise UserError(a.errors[0].text + (f" (and {more} more problem{'s' * (more > 1)})" if more else ""))
    print(f"{args.file}: valid ({len(graph)} nodes, {a.total.params:,} parameters, output {tuple(a.output_shape)})")
    return 0
