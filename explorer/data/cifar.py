"""CIFAR-10 in its "python version" layout (pickled batches), loaded safely.

The folder ``cifar-10-batches-py`` holds ``data_batch_1`` .. ``data_batch_5``,
``test_batch`` and optionally ``batches.meta``.  Each batch is a dict whose
``data`` is an N×3072 uint8 array (1024 red, then green, then blue values of a
32×32 image, row-major) and whose ``labels`` is a list of N ints in 0..9.
The test batch becomes the validation split.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .dataset import Dataset, build_dataset
from .errors import DatasetError
from .files import read_file
from .limits import Budget
from .safe_pickle import safe_loads

CIFAR10_CLASSES = ["airplane", "automobile", "bird", "cat", "deer",
                   "dog", "frog", "horse", "ship", "truck"]
LAYOUT = ("expected the python-version folder cifar-10-batches-py "
          "with data_batch_1..5 and test_batch")
_PIXELS = 32 * 32 * 3
# The published batches hold 10,000 images each; a batch claiming more is not CIFAR-10.
MAX_BATCH_IMAGES = 10_000
# A real batch is 31 MB; a Python 3 protocol-2 re-save spells its bytes as latin-1 text, up to twice
# that.  Nothing larger is read, so a crafted file is refused before it is unpickled.
MAX_BATCH_FILE_BYTES = 80 << 20
MAX_META_FILE_BYTES = 1 << 20


def _present(path: Path) -> bool:
    # Any entry counts, so that a FIFO or device in a batch's place is reported as such.
    return os.path.lexists(path)


def find_cifar_folder(path: Path) -> Path:
    """Accept the batches folder itself or a parent containing it."""
    if not path.exists():
        raise DatasetError(f"cifar10: {path} does not exist; {LAYOUT}")
    if not path.is_dir():
        # Usually the downloaded cifar-10-python.tar.gz itself.
        raise DatasetError(f"cifar10: {path} is a file, not a folder (extract the archive first); {LAYOUT}")
    for candidate in (path, path / "cifar-10-batches-py"):
        if _present(candidate / "data_batch_1"):
            return candidate
    raise DatasetError(f"cifar10: {path} has no data_batch_1; {LAYOUT}")


def _get(batch: dict, key: str) -> Any:
    # Original (Python 2) pickles have bytes keys; re-saved ones may have str.
    if key.encode() in batch:
        return batch[key.encode()]
    return batch.get(key)


def _load(file: Path, limit: int) -> Any:
    try:
        data = read_file(file, limit, "CIFAR-10 batch")
    except DatasetError as exc:
        raise DatasetError(f"cifar10: {exc}") from None
    return safe_loads(data, f"cifar10: {file}")


def _check_data(data: Any, file: Path) -> np.ndarray:
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 \
            or data.shape[1] != _PIXELS or data.shape[0] > MAX_BATCH_IMAGES:
        shape = getattr(data, "shape", None)
        dtype = getattr(data, "dtype", "")
        raise DatasetError(f"cifar10: {file} has no uint8 N×{_PIXELS} 'data' array with N at most "
                           f"{MAX_BATCH_IMAGES:,} (got {type(data).__name__} {dtype} {shape}); {LAYOUT}")
    return data


def _check_labels(labels: Any, n: int, file: Path) -> np.ndarray:
    # The types are checked before numpy sees the list: np.asarray of nested lists that share one
    # inner list (cheap in a pickle) would build an array as large as they pretend to be.
    if isinstance(labels, np.ndarray):
        ok = labels.ndim == 1 and labels.dtype.kind in "iu"
    else:
        ok = isinstance(labels, (list, tuple)) and all(
            isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in labels)
    if not ok:
        raise DatasetError(f"cifar10: {file} has no integer 'labels' list; {LAYOUT}")
    if len(labels) != n:
        raise DatasetError(f"cifar10: {file} has {n} images but {len(labels)} labels")
    if any(not 0 <= int(v) <= 9 for v in labels):
        raise DatasetError(f"cifar10: {file} has labels outside 0..9")
    return np.asarray(labels, dtype=np.int64)


def _read_batch(file: Path, budget: Budget) -> tuple[np.ndarray, np.ndarray]:
    batch = _load(file, MAX_BATCH_FILE_BYTES)
    if not isinstance(batch, dict):
        raise DatasetError(f"cifar10: {file} holds a {type(batch).__name__}, not a batch dict; {LAYOUT}")
    data = _check_data(_get(batch, "data"), file)
    labels = _check_labels(_get(batch, "labels"), data.shape[0], file)
    budget.charge(data.size, f"cifar10: {file}")
    return data, labels


def _read_classes(folder: Path) -> list[str]:
    meta_file = folder / "batches.meta"
    if not _present(meta_file):
        return list(CIFAR10_CLASSES)
    meta = _load(meta_file, MAX_META_FILE_BYTES)
    names = _get(meta, "label_names") if isinstance(meta, dict) else None
    if not isinstance(names, list) or len(names) != 10 \
            or not all(isinstance(n, (bytes, str)) and 0 < len(n) <= 200 for n in names):
        raise DatasetError(f"cifar10: {meta_file} has no list of 10 label_names")
    try:
        return [n.decode("utf-8") if isinstance(n, bytes) else n for n in names]
    except UnicodeDecodeError:
        raise DatasetError(f"cifar10: {meta_file} has label_names that are not UTF-8 text") from None


def _to_images(data: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(data).view(-1, 3, 32, 32).to(torch.float32).div_(255.0)


def load_cifar10(path: str | Path) -> Dataset:
    folder = find_cifar_folder(Path(path).expanduser())
    test_file = folder / "test_batch"
    if not _present(test_file):
        raise DatasetError(f"cifar10: {folder} has no test_batch; {LAYOUT}")
    # Later batches are optional so a trimmed copy (e.g. only data_batch_1)
    # still loads; a gap stops the scan rather than silently skipping.
    budget = Budget("cifar10")
    parts = []
    for i in range(1, 6):
        file = folder / f"data_batch_{i}"
        if not _present(file):
            break
        parts.append(_read_batch(file, budget))
    x_test, y_test = _read_batch(test_file, budget)
    classes = _read_classes(folder)
    x_train = _to_images(np.concatenate([p[0] for p in parts]))
    y_train = torch.from_numpy(np.concatenate([p[1] for p in parts]))
    return build_dataset("cifar10", x_train, y_train, _to_images(x_test),
                         torch.from_numpy(y_test), classes)
