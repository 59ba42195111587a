"""One log10 colour scale shared by the heatmaps of compared runs, so equal colours mean equal values.

The scale starts at the quantity's usual range and widens to whole decades when values fall outside it,
never narrowing while the same runs are compared (colours do not flicker, and no frame searches a whole
image: ``widen`` looks at the newest column only). ``reset`` starts again from the whole data of the
runs compared. Every heatmap holding the scale hears each change (``subscribe``).
"""
from __future__ import annotations

import math
from typing import Callable, Iterable

import numpy as np

DEFAULT_LEVELS = {"grad_norm": (-4.0, 1.0), "output_grad_norm": (-5.0, 0.0), "update_ratio": (-5.0, -1.0)}
FLOOR = -12.0      # log10 values below this are exact zeros (stored as 1e-30), not a colour-scale bound


class ColorScale:
    def __init__(self, quantity: str = "grad_norm"):
        self.levels = DEFAULT_LEVELS[quantity]
        self._listeners: list[Callable[[tuple[float, float]], None]] = []

    def subscribe(self, fn: Callable[[tuple[float, float]], None]) -> None:
        self._listeners.append(fn)

    def reset(self, quantity: str, arrays: Iterable[np.ndarray]) -> None:
        """Levels for ``quantity`` that cover every array of log10 values (the compared runs' data)."""
        lo, hi = DEFAULT_LEVELS[quantity]
        for a in arrays:
            lo, hi = _cover(a, lo, hi)
        self._set((lo, hi))

    def widen(self, values: np.ndarray) -> None:
        self._set(_cover(values, *self.levels))

    def _set(self, levels: tuple[float, float]) -> None:
        if levels != self.levels:
            self.levels = levels
            for fn in self._listeners:
                fn(levels)


def _cover(values: np.ndarray, lo: float, hi: float) -> tuple[float, float]:
    v = values[np.isfinite(values) & (values > FLOOR)]
    if not v.size:
        return lo, hi
    return min(lo, float(math.floor(float(v.min())))), max(hi, float(math.ceil(float(v.max()))))
