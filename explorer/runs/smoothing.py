"""Smoothing for noisy training curves: a debiased exponential moving average (TensorBoard's).

Computed when drawing, from the stored raw series, so changing the weight redraws the whole history
and nothing smoothed needs saving. The recursion s[t] = w·s[t-1] + (1-w)·y[t] is evaluated with numpy
in closed form, block by block (s[t] = w^t·Σ w^-k·y[k]; blocks keep w^-k below 1e150): 8,192 points
take well under a millisecond, so it can run on every redraw without importing scipy.
"""
from __future__ import annotations

import math

import numpy as np


def ema(y: np.ndarray, weight: float) -> np.ndarray:
    """s[t] = w·s[t-1] + (1-w)·y[t], divided by (1 - w^(t+1)) so the start is not pulled to 0.
    Non-finite samples are carried over from the previous smoothed value instead of poisoning the rest."""
    y = np.asarray(y, dtype=np.float64)
    if weight <= 0 or len(y) < 2:
        return y.copy()
    w = min(float(weight), 0.999)
    finite = np.isfinite(y)
    if not finite.all():
        idx = np.where(finite, np.arange(len(y)), 0)
        np.maximum.accumulate(idx, out=idx)  # index of the last finite sample at or before t
        y = y[idx]
    n = len(y)
    out = np.empty(n)
    block = max(1, int(150 / -math.log10(w)))
    s = 0.0
    for start in range(0, n, block):
        seg = y[start:start + block]
        k = np.arange(len(seg), dtype=np.float64)
        wk = w ** k
        out[start:start + len(seg)] = (1.0 - w) * np.cumsum(seg / wk) * wk + s * w * wk
        s = out[start + len(seg) - 1]
    return out / (1.0 - w ** np.arange(1, n + 1))
