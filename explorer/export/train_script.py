"""A standalone training script for a graph (``export --format train-script``): torch only, the network's
module inlined, the flags' defaults taken from the training settings, one device or many under torchrun.

The script is ``train_template.py`` (a real Python file, so tools read it) with three lines replaced: the
``from model import ...`` line by the module ``export --format py`` writes (its docstring turned into
comments, its ``__main__`` block and the imports the template already has left out), ``SETTINGS`` by the
settings, and the schedule marker by ``explorer.train.optim``'s own schedule function, so the script's
learning rate follows the app's step for step.
"""
from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

from explorer.export.python_code import ExportError, python_module
from explorer.graph.model import Graph
from explorer.train import optim
from explorer.train.config import TrainConfig

TEMPLATE = Path(__file__).with_name("train_template.py")
# TrainConfig fields the script's flags take their defaults from (the others are the app's own business).
SETTING_FIELDS = ("epochs", "batch_size", "lr", "optimizer", "momentum", "nesterov", "betas", "weight_decay",
                  "schedule", "warmup_epochs", "step_epochs", "step_gamma", "label_smoothing", "grad_clip",
                  "crop_padding", "flip", "max_steps", "device", "seed", "log_every")


def train_script(graph: Graph, config: TrainConfig | None = None, data: str = "digits") -> str:
    """The script's text; raises ExportError (a graph that cannot be exported, settings out of range)."""
    config = config or TrainConfig()
    try:
        config.check()
    except ValueError as e:
        raise ExportError(f"the training settings: {e}") from None
    module = python_module(graph)
    template = TEMPLATE.read_text(encoding="utf-8")
    model = inline_model(module.source, template)
    settings = {"data": data, "num_classes": _num_classes(model), **{k: _plain(getattr(config, k))
                                                                      for k in SETTING_FIELDS}}
    text = _replace_lines(template.replace("@NAME@", graph.name or "network"), {
        "@MODEL@": f"# == the network ({module.class_name}), as `export --format py` writes it {'=' * 30}\n{model}",
        "@SETTINGS@": _settings_source(settings),
        "@SCHEDULE@": _schedule_source()})
    compile(text, "train.py", "exec")  # a template or model edit that breaks the script fails here, not for the user
    return text


def _replace_lines(text: str, by_marker: dict[str, str]) -> str:
    """Each line of ``text`` that holds a marker, replaced by that marker's text."""
    out = []
    for line in text.splitlines():
        marker = next((m for m in by_marker if m in line), None)
        out.append(line if marker is None else by_marker.pop(marker).rstrip("\n"))
    if by_marker:
        raise ExportError(f"the training-script template lacks {', '.join(by_marker)}")
    return "\n".join(out) + "\n"


def inline_model(source: str, template: str) -> str:
    """The exported module, ready to sit inside the script: its docstring as comments, without its
    ``if __name__ == "__main__":`` block and without the imports the template already makes."""
    tree = ast.parse(source)
    lines = source.splitlines()
    have = {ast.unparse(n) for n in ast.parse(template).body if isinstance(n, (ast.Import, ast.ImportFrom))}
    drop: set[int] = set()
    comment: set[int] = set()
    for i, node in enumerate(tree.body):
        span = set(range(node.lineno - 1, node.end_lineno))
        if i == 0 and isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            comment |= span
        elif isinstance(node, (ast.Import, ast.ImportFrom)) and ast.unparse(node) in have:
            drop |= span
        elif isinstance(node, ast.If) and "__name__" in ast.unparse(node.test):
            drop |= span
    out = []
    for n, line in enumerate(lines):
        if n in drop:
            continue
        if n in comment:
            line = ("# " + line.replace('"""', "")).rstrip()
            if n == max(comment) and line == "#":
                continue
        out.append(line)
    return re.sub(r"\n{4,}", "\n\n\n", "\n".join(out).strip("\n")) + "\n"


def _num_classes(model_source: str) -> int:
    """``build()``'s default ``num_classes``, as the exported module declares it."""
    for node in ast.parse(model_source).body:
        if isinstance(node, ast.FunctionDef) and node.name == "build":
            return ast.literal_eval(node.args.defaults[0])
    raise ExportError("the exported module has no build(num_classes=...)")


def _plain(value):
    return list(value) if isinstance(value, tuple) else value


def _settings_source(settings: dict) -> str:
    items = "".join(f"    {k!r}: {v!r},\n" for k, v in settings.items())
    return ("# The flags' defaults: the training settings this script was exported with.\n"
            f"SETTINGS = {{\n{items}}}")


def _schedule_source() -> str:
    return ("# == the learning-rate schedule: Residual Explorer's (torch.optim.lr_scheduler) curve as a formula ====\n"
            + function_source(optim.lr_factor))


def function_source(fn) -> str:
    """``fn``'s source with the constants and module functions it reads (recursively), so it runs alone in
    a file that imports only what ``fn``'s module imports."""
    constants, functions, seen = [], [], set()

    def visit(f) -> None:
        seen.add(f.__name__)
        for name in f.__code__.co_names:
            value = f.__globals__.get(name)
            if name in seen:
                continue
            if inspect.isfunction(value) and value.__module__ == f.__module__:
                visit(value)
            elif isinstance(value, (int, float, str)) and not isinstance(value, bool):
                seen.add(name)
                constants.append(f"{name} = {value!r}\n")
        functions.append(inspect.getsource(f))

    visit(fn)
    return "".join(constants) + "\n\n" + "\n\n".join(reversed(functions))
