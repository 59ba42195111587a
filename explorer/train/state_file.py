"""A state_dict saved on disk with ``torch.save`` (torchvision's, timm's, our own exports'), read without
running code: ``torch.load(weights_only=True)``, a regular file of a size some network could have.

Shared by ``import-weights`` (explorer.importer) and ``train --init-from`` (explorer.train.init_from).
Given the network's own tensors (a ``TensorBudget``), the archive's declared sizes are checked against them
before anything is inflated (``torch_archive``); every tensor read must be dense and real, since copying a
sparse one fails deep in torch and a complex one would silently lose its imaginary part.
"""
from __future__ import annotations

import os
import pickle
import warnings
from pathlib import Path

import torch

from explorer.train.torch_archive import ArchiveRefused, TensorBudget, check_archive
from explorer.util.untrusted import UntrustedInputError, regular_file_size

MAX_WEIGHTS_BYTES = 8 * 2**30  # far above any ResNet (ResNet-152: 240 MB); a bigger file is not one of ours
_WRAPPERS = ("state_dict", "model", "model_state", "module")  # what timm, Lightning and others wrap it in


class StateFileError(ValueError):
    """Not a state_dict that can be read safely; the message names the file and why."""


def read_state_dict(path: str | os.PathLike, budget: TensorBudget | None = None) -> dict[str, torch.Tensor]:
    """A state_dict saved with ``torch.save``, read with ``weights_only=True`` (no code runs). A checkpoint
    that wraps it (``{"state_dict": ...}``, ``{"model": ...}``, as timm and Lightning write) is unwrapped.
    ``budget``: what the file may declare, from the network it is for (see ``torch_archive``)."""
    path = Path(path)
    try:
        size = regular_file_size(path, "weights file")
    except UntrustedInputError as e:
        raise StateFileError(str(e)) from None
    if size > MAX_WEIGHTS_BYTES:
        raise StateFileError(f"{path}: {size / 2**30:.1f} GiB is more than any network here holds "
                             f"(at most {MAX_WEIGHTS_BYTES // 2**30} GiB)")
    try:
        check_archive(path, budget, "weights file")
    except ArchiveRefused as e:
        raise StateFileError(str(e)) from None
    try:
        with warnings.catch_warnings():  # torch's warnings about what the file holds: our own message says it
            warnings.simplefilter("ignore")
            data = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        raise StateFileError(f"{path}: holds objects other than tensors and plain data, so it is not read (that "
                             "would run code); save model.state_dict() instead of the whole model") from None
    except Exception as e:
        raise StateFileError(f"{path}: not a readable PyTorch file ({type(e).__name__}: "
                             f"{(str(e).splitlines() or ['damaged'])[0]})") from None
    for key in _WRAPPERS:
        if isinstance(data, dict) and isinstance(data.get(key), dict) and not is_state_dict(data):
            data = data[key]
    if not is_state_dict(data):
        raise StateFileError(f"{path}: not a state_dict (a mapping of parameter names to tensors)")
    for key, t in data.items():
        problem = not_dense_real(t)
        if problem:
            raise StateFileError(f"{path}: tensor {key!r} is {problem}; only dense real tensors are weights here")
    return dict(data)


def not_dense_real(t: torch.Tensor) -> str | None:
    """What keeps ``t`` from being an ordinary weight (sparse, complex, quantized, nested, meta), or None."""
    if t.layout != torch.strided:
        return f"a {str(t.layout).removeprefix('torch.').replace('_', ' ')} tensor"
    if t.is_nested:
        return "a nested tensor"
    if t.is_quantized:
        return "a quantized tensor"
    if t.is_complex():
        return f"complex ({str(t.dtype).removeprefix('torch.')})"
    if t.device.type == "meta":
        return "a meta tensor without data"
    return None


def is_state_dict(data) -> bool:
    return (isinstance(data, dict) and bool(data)
            and all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in data.items()))
