"""scikit-learn's bundled 8×8 handwritten digits (works offline)."""

from __future__ import annotations

import torch

from .dataset import Dataset, build_dataset
from .errors import DatasetError
from .split import split_indices


def load_digits_dataset(seed: int = 0, val_fraction: float = 0.2) -> Dataset:
    try:
        from sklearn.datasets import load_digits
        bunch = load_digits()
    except Exception as exc:  # a broken scikit-learn install must not crash the GUI
        raise DatasetError(f"digits: could not load scikit-learn's bundled digits: {exc}") from exc
    # Pixel values are counts 0..16 of an original 4×4 block, hence / 16.
    x = torch.as_tensor(bunch.images, dtype=torch.float32).div_(16.0).unsqueeze(1)
    y = torch.as_tensor(bunch.target, dtype=torch.int64)
    train, val = split_indices(y, val_fraction, seed)
    classes = [str(d) for d in range(10)]
    return build_dataset("digits", x[train], y[train], x[val], y[val], classes)
