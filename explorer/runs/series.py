"""Growing metric buffers with bounded memory and uniform resolution.

Samples go into buckets of ``stride`` raw samples each; when the buffer is full, neighbouring buckets
are merged in pairs and the stride doubles. So memory stays fixed, the whole history stays plottable
at one resolution, and the newest partial bucket is shown too (a live plot never lags).
"""
from __future__ import annotations

import numpy as np


class _Buckets:
    """Rows of ``width`` numbers averaged in buckets; row ``n`` holds the open (partial) bucket."""

    def __init__(self, width: int, capacity: int, dtype):
        if capacity < 4 or capacity % 2:
            raise ValueError("capacity must be an even number ≥ 4")
        self.capacity = capacity
        self.stride = 1
        self._rows = np.zeros((capacity + 1, width), dtype=dtype)
        self._n = 0        # closed buckets
        self._pending = 0  # raw samples in the open bucket

    def add(self, row: np.ndarray) -> None:
        # Running mean of the open bucket: stays exact without a separate sum array.
        self._pending += 1
        open_row = self._rows[self._n]
        open_row += (row - open_row) / self._pending
        if self._pending == self.stride:
            self._n += 1
            self._pending = 0
            if self._n == self.capacity:
                half = self.capacity // 2
                self._rows[:half] = self._rows[: self.capacity].reshape(half, 2, -1).mean(axis=1)
                self._n = half
                self.stride *= 2
            self._rows[self._n] = 0

    def view(self) -> np.ndarray:
        return self._rows[: self._n + (1 if self._pending else 0)]

    def __len__(self) -> int:
        return self._n + (1 if self._pending else 0)


class Series:
    """(x, y) samples of one scalar metric, e.g. training loss against step."""

    def __init__(self, capacity: int = 8192):
        self._b = _Buckets(2, capacity, np.float64)

    def __len__(self) -> int:
        return len(self._b)

    @property
    def stride(self) -> int:
        return self._b.stride

    def append(self, x: float, y: float) -> None:
        self._b.add(np.array((x, y)))

    def extend(self, xs, ys) -> None:
        for x, y in zip(xs, ys):
            self.append(x, y)

    @property
    def x(self) -> np.ndarray:
        return self._b.view()[:, 0]

    @property
    def y(self) -> np.ndarray:
        return self._b.view()[:, 1]

    def to_lists(self) -> dict:
        return {"x": self.x.tolist(), "y": self.y.tolist()}

    @classmethod
    def from_lists(cls, d: dict, capacity: int = 8192) -> "Series":
        s = cls(capacity)
        s.extend(d.get("x", []), d.get("y", []))
        return s


class LayerSeries:
    """One value per layer per sample (gradient norm by layer against step): the heatmap's data.

    Values are stored as log10, the scale gradient magnitudes are read in, so merged buckets hold
    geometric means and the heatmap needs no transform per frame.
    """

    def __init__(self, keys: list[str], capacity: int = 2048):
        self.keys = list(keys)
        self._b = _Buckets(len(keys) + 1, capacity, np.float32)

    def __len__(self) -> int:
        return len(self._b)

    def append(self, step: float, values) -> None:
        values = np.asarray(values, dtype=np.float64)
        if values.shape != (len(self.keys),):
            raise ValueError(f"expected {len(self.keys)} values, got shape {values.shape}")
        row = np.empty(len(self.keys) + 1)
        row[0] = step
        row[1:] = np.log10(np.maximum(values, 1e-30))
        self._b.add(row)

    @property
    def steps(self) -> np.ndarray:
        return self._b.view()[:, 0]

    @property
    def log10(self) -> np.ndarray:
        """(samples × layers) log10 values."""
        return self._b.view()[:, 1:]

    def latest(self) -> np.ndarray | None:
        """The newest sample's values (not log)."""
        v = self._b.view()
        return 10.0 ** v[-1, 1:].astype(np.float64) if len(v) else None
