"""MNIST and Fashion-MNIST from their four IDX files (plain or .gz).

The t10k files become the validation split.  Besides the folder holding the
files directly, torchvision's ``<root>/MNIST/raw`` layout is accepted too.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

from .dataset import Dataset, build_dataset
from .errors import DatasetError
from .idx import read_idx
from .limits import Budget

MNIST_CLASSES = [str(d) for d in range(10)]
FASHION_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                   "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "val_images": "t10k-images-idx3-ubyte",
    "val_labels": "t10k-labels-idx1-ubyte",
}
_LAYOUT = ("expected train-images-idx3-ubyte, train-labels-idx1-ubyte, "
           "t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte (each optionally .gz)")
_SUBFOLDERS = {"mnist": ("raw", "MNIST/raw"), "fashion-mnist": ("raw", "FashionMNIST/raw")}


def _variants(stem: str) -> list[str]:
    # Some mirrors name the files e.g. "train-images.idx3-ubyte".
    dotted = stem.replace("-idx", ".idx")
    return [stem, stem + ".gz", dotted, dotted + ".gz"]


def _find_file(folder: Path, stem: str) -> Path | None:
    # Any entry counts, not just regular files, so that a FIFO or device under the expected name is
    # reported as such by the reader rather than as a missing file.
    for name in _variants(stem):
        if os.path.lexists(folder / name):
            return folder / name
    return None


def find_idx_folder(name: str, path: Path) -> Path:
    if not path.exists():
        raise DatasetError(f"{name}: {path} does not exist; {_LAYOUT}")
    for sub in ("", *_SUBFOLDERS[name]):
        candidate = path / sub if sub else path
        if _find_file(candidate, FILES["train_images"]) is not None:
            return candidate
    raise DatasetError(f"{name}: {path} has no {FILES['train_images']}; {_LAYOUT}")


def _load_pair(name: str, folder: Path, images_key: str, labels_key: str,
               budget: Budget) -> tuple[torch.Tensor, torch.Tensor]:
    files = []
    for key in (images_key, labels_key):
        file = _find_file(folder, FILES[key])
        if file is None:
            raise DatasetError(f"{name}: {folder} has no {FILES[key]}; {_LAYOUT}")
        files.append(file)
    images = _read(name, files[0], budget, 3)
    labels = _read(name, files[1], budget, 1)
    if images.shape[0] != labels.shape[0]:
        raise DatasetError(f"{name}: {files[0]} has {images.shape[0]} images "
                           f"but {files[1]} has {labels.shape[0]} labels")
    if labels.size and labels.max() > 9:
        raise DatasetError(f"{name}: {files[1]} has labels outside 0..9")
    x = torch.from_numpy(images).to(torch.float32).div_(255.0).unsqueeze(1)
    return x, torch.from_numpy(labels.astype(np.int64))


def _read(name: str, file: Path, budget: Budget, ndim: int) -> np.ndarray:
    try:
        return read_idx(file, budget, ndim=ndim, dtype=np.dtype(np.uint8))
    except DatasetError as exc:
        raise DatasetError(f"{name}: {exc}") from None


def load_idx_dataset(name: str, path: str | Path) -> Dataset:
    folder = find_idx_folder(name, Path(path).expanduser())
    budget = Budget(name)
    x_train, y_train = _load_pair(name, folder, "train_images", "train_labels", budget)
    x_val, y_val = _load_pair(name, folder, "val_images", "val_labels", budget)
    if x_train.shape[2:] != x_val.shape[2:]:
        raise DatasetError(f"{name}: train images are {tuple(x_train.shape[2:])} "
                           f"but t10k images are {tuple(x_val.shape[2:])}")
    classes = FASHION_CLASSES if name == "fashion-mnist" else MNIST_CLASSES
    return build_dataset(name, x_train, y_train, x_val, y_val, list(classes))
