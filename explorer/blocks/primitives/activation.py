"""Element-wise non-linearities, and the open table of their kinds.

Each kind is one ``ActivationKind`` entry in ``ACTIVATIONS``: how it is built (a ``torch.nn`` class and its
settings), how it is written in exported code, and the torch functions and tensor methods that compute it in
imported code. The Activation block's ``kind`` choices are a live view of the table, so one
``register_activation`` makes a new kind appear in the inspector, compile, export and import.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from explorer.blocks.base import BlockType
from explorer.blocks.code import LayerCode, call
from explorer.blocks.glyph import NONE, Poly
from explorer.blocks.recognise import Step, TorchRules, resolve
from explorer.blocks.registry import register
from explorer.blocks.table import Table
from explorer.graph.params import Param, ParamSet


@dataclass(frozen=True)
class ActivationKind:
    """One activation. ``module``: the ``torch.nn`` class that computes it; ``settings``: its constructor
    arguments, which an imported layer (or function call) must have too. ``code``: the forward expression
    of exported code (``{0}`` the input; empty: an ``nn`` layer of ``module``). ``functions`` and
    ``methods``: dotted torch functions and tensor method names the importer reads as this kind."""

    name: str
    module: str
    settings: dict = field(default_factory=dict)
    code: str = ""
    functions: tuple[str, ...] = ()
    methods: tuple[str, ...] = ()

    def build(self):
        from torch import nn
        return getattr(nn, self.module)(**self.settings)


ACTIVATIONS: Table[ActivationKind] = Table("activation")
register_activation = ACTIVATIONS.add
unregister_activation = ACTIVATIONS.remove

_F = "torch.nn.functional."
BUILT_IN = (
    ActivationKind("relu", "ReLU", code="F.relu({0})", functions=(_F + "relu", "torch.relu", "torch.relu_"),
                   methods=("relu", "relu_")),
    ActivationKind("leaky_relu", "LeakyReLU", {"negative_slope": 0.1}, "F.leaky_relu({0}, 0.1)", (_F + "leaky_relu",)),
    ActivationKind("elu", "ELU", {"alpha": 1.0}, "F.elu({0})", (_F + "elu",)),
    ActivationKind("gelu", "GELU", {"approximate": "none"}, "F.gelu({0})", (_F + "gelu",)),
    ActivationKind("silu", "SiLU", code="F.silu({0})", functions=(_F + "silu",)),
    ActivationKind("tanh", "Tanh", code="torch.tanh({0})", functions=(_F + "tanh", "torch.tanh"), methods=("tanh",)),
    ActivationKind("sigmoid", "Sigmoid", code="torch.sigmoid({0})", functions=(_F + "sigmoid", "torch.sigmoid"),
                   methods=("sigmoid",)),
    ActivationKind("identity", "Identity", code="{0}"),  # the importer reads nn.Identity as no node at all
)
for kind in BUILT_IN:
    register_activation(kind)


@register
class Activation(BlockType):
    name = "activation"
    color = "#d08b16"
    glyph = (Poly(((0.1, 0.75), (0.5, 0.75), (0.9, 0.2)), closed=False, fill=NONE),)  # a ReLU
    keeps_features = True
    title = "Activation"
    help = "Element-wise non-linearity: ReLU (the residual papers' choice), sigmoid (gates), and friends."
    params = ParamSet((Param("kind", "choice", "relu", choices=ACTIVATIONS.names, help="which function"),))
    face = ("kind",)

    def describe(self, p):
        return p["kind"]

    def infer(self, p, in_shapes):
        return tuple(in_shapes[0])

    def build(self, p, in_shapes):
        return ACTIVATIONS.get(p["kind"]).build()

    def torch_rules(self):
        """Every kind's module, functions and methods (the importer reads nn.Identity as a pass-through
        before any rule)."""
        rules = TorchRules()
        for kind in ACTIVATIONS:
            cls = resolve(f"torch.nn.{kind.module}")
            rule = _call_rule(kind, cls)
            rules.modules[cls] = lambda m, n, ctx, kind=kind: _step(kind) if _has_settings(m, kind) else None
            rules.functions.update((resolve(f), rule) for f in kind.functions)
            rules.methods.update((name, rule) for name in kind.methods)
        return rules

    def code(self, p, in_shapes):
        kind = ACTIVATIONS.get(p["kind"])
        if kind.code:
            return LayerCode(None, kind.code)
        return LayerCode(call(f"nn.{kind.module}", **kind.settings))


# -- import ----------------------------------------------------------------------------------------------
_MISSING = object()


def _step(kind: ActivationKind) -> list[Step]:
    return [Step(Activation.name, dict(kind=kind.name))]


def _has_settings(m, kind: ActivationKind) -> bool:
    return all(getattr(m, key, _MISSING) == value for key, value in kind.settings.items())


def _call_rule(kind: ActivationKind, cls: type):
    """``f(x, *settings, inplace)`` with the kind's settings; one left out takes ``cls``'s default (the
    functions' defaults are their modules')."""
    names = (*kind.settings, "inplace")

    def rule(n, ctx):
        given = dict(zip(names, n.args[1:]))
        if len(n.args) > 1 + len(names) or not set(n.kwargs) <= set(names) - set(given):
            return None
        given.update(n.kwargs)
        missing = [key for key in kind.settings if key not in given]
        if missing:
            defaults = cls()
            given.update((key, getattr(defaults, key, _MISSING)) for key in missing)
        return _step(kind) if all(given[k] == v for k, v in kind.settings.items()) else None
    return rule
