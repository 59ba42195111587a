"""Typed block parameters: what the inspector edits, what files store, what validation checks.

A ``Param`` is a declaration (name, kind, default, range, help); values live on nodes as plain
JSON-compatible Python values. Coercion refuses the wrong *type* (a file saying ``"channels": "x"``),
while range checks are left to validation so a graph may hold an out-of-range value and say why.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class ParamError(ValueError):
    """A value of the wrong type or an unknown parameter name."""


@dataclass(frozen=True)
class Param:
    name: str
    kind: str  # "int" | "float" | "bool" | "choice" | "shape"
    default: Any
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    help: str = ""
    label: str = ""

    @property
    def title(self) -> str:
        return self.label or self.name.replace("_", " ").capitalize()

    def coerce(self, value: Any) -> Any:
        """Return ``value`` in this parameter's canonical type, or raise ParamError."""
        k = self.kind
        if k == "int":
            if isinstance(value, bool) or not isinstance(value, (int, float)) or int(value) != value:
                raise ParamError(f"'{self.name}' must be a whole number, got {value!r}")
            return int(value)
        if k == "float":
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
                raise ParamError(f"'{self.name}' must be a number, got {value!r}")
            return float(value)
        if k == "bool":
            if not isinstance(value, bool):
                raise ParamError(f"'{self.name}' must be true or false, got {value!r}")
            return value
        if k == "choice":
            if value not in self.choices:
                raise ParamError(f"'{self.name}' must be one of {', '.join(self.choices)}; got {value!r}")
            return value
        if k == "shape":
            if (not isinstance(value, (list, tuple)) or not 1 <= len(value) <= 3
                    or any(isinstance(v, bool) or not isinstance(v, int) for v in value)):
                raise ParamError(f"'{self.name}' must be a list of 1 to 3 whole numbers, got {value!r}")
            return [int(v) for v in value]
        raise ParamError(f"unknown parameter kind {k!r}")

    def range_problem(self, value: Any) -> str | None:
        """A sentence when ``value`` is outside the declared range, else None."""
        values = value if self.kind == "shape" else [value]
        if self.kind not in ("int", "float", "shape"):
            return None
        for v in values:
            if self.minimum is not None and v < self.minimum:
                return f"'{self.name}' is {value}, below the minimum {_fmt(self.minimum)}"
            if self.maximum is not None and v > self.maximum:
                return f"'{self.name}' is {value}, above the maximum {_fmt(self.maximum)}"
        return None


def _fmt(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else str(v)


def Int(name: str, default: int, lo: int | None = None, hi: int | None = None, help: str = "", label: str = "") -> Param:
    return Param(name, "int", default, lo, hi, help=help, label=label)


def Float(name: str, default: float, lo: float | None = None, hi: float | None = None, help: str = "", label: str = "") -> Param:
    return Param(name, "float", float(default), lo, hi, help=help, label=label)


def Bool(name: str, default: bool, help: str = "", label: str = "") -> Param:
    return Param(name, "bool", default, help=help, label=label)


def Choice(name: str, default: str, choices: tuple[str, ...] | list[str], help: str = "", label: str = "") -> Param:
    return Param(name, "choice", default, choices=tuple(choices), help=help, label=label)


def Shape(name: str, default: list[int], lo: int = 1, hi: int = 4096, help: str = "", label: str = "") -> Param:
    return Param(name, "shape", list(default), lo, hi, help=help, label=label)


@dataclass(frozen=True)
class ParamSet:
    """The ordered parameter declarations of one block type."""

    params: tuple[Param, ...] = field(default_factory=tuple)

    def __iter__(self):
        return iter(self.params)

    def __len__(self) -> int:
        return len(self.params)

    def get(self, name: str) -> Param | None:
        for p in self.params:
            if p.name == name:
                return p
        return None

    def defaults(self) -> dict[str, Any]:
        return {p.name: (list(p.default) if isinstance(p.default, list) else p.default) for p in self.params}

    def complete(self, type_name: str, values: dict[str, Any] | None) -> dict[str, Any]:
        """Defaults overlaid with ``values``, each coerced; unknown names raise ParamError."""
        out = self.defaults()
        for key, value in (values or {}).items():
            p = self.get(key)
            if p is None:
                known = ", ".join(x.name for x in self.params) or "none"
                raise ParamError(f"{type_name} has no parameter '{key}' (it has: {known})")
            out[key] = p.coerce(value)
        return out
