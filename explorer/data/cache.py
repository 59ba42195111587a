"""The last data set loaded, kept for the next run: comparing two networks loads CIFAR once, not twice.

Shared by the window's training worker and the command line. It keeps one data set only, since one can
be hundreds of megabytes; a run never modifies the tensors it is given, so sharing them is safe.
"""
from __future__ import annotations

import threading

from explorer.data.dataset import Dataset
from explorer.data.registry import load_dataset

_lock = threading.Lock()
_cache: dict[tuple, Dataset] = {}


def cached_dataset(spec: str, seed: int = 0, val_fraction: float = 0.2, **options) -> Dataset:
    """``load_dataset(spec, seed, val_fraction, **options)``, or the same set again when nothing changed."""
    key = (spec, seed, val_fraction, tuple(sorted(options.items())))
    with _lock:
        if key in _cache:
            return _cache[key]
    ds = load_dataset(spec, seed=seed, val_fraction=val_fraction, **options)
    with _lock:
        _cache.clear()
        _cache[key] = ds
    return ds


def peek_dataset(spec: str, seed: int = 0, val_fraction: float = 0.2, **options) -> Dataset | None:
    """The kept data set when it is ``spec`` (as ``cached_dataset`` would return it), else None: never loads,
    so a window can ask what a run is training on without waiting for a download."""
    key = (spec, seed, val_fraction, tuple(sorted(options.items())))
    with _lock:
        return _cache.get(key)


def clear_dataset_cache() -> None:
    """Let the kept data set go (e.g. before loading a large one elsewhere)."""
    with _lock:
        _cache.clear()
