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
