"""An unpickler that can rebuild numpy arrays and nothing else.

Pickle runs whatever callables a file names, so a downloaded "data set" could
execute code on load.  Only the handful of globals that numpy's array and
scalar pickles reference are resolved; every other name is refused before it
is imported.
"""

from __future__ import annotations

import codecs
import importlib
import io
import pickle
from typing import Any, BinaryIO

import numpy as np

from .errors import DatasetError


def _numpy_global(name: str) -> Any:
    # numpy 2 moved numpy.core to numpy._core; pickles name either, and
    # touching the old alias on numpy 2 emits a DeprecationWarning.
    for module in ("numpy._core.multiarray", "numpy._core.numeric",
                   "numpy.core.multiarray", "numpy.core.numeric"):
        try:
            obj = getattr(importlib.import_module(module), name, None)
        except ImportError:
            continue
        if obj is not None:
            return obj
    return None


_ALLOWED: dict[tuple[str, str], Any] = {}
for _module in ("numpy._core.multiarray", "numpy.core.multiarray"):
    _ALLOWED[(_module, "_reconstruct")] = _numpy_global("_reconstruct")
    _ALLOWED[(_module, "scalar")] = _numpy_global("scalar")
for _module in ("numpy._core.numeric", "numpy.core.numeric"):
    _ALLOWED[(_module, "_frombuffer")] = _numpy_global("_frombuffer")
_ALLOWED[("numpy", "ndarray")] = np.ndarray
_ALLOWED[("numpy", "dtype")] = np.dtype
# Protocol 0-2 pickles written by Python 3 spell bytes as _codecs.encode(str).
_ALLOWED[("_codecs", "encode")] = codecs.encode
_ALLOWED[("builtins", "bytes")] = bytes
_ALLOWED[("builtins", "bytearray")] = bytearray
_ALLOWED[("__builtin__", "bytearray")] = bytearray
_ALLOWED = {key: obj for key, obj in _ALLOWED.items() if obj is not None}


class RefusedGlobal(pickle.UnpicklingError):
    """The pickle names a global outside the allow-list."""


class SafeUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        try:
            return _ALLOWED[(module, name)]
        except KeyError:
            raise RefusedGlobal(f"refusing to load {module}.{name}") from None

    def persistent_load(self, pid: Any) -> Any:
        raise RefusedGlobal("refusing persistent ids")


def safe_load(stream: BinaryIO, what: str) -> Any:
    """Unpickle ``stream`` allowing only numpy arrays and plain containers.

    ``what`` names the file in the error message.  Python 2 pickles (like the
    original CIFAR-10 batches) are read with ``encoding="bytes"`` so their str
    keys come back as bytes, as the CIFAR documentation describes.
    """
    try:
        return SafeUnpickler(stream, encoding="bytes").load()
    except RefusedGlobal as exc:
        raise DatasetError(f"{what} is not a plain data pickle ({exc}); refusing to run code from it") from None
    except Exception as exc:  # any corruption: truncation, bad opcodes, bad numpy state
        raise DatasetError(f"{what} is not a readable pickle ({type(exc).__name__}: {exc})") from None


def safe_loads(data: bytes, what: str) -> Any:
    return safe_load(io.BytesIO(data), what)
