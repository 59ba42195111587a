"""Validation of the keyword options some loaders accept."""

from __future__ import annotations

import operator

from .errors import DatasetError


def int_option(dataset: str, name: str, value: object, low: int, high: int) -> int:
    """Return ``value`` as an int in [low, high] or raise a DatasetError."""
    try:
        if isinstance(value, bool):
            raise TypeError
        number = operator.index(value)  # accepts numpy ints, refuses floats/strings
    except TypeError:
        raise DatasetError(f"{dataset}: {name} must be an integer, got {value!r}") from None
    if not low <= number <= high:
        raise DatasetError(f"{dataset}: {name} must be in {low}..{high}, got {number}")
    return number


def parse_key_values(items: list[str]) -> dict[str, int | str]:
    """``["size=8000", "root=x"]`` -> ``{"size": 8000, "root": "x"}``: the --data-option flags of train and study."""
    options: dict[str, int | str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise DatasetError(f"--data-option '{item}' must look like KEY=VALUE, e.g. size=8000")
        value = value.strip()
        options[key.strip()] = int(value) if value.lstrip("-").isdigit() else value
    return options
