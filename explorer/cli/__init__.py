"""``python main.py <command>``: the same core as the window, without one.

Each command is a module here with ``add_arguments(parser)`` and ``run(args) -> int``; errors the user
can fix are printed as one ``error: ...`` line with a non-zero exit, never a traceback.

Only the module of the command that runs is imported, so ``--help``, ``presets`` and ``validate`` start
without torch (about a second of start-up); a command module imports torch inside ``run`` when it needs it.
"""
from __future__ import annotations

import argparse
import difflib
import importlib
import importlib.util
import sys

from explorer.cli import suggest

COMMANDS = {
    "presets": "list the named architectures",
    "info": "per-node table of shapes, parameters and multiply-accumulates",
    "validate": "check a graph file; exit 0 when it is valid",
    "train": "train an architecture on a data set",
    "compare": "train a network and its plain twin with the same settings, side by side",
    "bench": "throughput of the engine against a plain PyTorch loop",
    "analyze": "gradient flow, depth sweep, lesion study, path lengths, loss landscape, block anatomy, degeneracy",
    "export": "write a network as a standalone PyTorch module, TorchScript, ONNX, torch.export or a training script",
    "import": "turn a PyTorch model (FILE.py:CALLABLE) into a graph file; runs that code",
    "import-weights": "load a torchvision or timm state_dict into a preset, as a run folder",
    "study": "many trainings as one study: depth over a family or a grid, with plain twins and seeds; local or Ray",
    "lesson": "the note's argument as guided experiments: list the lessons, or run one and check its claim",
}

PROG = "residual-explorer"


class UserError(Exception):
    """A problem the user can fix; printed as ``error: <message>``."""


class _UsageError(Exception):
    """argparse refused the command line; ``str`` is the one-line message."""


class _Parser(argparse.ArgumentParser):
    """An argparse parser whose refusals become one ``error:`` line naming the sub-command."""

    def error(self, message: str):
        command = self.prog[len(PROG):].strip()
        message = suggest.with_choice_hint(message)
        raise _UsageError(f"{command}: {message}" if command else message)


def available_commands() -> list[str]:
    """The commands whose module exists (found without importing it)."""
    return [name for name in COMMANDS if importlib.util.find_spec(command_module(name)) is not None]


def command_module(name: str) -> str:
    """``import-weights`` lives in ``explorer.cli.import_weights_cmd``."""
    return f"explorer.cli.{name.replace('-', '_')}_cmd"


def one_line(message) -> str:
    """``message`` as one line: control characters (a newline or escape code in a node id read from a file)
    are shown escaped, so an error is always one ``error:`` line and never drives the terminal."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(message))


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    commands = available_commands()
    if not argv or (argv[0] not in commands and argv[0] not in ("-h", "--help") and _is_window_argument(argv[0])):
        from explorer.ui.app import run_app  # the window: no command, window options, or an architecture
        return run_app(argv)
    try:
        if argv[0] not in commands and argv[0] not in ("-h", "--help"):
            raise _UsageError(_unknown_command(argv[0], commands))
        module, args = _parse(argv, commands)  # imports the command's module: torch for some, seconds
        return int(module.run(args) or 0)
    except (_UsageError, UserError) as e:
        print(f"error: {one_line(e)}", file=sys.stderr)
        return 2
    except SystemExit as e:  # --help printed its text
        return e.code if isinstance(e.code, int) else int(e.code is not None)
    except BrokenPipeError:  # `... | head` closed the pipe; nothing left to say
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130


def _parse(argv: list[str], commands: list[str]):
    """(the chosen command's module, its parsed arguments). Only that module is imported."""
    chosen = argv[0]
    parser, module, sub_parser = build_parser(chosen, commands)
    try:
        args, extras = parser.parse_known_args(argv)
    except _UsageError:
        stray = suggest.unknown_options(argv[1:], sub_parser) if sub_parser is not None else []
        if stray:  # `--fromat py`: the misspelt option, not argparse's "--format is required", is the news
            raise _UsageError(f"{chosen}: {_unknown_option(stray[0], sub_parser)}") from None
        raise
    if extras:
        raise _UsageError(f"{chosen}: {_unknown_option(extras[0], sub_parser)}")
    return module, args


def build_parser(chosen: str | None, commands: list[str] | None = None):
    """(the whole parser, the chosen command's module, its sub-parser); only the chosen command's module is
    imported and given its arguments (``chosen`` None: none, enough for the top-level help)."""
    parser = _Parser(prog=PROG, description="Residual Explorer: build, inspect and train residual networks.",
                     epilog="Without a command, `python main.py [ARCH]` opens the window (on ARCH, a preset name "
                            "or a graph .json file, if given); `python main.py --screenshot FILE [--size WxH] "
                            "[--expand] [ARCH]` renders it off-screen to a PNG. `python main.py COMMAND --help` "
                            "lists a command's options.")
    sub = parser.add_subparsers(dest="command", metavar="command")
    module = sub_parser = None
    for name in available_commands() if commands is None else commands:
        if name != chosen:
            sub.add_parser(name, help=COMMANDS[name])
            continue
        module = importlib.import_module(command_module(name))
        doc = " ".join((module.__doc__ or COMMANDS[name]).strip().split("\n\n")[0].split())  # first paragraph
        # No abbreviations: a prefix that works today would break when a longer flag is added.
        sub_parser = sub.add_parser(name, help=COMMANDS[name], description=doc, allow_abbrev=False)
        module.add_arguments(sub_parser)
    return parser, module, sub_parser


def _unknown_option(token: str, parser: argparse.ArgumentParser) -> str:
    if not token.startswith("-") or token == "-":
        return f"unexpected argument '{token}'"
    return suggest.unknown_option(token, parser, parser.prog.split()[-1])


def _is_window_argument(first: str) -> bool:
    """Window options, a graph file or a preset name open the window; anything else is a mistyped command."""
    if first.startswith("-") or first.endswith(".json") or "/" in first:
        return True
    from pathlib import Path

    from explorer.presets import list_presets
    return Path(first).is_file() or first in {p.name for p in list_presets()}


def _unknown_command(word: str, commands: list[str]) -> str:
    from explorer.presets import list_presets

    presets = [p.name for p in list_presets()]
    close = difflib.get_close_matches(word, commands + presets, n=3, cutoff=0.6)
    if close and close[0] in commands:
        return f"unknown command '{word}'; did you mean {close[0]}?"
    if close:
        return (f"unknown command or preset '{word}'; did you mean {', '.join(c for c in close if c in presets)}? "
                "(`python main.py presets` lists the presets)")
    return (f"unknown command '{word}'; the commands are {', '.join(commands)} "
            "(or name a preset or a .json file to open it in the window)")
