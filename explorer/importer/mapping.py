"""Which of our primitives one traced operation is, with its parameters, as the block types declare it.

``map_node`` answers a list of steps (usually one; ``x.mean((2, 3))`` is a global pool then a flatten), an
empty list for an operation that passes its input through unchanged (``nn.Identity``, ``.contiguous()``),
or None when nothing expresses it exactly; the caller then makes an opaque node. The vocabulary is the
registry's: each primitive block type declares the torch modules, functions and methods it computes and a
rule that reads their settings (``BlockType.torch_rules``, ``explorer.blocks.recognise``), so a new
primitive or activation kind needs no edit here. A rule only has to be right for the settings it accepts:
anything unusual (a ceil-mode pool, a non-zero padding mode, a BatchNorm without running statistics) is left
unmapped rather than approximated, and the assembler checks every mapped node's inferred shape against the
traced one.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Any

from torch import fx, nn

from explorer.blocks.recognise import Step
from explorer.blocks.registry import all_blocks
from explorer.importer.errors import ImporterError

__all__ = ["Context", "Step", "map_node", "tensor_inputs"]

# Operations that are no node at all; read before any block's rule (nn.Identity is not an identity activation).
_PASS_MODULES = {nn.Identity}
_PASS_METHODS = {"contiguous"}


class Rules:
    """Every registered block type's rules, by module class, function and method name, in registry order."""

    def __init__(self) -> None:
        self.modules: dict[type, list] = defaultdict(list)
        self.functions: dict[Any, list] = defaultdict(list)
        self.methods: dict[str, list] = defaultdict(list)
        for block in all_blocks():
            try:
                rules = block.torch_rules()
            except AttributeError as e:  # a declared torch name this torch does not have
                raise ImporterError(f"block type '{block.name}' reads {e}; fix its torch_rules") from None
            if rules is None:
                continue
            for table, declared in ((self.modules, rules.modules), (self.functions, rules.functions),
                                    (self.methods, rules.methods)):
                for target, rule in declared.items():
                    table[target].append(rule)


class Context:
    """What a mapping may look at: the traced modules, the measured shapes (batch first), and the rules
    (read from the registry once per import, so a block type registered meanwhile is seen)."""

    def __init__(self, modules: dict[str, nn.Module], shapes: dict[str, tuple | None]):
        self.modules, self.shapes = modules, shapes
        self.rules = Rules()

    def shape(self, value: Any) -> tuple | None:
        return self.shapes.get(value.name) if isinstance(value, fx.Node) else None


def tensor_inputs(n: fx.Node, ctx: Context) -> list[fx.Node]:
    """The node's tensor-valued inputs, in argument order (sizes, shapes and constants are not edges)."""
    found: list[fx.Node] = []
    fx.node.map_arg((n.args, n.kwargs), lambda a: found.append(a) if ctx.shape(a) is not None else None)
    return found


def map_node(n: fx.Node, ctx: Context) -> list[Step] | None:
    try:
        if n.op == "call_module":
            return _module(ctx.modules[n.target], n, ctx)
        if n.op == "call_function":
            return _first(_lookup(ctx.rules.functions, n.target), n, ctx)
        if n.op == "call_method":
            return _method(n, ctx)
    except (TypeError, ValueError, IndexError, KeyError):  # arguments of a form no rule expects
        return None
    return None


def _first(rules: list, *args) -> list[Step] | None:
    """The first rule's answer that is not None."""
    for rule in rules:
        steps = rule(*args)
        if steps is not None:
            return steps
    return None


def _lookup(table: dict, target) -> list:
    try:
        return table.get(target, [])
    except TypeError:  # an unhashable target
        return []


def _module(m: nn.Module, n: fx.Node, ctx: Context) -> list[Step] | None:
    if len(tensor_inputs(n, ctx)) != 1 or len(n.args) + len(n.kwargs) != 1:
        return None
    if type(m) in _PASS_MODULES:
        return []
    return _first(ctx.rules.modules.get(type(m), []), m, n, ctx)  # exact type: a subclass may change forward


def _method(n: fx.Node, ctx: Context) -> list[Step] | None:
    if ctx.shape(n.args[0]) is None:
        return None
    if n.target in _PASS_METHODS:
        return [] if len(n.args) == 1 and not n.kwargs else None
    return _first(ctx.rules.methods.get(n.target, []), n, ctx)
