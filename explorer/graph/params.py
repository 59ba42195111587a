"""Typed block parameters: what the inspector edits, what files store, what validation checks.

A ``Param`` is a declaration (name, kind, default, range, help); values live on nodes as plain
JSON-compatible Python values. Coercion refuses the wrong *type* (a file saying ``"channels": "x"``),
while range checks are left to validation so a graph may hold an out-of-range value and say why.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from explorer.util.untrusted import UntrustedInputError, finite_number, whole_number

# Beyond this no whole-number parameter means anything (2**53: the largest integer every JSON reader keeps
# exact); refusing it at once keeps 10**400-digit numbers out of shape and cost arithmetic.
MAGNITUDE = 2 ** 53


def frozen(value: Any) -> Any:
    """A hashable twin of a JSON-like value (dicts by sorted key), for cache keys."""
    if isinstance(value, dict):
        return tuple(sorted((k, frozen(v)) for k, v in value.items()))
    if isinstance(value, list):
        return tuple(frozen(v) for v in value)
    return value


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
        """Return ``value`` in this parameter's canonical type, or raise ParamError.

        Numbers come from files and edits, so they are read the one checked way (explorer.util.untrusted):
        NaN, infinities (JSON's ``1e400``) and integers beyond ``MAGNITUDE`` are refused here, because no
        later step could do anything sensible with them; merely out-of-range values pass, so validation
        can name the range."""
        k = self.kind
        what = f"'{self.name}'"
        try:
            if k == "int":
                return self._whole(value, what)
            if k == "float":
                return finite_number(value, what)
            if k == "shape":
                if not isinstance(value, (list, tuple)) or not 1 <= len(value) <= 3:
                    raise ParamError(f"{what} must be a list of 1 to 3 whole numbers, got {_show(value)}")
                return [self._whole(v, f"each entry of {what}") for v in value]
        except UntrustedInputError as e:
            raise ParamError(f"{e}{self._range_hint()}") from None
        if k == "bool":
            if not isinstance(value, bool):
                raise ParamError(f"{what} must be true or false, got {_show(value)}")
            return value
        if k == "choice":
            if not isinstance(value, str) or value not in self.choices:
                raise ParamError(f"{what} must be one of {', '.join(self.choices)}; got {_show(value)}")
            return value
        raise ParamError(f"unknown parameter kind {k!r}")

    def _whole(self, value: Any, what: str) -> int:
        n = whole_number(value, what)
        if abs(n) > MAGNITUDE:
            digits = len(str(abs(n)))  # str, not float(): a 400-digit integer overflows a float
            raise ParamError(f"{what} is a {digits}-digit number, far outside any usable value{self._range_hint()}")
        return n

    def _range_hint(self) -> str:
        if self.minimum is not None and self.maximum is not None:
            return f"; use a value between {_fmt(self.minimum)} and {_fmt(self.maximum)}"
        return ""

    def range_problem(self, value: Any) -> str | None:
        """A sentence when ``value`` is outside the declared range, else None."""
        if self.kind not in ("int", "float", "shape") or (self.minimum is None and self.maximum is None):
            return None
        values = value if self.kind == "shape" else (value,)
        for v in values:
            if self.minimum is not None and v < self.minimum:
                return f"'{self.name}' is {value}, below the minimum {_fmt(self.minimum)}"
            if self.maximum is not None and v > self.maximum:
                return f"'{self.name}' is {value}, above the maximum {_fmt(self.maximum)}"
        return None


def _show(value: Any) -> str:
    r = repr(value)
    return r if len(r) <= 40 else r[:37] + "..."


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

    @cached_property
    def _by_name(self) -> dict[str, Param]:
        return {p.name: p for p in self.params}

    def get(self, name: str) -> Param | None:
        return self._by_name.get(name)

    def defaults(self) -> dict[str, Any]:
        return {p.name: (list(p.default) if isinstance(p.default, list) else p.default) for p in self.params}

    @cached_property
    def _shared_defaults(self) -> tuple[dict[str, Any], tuple[Param, ...]]:
        """All defaults in declaration order, and the list-valued ones each node must have its own copy of."""
        return {p.name: p.default for p in self.params}, tuple(p for p in self.params if isinstance(p.default, list))

    def complete(self, type_name: str, values: dict[str, Any] | None) -> dict[str, Any]:
        """Defaults overlaid with ``values``, each coerced; unknown names raise ParamError."""
        shared, lists = self._shared_defaults  # once per block type: a file load calls this per node
        out = dict(shared)
        for p in lists:
            out[p.name] = list(p.default)
        if values:
            by_name = self._by_name
            for key, value in values.items():
                p = by_name.get(key)
                if p is None:
                    known = ", ".join(x.name for x in self.params) or "none"
                    raise ParamError(f"{type_name} has no parameter '{key}' (it has: {known})")
                out[key] = p.coerce(value)
        return out
