"""How a block type is written as standalone PyTorch code (the `export --format py` module).

Each block type answers ``code(p, in_shapes)`` with a ``LayerCode``: the expression that constructs its
layer (``nn.Conv2d(16, 32, 3, ...)``, ``BasicBlock(16, 32, stride=2)``) or none for an operation written
inline (``F.relu(x)``, ``a + b``), the expression that calls it in ``forward``, and the ``Snippet`` s
(helper functions, block classes) the file must define for it. The exporter only assembles these, so a
new block type stays one module; a composite that declares no code is written from its expansion.

Names matter: a block class names its layers as the block's expansion names its nodes (``conv1``,
``bn1``, ``shortcut_conv``), so the exported module's ``state_dict`` is the compiled network's, less the
``nodes`` containers. No torch here: code is text.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Snippet:
    """A top-level definition of the generated file (a helper or a class), with what it uses."""

    name: str
    source: str
    needs: tuple["Snippet", ...] = ()


@dataclass(frozen=True)
class LayerCode:
    """``init``: constructor expression of the node's layer, or None for an inline operation.
    ``call``: the forward expression, a ``str.format`` template: ``{m}`` is the layer (``self.conv1``),
    ``{0}``, ``{1}``, ... the inputs in edge order."""

    init: str | None
    call: str = "{m}({0})"
    needs: tuple[Snippet, ...] = ()


class Expr(str):
    """Text that ``call`` writes as it is, not quoted: a name such as ``num_classes``."""

    def __repr__(self) -> str:
        return str(self)


X = Expr("{0}")  # the first input, in a ``call`` template


def value(v) -> str:
    """A parameter value as Python source; ``repr`` writes floats exactly, so outputs match bit for bit."""
    return repr(v)


def call(func: str, *args, defaults: dict | None = None, **kwargs) -> str:
    """``func(a, b, key=value)``; keywords equal to their entry in ``defaults`` are left out, as a
    person writing the call would."""
    defaults = defaults or {}
    parts = [value(a) for a in args]
    parts += [f"{k}={value(v)}" for k, v in kwargs.items() if not (k in defaults and _same(defaults[k], v))]
    return f"{func}({', '.join(parts)})"


def _same(a, b) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    return not isinstance(b, Expr) and a == b


def inputs(n: int, sep: str) -> str:
    """``{0} + {1} + {2}`` for a merge of ``n`` inputs."""
    return sep.join(f"{{{i}}}" for i in range(n))
