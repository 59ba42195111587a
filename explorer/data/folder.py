"""Image folders: one sub-folder per class holding PNG/JPEG files.

``root/<class>/*.png`` is split randomly (per class) into train and
validation.  If ``root`` instead holds ``train/<class>/...`` and
``val/<class>/...`` (or ``valid``, ``validation``, ``test``) that split is
used as given.  Images are resized to one common size so they stack into a
single tensor.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from .dataset import Dataset, build_dataset
from .errors import DatasetError
from .imagefile import IMAGE_SUFFIXES, read_image
from .limits import Budget
from .options import int_option
from .split import split_indices

LAYOUT = "expected one sub-folder per class holding .png/.jpg images (root/<class>/<image>)"
DEFAULT_CAP = 64
_VAL_NAMES = ("val", "valid", "validation", "test")


def _subfolders(folder: Path) -> list[Path]:
    # Hidden folders (.git, .ipynb_checkpoints, __MACOSX) are never classes.
    return sorted(p for p in folder.iterdir()
                  if p.is_dir() and not p.name.startswith((".", "__")))


def _images_in(folder: Path) -> list[Path]:
    # Not only regular files: a FIFO or device named like an image is reported by the reader
    # rather than silently left out of the data set.
    return sorted(p for p in folder.iterdir()
                  if not p.is_dir() and p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith("."))


def _scan(root: Path) -> list[tuple[str, list[Path]]]:
    classes = [(d.name, _images_in(d)) for d in _subfolders(root)]
    if len(classes) < 2:
        raise DatasetError(f"folder: {root} has {len(classes)} class folder(s), at least 2 needed; {LAYOUT}")
    for name, files in classes:
        if not files:
            raise DatasetError(f"folder: {root / name} has no .png/.jpg images; {LAYOUT}")
    return classes


def _target_size(first: np.ndarray, image_size: int | None) -> tuple[int, int]:
    if image_size is not None:
        return image_size, image_size
    h, w = first.shape[:2]
    scale = min(1.0, DEFAULT_CAP / max(h, w))
    return max(1, round(h * scale)), max(1, round(w * scale))


def _resized(pixels: np.ndarray, size: tuple[int, int]) -> torch.Tensor:
    img = torch.from_numpy(pixels).permute(2, 0, 1).to(torch.float32).div_(255.0)
    if tuple(img.shape[1:]) != size:
        img = F.interpolate(img[None], size=size, mode="bilinear",
                            align_corners=False, antialias=True)[0].clamp_(0.0, 1.0)
    return img


def _stack(images: list[torch.Tensor]) -> torch.Tensor:
    channels = max(img.shape[0] for img in images)
    # Grey images among colour ones become grey RGB.
    return torch.stack([img.expand(channels, -1, -1) for img in images])


def _read(file: Path) -> np.ndarray:
    try:
        return read_image(file)
    except DatasetError as exc:
        raise DatasetError(f"folder: {exc}") from None


def _find_split(root: Path) -> tuple[Path, Path] | None:
    train = root / "train"
    if not train.is_dir() or not _subfolders(train):
        return None
    for name in _VAL_NAMES:
        if (root / name).is_dir():
            return train, root / name
    return None


def load_folder(path: str | Path, seed: int = 0, val_fraction: float = 0.2,
                image_size: int | None = None) -> Dataset:
    root = Path(path).expanduser()
    if not root.is_dir():
        raise DatasetError(f"folder: {root} is not a folder; {LAYOUT}")
    if image_size is not None:
        image_size = int_option("folder", "image_size", image_size, 1, 1024)

    split = _find_split(root)
    if split is None:
        groups = {"all": _scan(root)}
    else:
        groups = {"train": _scan(split[0]), "val": [(d.name, _images_in(d)) for d in _subfolders(split[1])]}
    class_names = [name for name, _ in groups.get("train", groups.get("all"))]
    lookup = {name: i for i, name in enumerate(class_names)}

    images, labels, sources = [], [], []
    size = None
    total = sum(len(files) for classes in groups.values() for _, files in classes)
    for group, classes in groups.items():
        for name, files in classes:
            if name not in lookup:
                raise DatasetError(f"folder: {split[1] / name} is a class missing from {split[0]}")
            for file in files:
                pixels = _read(file)
                if size is None:
                    size = _target_size(pixels, image_size)
                    # Colour is assumed: one colour image makes the whole stack RGB.
                    Budget("folder").charge(total * 3 * size[0] * size[1],
                                            f"folder: {root} ({total:,} images at {size[0]}×{size[1]})",
                                            "pass a smaller image_size or use fewer images")
                # Resizing at once keeps only small images in memory, however
                # large the photos on disk are.
                images.append(_resized(pixels, size))
                labels.append(lookup[name])
                sources.append(group)
    x = _stack(images)
    del images
    y = torch.tensor(labels, dtype=torch.int64)

    if split is None:
        train, val = split_indices(y, val_fraction, seed)
    else:
        is_train = torch.tensor([s == "train" for s in sources])
        train, val = is_train.nonzero()[:, 0], (~is_train).nonzero()[:, 0]
    return build_dataset("folder", x[train], y[train], x[val], y[val], class_names)
