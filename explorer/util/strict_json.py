"""Strict JSON for everything a script reads: no NaN or Infinity (``json.dumps`` writes both by default, and
strict parsers refuse them), an unknown number as ``null``.

Every command's ``--json`` goes through ``dumps`` (tests/test_strict_json.py checks each command), so a new
command gets the rule by using it.
"""
from __future__ import annotations

import dataclasses
import json
import math
from typing import Any


def plain(value: Any) -> Any:
    """``value`` as plain JSON data: NaN and infinities -> None, numpy and torch scalars -> numbers, tuples and
    sets -> lists, dataclasses -> dicts, dict keys -> strings; anything else that is no number -> its str."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [plain(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return plain(dataclasses.asdict(value))
    if getattr(value, "ndim", None) == 0 and hasattr(value, "item"):
        return plain(value.item())  # a numpy or 0-d torch scalar
    if hasattr(value, "tolist"):
        return plain(value.tolist())  # a numpy array or tensor
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    return number if math.isfinite(number) else None


def dumps(value: Any, **kwargs) -> str:
    """``json.dumps`` of ``plain(value)`` with ``allow_nan=False`` (keyword arguments as for json.dumps)."""
    return json.dumps(plain(value), allow_nan=False, **kwargs)


def loads(text: str) -> Any:
    """Parse strict JSON: NaN, Infinity and -Infinity are refused (ValueError), as strict parsers do."""
    def refuse(constant):
        raise ValueError(f"not strict JSON: {constant}")

    return json.loads(text, parse_constant=refuse)
