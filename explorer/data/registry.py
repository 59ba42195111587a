"""``load_dataset``: turn a spec such as ``"cifar10:/data/cifar"`` into a Dataset.

A spec is a name, optionally followed by ``:`` and a path.  Generated and
bundled sets (digits, shapes) take no path; file formats require one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from .cifar import load_cifar10
from .dataset import Dataset
from .digits import load_digits_dataset
from .errors import DatasetError
from .folder import load_folder
from .mnist import load_idx_dataset
from .shapes import load_shapes_dataset


@dataclass(frozen=True)
class _Entry:
    help: str
    needs_path: bool
    options: tuple[str, ...]
    # Called as load(path, seed, val_fraction, **options).
    load: Callable[..., Dataset]


_ENTRIES: dict[str, _Entry] = {
    "digits": _Entry(
        "scikit-learn's bundled 8×8 handwritten digits (1,797 images, 10 classes, offline)",
        False, (), lambda path, seed, vf: load_digits_dataset(seed, vf)),
    "shapes": _Entry(
        "procedural coloured shapes from the seed (8 classes; options size, image_size, channels)",
        False, ("size", "image_size", "channels"),
        lambda path, seed, vf, **kw: load_shapes_dataset(seed, vf, **kw)),
    "cifar10": _Entry(
        "CIFAR-10 python-version batches: cifar10:PATH to cifar-10-batches-py (32×32 RGB, 10 classes)",
        True, (), lambda path, seed, vf: load_cifar10(path)),
    "mnist": _Entry(
        "MNIST IDX files (.gz or not): mnist:PATH to the folder (28×28 grey, 10 digits)",
        True, (), lambda path, seed, vf: load_idx_dataset("mnist", path)),
    "fashion-mnist": _Entry(
        "Fashion-MNIST IDX files (.gz or not): fashion-mnist:PATH to the folder (28×28 grey, 10 clothes)",
        True, (), lambda path, seed, vf: load_idx_dataset("fashion-mnist", path)),
    "folder": _Entry(
        "folder:PATH with one sub-folder of PNG/JPEG images per class (option image_size)",
        True, ("image_size",),
        lambda path, seed, vf, **kw: load_folder(path, seed, vf, **kw)),
}

DATASET_HELP: dict[str, str] = {name: entry.help for name, entry in _ENTRIES.items()}

_ALIASES = {"fashion_mnist": "fashion-mnist", "fashionmnist": "fashion-mnist",
            "cifar-10": "cifar10", "cifar_10": "cifar10"}


def parse_spec(spec: str) -> tuple[str, str | None]:
    """Split ``"name:path"`` into a canonical name and the path (or None)."""
    if not isinstance(spec, str) or not spec.strip():
        raise DatasetError(f"empty data set name; valid names: {', '.join(_ENTRIES)}")
    # Only the first colon separates, so Windows paths (C:\\data) survive.
    name, sep, path = spec.strip().partition(":")
    name = name.strip().lower()
    name = _ALIASES.get(name, name)
    if name not in _ENTRIES:
        raise DatasetError(f"unknown data set {name!r}; valid names: {', '.join(_ENTRIES)}")
    path = path.strip()
    return name, (path or None) if sep else None


def load_dataset(spec: str, seed: int = 0, val_fraction: float = 0.2, **options: Any) -> Dataset:
    """Load the data set named by ``spec`` (see :data:`DATASET_HELP`).

    ``val_fraction`` applies where a set has no test split of its own;
    ``options`` are only accepted by the loaders that list them.
    """
    name, path = parse_spec(spec)
    entry = _ENTRIES[name]
    if entry.needs_path and path is None:
        raise DatasetError(f"{name} needs a path: {name}:PATH ({entry.help})")
    if not entry.needs_path and path is not None:
        raise DatasetError(f"{name} takes no path; use just {name!r}")
    unknown = sorted(set(options) - set(entry.options))
    if unknown:
        allowed = ", ".join(entry.options) or "none"
        raise DatasetError(f"{name} does not accept option(s) {', '.join(unknown)} (accepted: {allowed})")
    if isinstance(val_fraction, bool) or not isinstance(val_fraction, (int, float)) \
            or not 0.0 < val_fraction < 1.0:
        raise DatasetError(f"val_fraction must be a number between 0 and 1, got {val_fraction!r}")
    try:
        return entry.load(Path(path) if path else None, seed, float(val_fraction), **options)
    except DatasetError:
        raise
    except MemoryError:
        raise DatasetError(f"{name}: not enough memory to load {path or name}") from None
    except Exception as exc:
        # Last line of defence: a corrupt file must surface as a DatasetError
        # message, never as a crash of the GUI or a traceback in the CLI.
        where = path or name
        raise DatasetError(f"{name}: could not load {where} ({type(exc).__name__}: {exc})") from exc
