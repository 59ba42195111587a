"""Find and build the model a person names: ``FILE.py:CALLABLE`` or ``package.module:CALLABLE``.

This is the one place that runs other people's code, and only because the person asked for it: the file
is executed as a module (its top level runs), then the callable is called without arguments. Whatever that
code raises is reported as one sentence naming the file and the exception, never as a traceback.
"""
from __future__ import annotations

import importlib
import importlib.util
import itertools
import sys
from pathlib import Path

from explorer.importer.errors import ImporterError

RUNS_CODE_NOTICE = ("importing a PyTorch model runs its Python code (the file's top level and the callable) "
                    "with your permissions: import only code you trust")

_serial = itertools.count()


def split_spec(spec: str) -> tuple[str, str]:
    """``"net.py:build"`` -> ``("net.py", "build")``; the callable may be dotted (``Outer.make``)."""
    where, sep, name = str(spec).rpartition(":")
    if not sep or not where or not name:
        raise ImporterError(f"'{spec}' must name a file or module and a callable, like model.py:build or "
                            "torchvision.models:resnet18")
    if not all(part.isidentifier() for part in name.split(".")):
        raise ImporterError(f"'{name}' in '{spec}' is not a Python name; write FILE.py:CALLABLE")
    return where, name


def load_callable(spec: str):
    """The object ``spec`` names (runs the file or imports the module)."""
    where, name = split_spec(spec)
    module = _load_file(where) if where.endswith(".py") or "/" in where or Path(where).is_file() else _load_module(where)
    obj = module
    for part in name.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            found = sorted(n for n, v in vars(module).items() if callable(v) and not n.startswith("_"))
            hint = f"; it defines {', '.join(found[:8])}" if found else ""
            raise ImporterError(f"{where} has no '{name}'{hint}") from None
    return obj


def build_model(spec: str):
    """The ``nn.Module`` that ``spec`` names: the callable's result (called without arguments), or the
    object itself when it already is a module."""
    from torch import nn

    obj = load_callable(spec)
    if not isinstance(obj, nn.Module):
        if not callable(obj):
            raise ImporterError(f"'{spec}' is a {type(obj).__name__}, neither a module nor something to call")
        try:
            obj = obj()
        except (Exception, SystemExit) as e:  # sys.exit() in the user's code is its failure, not ours to exit with
            raise ImporterError(f"calling {spec}() raised {_say(e)}; it must build the model without "
                                "arguments (wrap it in a function that passes them)") from None
    if not isinstance(obj, nn.Module):
        raise ImporterError(f"{spec}() returned a {type(obj).__name__}, not a torch.nn.Module")
    return obj


def _load_file(where: str):
    path = Path(where)
    if not path.is_file():
        raise ImporterError(f"no such Python file: {where}")
    name = f"_explorer_import_{next(_serial)}_{path.stem if path.stem.isidentifier() else 'model'}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImporterError(f"{where} cannot be loaded as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and pickling look the module up while it runs
    try:
        spec.loader.exec_module(module)
    except SyntaxError as e:
        sys.modules.pop(name, None)
        raise ImporterError(f"{where}, line {e.lineno}: syntax error ({e.msg})") from None
    except BaseException as e:  # SystemExit from a script's main guard-less exit() included
        sys.modules.pop(name, None)
        if isinstance(e, KeyboardInterrupt):
            raise
        raise ImporterError(f"running {where} raised {_say(e)}") from None
    return module


def _load_module(where: str):
    try:
        return importlib.import_module(where)
    except ModuleNotFoundError as e:
        raise ImporterError(f"no module named '{e.name or where}'; install it, or name a .py file") from None
    except (Exception, SystemExit) as e:
        raise ImporterError(f"importing {where} raised {_say(e)}") from None


def _say(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return f"{type(e).__name__}: {text[0]}" if text else type(e).__name__
