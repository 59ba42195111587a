"""CIFAR-10 in its "python version" layout (pickled batches), loaded safely.

The folder ``cifar-10-batches-py`` holds ``data_batch_1`` .. ``data_batch_5``,
``test_batch`` and optionally ``batches.meta``.  Each batch is a dict whose
``data`` is an N×3072 uint8 array (1024 red, then green, then blue values of a
32×32 image, row-major) and whose ``labels`` is a list of N ints in 0..9.
The test batch becomes the validation split.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from .dataset import Dataset, build_dataset
from .errors import DatasetError
from .safe_pickle import safe_load

CIFAR10_CLASSES = ["airplane", "automobile", "bird", "cat", "deer",
                   "dog", "frog", "horse", "ship", "truck"]
LAYOUT = ("expected the python-version folder cifar-10-batches-py "
          "with data_batch_1..5 and test_batch")
_PIXELS = 32 * 32 * 3


def find_cifar_folder(path: Path) -> Path:
    """Accept the batches folder itself or a parent containing it."""
    if not path.exists():
        raise DatasetError(f"cifar10: {path} does not exist; {LAYOUT}")
    if path.is_file():
        # Usually the downloaded cifar-10-python.tar.gz itself.
        raise DatasetError(f"cifar10: {path} is a file, not a folder (extract the archive first); {LAYOUT}")
    for candidate in (path, path / "cifar-10-batches-py"):
        if (candidate / "data_batch_1").is_file():
            return candidate
    raise DatasetError(f"cifar10: {path} has no data_batch_1; {LAYOUT}")


def _get(batch: dict, key: str) -> Any:
    # Original (Python 2) pickles have bytes keys; re-saved ones may have str.
    if key.encode() in batch:
        return batch[key.encode()]
    return batch.get(key)


def _read_batch(file: Path) -> tuple[np.ndarray, np.ndarray]:
    try:
        with open(file, "rb") as stream:
            batch = safe_load(stream, f"cifar10: {file}")
    except OSError as exc:
        raise DatasetError(f"cifar10: cannot read {file} ({exc.strerror or exc}); {LAYOUT}") from None
    if not isinstance(batch, dict):
        raise DatasetError(f"cifar10: {file} holds a {type(batch).__name__}, not a batch dict; {LAYOUT}")
    data, labels = _get(batch, "data"), _get(batch, "labels")
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 \
            or data.shape[1] != _PIXELS:
        shape = getattr(data, "shape", None)
        raise DatasetError(f"cifar10: {file} has no uint8 N×{_PIXELS} 'data' array "
                           f"(got {type(data).__name__} {shape}); {LAYOUT}")
    try:
        labels = np.asarray(labels)
        if labels.dtype == object or labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
            raise ValueError
    except (ValueError, TypeError):
        raise DatasetError(f"cifar10: {file} has no integer 'labels' list; {LAYOUT}") from None
    if labels.shape[0] != data.shape[0]:
        raise DatasetError(f"cifar10: {file} has {data.shape[0]} images but {labels.shape[0]} labels")
    if labels.size and (labels.min() < 0 or labels.max() > 9):
        raise DatasetError(f"cifar10: {file} has labels outside 0..9")
    return data, labels.astype(np.int64)


def _read_classes(folder: Path) -> list[str]:
    meta_file = folder / "batches.meta"
    if not meta_file.is_file():
        return list(CIFAR10_CLASSES)
    try:
        with open(meta_file, "rb") as stream:
            meta = safe_load(stream, f"cifar10: {meta_file}")
        names = _get(meta, "label_names") if isinstance(meta, dict) else None
        names = [n.decode("utf-8") if isinstance(n, bytes) else str(n) for n in names]
    except (OSError, TypeError, UnicodeDecodeError):
        names = None
    if not names or len(names) != 10:
        raise DatasetError(f"cifar10: {meta_file} has no list of 10 label_names")
    return names


def _to_images(data: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(data).view(-1, 3, 32, 32).to(torch.float32).div_(255.0)


def load_cifar10(path: str | Path) -> Dataset:
    folder = find_cifar_folder(Path(path).expanduser())
    test_file = folder / "test_batch"
    if not test_file.is_file():
        raise DatasetError(f"cifar10: {folder} has no test_batch; {LAYOUT}")
    # Later batches are optional so a trimmed copy (e.g. only data_batch_1)
    # still loads; a gap stops the scan rather than silently skipping.
    parts = []
    for i in range(1, 6):
        file = folder / f"data_batch_{i}"
        if not file.is_file():
            break
        parts.append(_read_batch(file))
    x_test, y_test = _read_batch(test_file)
    classes = _read_classes(folder)
    x_train = _to_images(np.concatenate([p[0] for p in parts]))
    y_train = torch.from_numpy(np.concatenate([p[1] for p in parts]))
    return build_dataset("cifar10", x_train, y_train, _to_images(x_test),
                         torch.from_numpy(y_test), classes)
