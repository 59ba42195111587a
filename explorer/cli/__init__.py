"""``python main.py <command>``: the same core as the window, without one.

Each command is a module here with ``add_arguments(parser)`` and ``run(args) -> int``; errors the user
can fix are printed as one ``error: ...`` line with a non-zero exit, never a traceback.
"""
from __future__ import annotations

import argparse
import importlib
import sys

COMMANDS = {
    "presets": "list the named architectures",
    "info": "per-node table of shapes, parameters and multiply-accumulates",
    "validate": "check a graph file; exit 0 when it is valid",
    "train": "train an architecture on a data set",
    "compare": "train a network and its plain twin with the same settings, side by side",
    "bench": "throughput of the engine against a plain PyTorch loop",
    "analyze": "gradient flow, lesion study and loss landscape",
    "export": "write a graph as JSON, PyTorch checkpoint, ONNX or picture",
}


class UserError(Exception):
    """A problem the user can fix; printed as ``error: <message>``."""


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in COMMANDS and argv[0] not in ("-h", "--help"):
        from explorer.ui.app import run_app  # the window: no command, or --screenshot
        return run_app(argv)
    parser = argparse.ArgumentParser(prog="residual-explorer",
                                     description="Residual Explorer: build, inspect and train residual networks. "
                                                 "Without a command it opens the window.")
    sub = parser.add_subparsers(dest="command", metavar="command")
    modules = {}
    for name, help_text in COMMANDS.items():
        try:
            mod = importlib.import_module(f"explorer.cli.{name}_cmd")
        except ModuleNotFoundError as e:
            if e.name != f"explorer.cli.{name}_cmd":
                raise
            continue
        modules[name] = mod
        p = sub.add_parser(name, help=help_text, description=(mod.__doc__ or help_text).strip().splitlines()[0])
        mod.add_arguments(p)
    args = parser.parse_args(argv)
    try:
        return int(modules[args.command].run(args) or 0)
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `... | head` closed the pipe; nothing left to say
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
