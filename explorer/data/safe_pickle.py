"""An unpickler that can rebuild plain numpy arrays and containers and nothing else, within a memory bound.

Pickle runs whatever callables a file names, so a downloaded "data set" could
execute code on load.  Only the handful of globals that numpy's array and
scalar pickles reference are resolved; every other name is refused before it
is imported.

Allowed names can still allocate or crash: ``bytearray(10**9)``,
``numpy.ndarray((300000, 3072))`` or an object array whose state is short are
a few bytes of pickle (the last one crashes numpy 2.4).  So every allowed
callable is wrapped to take sizes only from data present in the file, only
plain numeric/bytes dtypes are accepted, the state given to BUILD is checked
before numpy sees it, the bytes a load creates are capped and the opcode count
is checked first: what a load allocates stays a small multiple of the file's
size.  The pure-Python unpickler is used because only it lets BUILD and the
class-instantiating opcodes be replaced; a real CIFAR batch has few opcodes.
"""

from __future__ import annotations

import codecs
import importlib
import io
import math
import pickle
import pickletools
from typing import Any, Callable

import numpy as np

from .errors import DatasetError

# A real CIFAR batch has about 70,000 opcodes; each opcode makes at most a few hundred bytes of
# Python objects, so this bounds what the structure of a pickle can cost.
MAX_OPCODES = 1_000_000
# Arrays per pickle: a CIFAR batch has one.  ndarray.__setstate__ copies its data.
MAX_ARRAYS = 4
# numpy pickles an array as _reconstruct(ndarray, (0,), b"b") and then sets its state.
_MAX_PLACEHOLDER_BYTES = 64
_LATIN1 = {"latin1", "latin-1", "iso-8859-1", "iso8859-1", "l1"}
# bool, signed, unsigned, float, complex, bytes, str: no objects, fields or sub-arrays.
_PLAIN_KINDS = set("biufcSU")


class RefusedGlobal(pickle.UnpicklingError):
    """The pickle names a global or an operation outside the allow-list."""


class _TooLarge(pickle.UnpicklingError):
    """The pickle asks for more memory than its own size justifies."""


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


_RECONSTRUCT = _numpy_global("_reconstruct")
_SCALAR = _numpy_global("scalar")
_FROMBUFFER = _numpy_global("_frombuffer")


class _NdarrayName:
    """Stands for ``numpy.ndarray`` as _reconstruct's argument; calling it (``ndarray(shape)``
    would allocate any size the file names) is refused."""

    def __init__(self, *args: Any) -> None:
        raise RefusedGlobal("refusing to call numpy.ndarray directly")


def _plain_dtype(dtype: Any, what: str) -> np.dtype:
    if not isinstance(dtype, np.dtype) or dtype.kind not in _PLAIN_KINDS or dtype.hasobject \
            or dtype.fields is not None or dtype.subdtype is not None:
        raise RefusedGlobal(f"refusing {what} {dtype!s} (only plain numbers, bytes and str)")
    return dtype


def _shape(shape: Any, what: str) -> tuple[int, ...]:
    dims = shape if isinstance(shape, tuple) else (shape,)
    if not all(type(d) is int and d >= 0 for d in dims):
        raise RefusedGlobal(f"refusing {what} with shape {shape!r}")
    return dims


def _nbytes(data: Any) -> int:
    if isinstance(data, (bytes, bytearray)):
        return len(data)
    if isinstance(data, pickle.PickleBuffer):
        return data.raw().nbytes
    raise RefusedGlobal(f"refusing array data of type {type(data).__name__}")


class _Allowance:
    """What one load may still create: bytes made by constructors and array copies, and arrays."""

    def __init__(self, byte_limit: int) -> None:
        self.bytes_left = byte_limit
        self.arrays_left = MAX_ARRAYS

    def take_bytes(self, n: int) -> None:
        self.bytes_left -= n
        if self.bytes_left < 0:
            raise _TooLarge("it builds more bytes than the file holds (from repeated copies)")

    def take_array(self) -> None:
        self.arrays_left -= 1
        if self.arrays_left < 0:
            raise _TooLarge(f"it builds more than {MAX_ARRAYS} arrays")


def _allowed(allow: _Allowance) -> dict[tuple[str, str], Callable[..., Any]]:
    def make_bytes(kind: type) -> Callable[..., Any]:
        def build(*args: Any) -> Any:
            # bytes(n) / bytearray(n) allocate n zero bytes from a number in the file.
            if args and isinstance(args[0], int):
                raise _TooLarge("it sizes a bytes object by a number instead of its contents")
            out = kind(*args)
            allow.take_bytes(len(out))
            return out
        return build

    def encode(obj: Any, encoding: Any = "utf-8", *rest: Any) -> bytes:
        # Pickles written by Python 3 at protocol 0-2 spell bytes as encode(str, "latin1"); other
        # codecs (zlib, base64, ...) are not what pickle writes and could inflate.
        if not isinstance(obj, str) or not isinstance(encoding, str) or encoding.lower() not in _LATIN1 or rest:
            raise RefusedGlobal("refusing _codecs.encode other than str to latin1")
        out = codecs.encode(obj, "latin1")
        allow.take_bytes(len(out))
        return out

    def dtype(*args: Any) -> np.dtype:
        return _plain_dtype(np.dtype(*args), "dtype")

    def reconstruct(subtype: Any, shape: Any, dt: Any) -> np.ndarray:
        if subtype is not _NdarrayName:
            raise RefusedGlobal("refusing an array that is not a plain numpy.ndarray")
        dims = _shape(shape, "an array placeholder")
        if math.prod(dims) * np.dtype(dt).itemsize > _MAX_PLACEHOLDER_BYTES:
            raise _TooLarge(f"it allocates an array of shape {shape!r} before filling it")
        allow.take_array()
        return _RECONSTRUCT(np.ndarray, dims, dt)

    def frombuffer(buf: Any, dt: Any, shape: Any, order: Any) -> np.ndarray:
        _plain_dtype(dt, "an array of dtype")
        dims = _shape(shape, "an array")
        if math.prod(dims) * dt.itemsize != _nbytes(buf) or order not in ("C", "F"):
            raise RefusedGlobal(f"refusing an array of shape {shape!r} over {_nbytes(buf)} bytes")
        allow.take_array()
        return _FROMBUFFER(buf, dt, dims, order)

    def scalar(dt: Any, *obj: Any) -> Any:
        _plain_dtype(dt, "a scalar of dtype")
        if len(obj) != 1 or not isinstance(obj[0], bytes) or len(obj[0]) != dt.itemsize:
            raise RefusedGlobal(f"refusing a {dt} scalar without its {dt.itemsize} bytes")
        return _SCALAR(dt, *obj)

    table: dict[tuple[str, str], Callable[..., Any]] = {}
    for module in ("numpy._core.multiarray", "numpy.core.multiarray"):
        table[(module, "_reconstruct")] = reconstruct
        table[(module, "scalar")] = scalar
    for module in ("numpy._core.numeric", "numpy.core.numeric"):
        table[(module, "_frombuffer")] = frombuffer
    table[("numpy", "ndarray")] = _NdarrayName
    table[("numpy", "dtype")] = dtype
    table[("_codecs", "encode")] = encode
    table[("builtins", "bytes")] = make_bytes(bytes)
    table[("builtins", "bytearray")] = make_bytes(bytearray)
    table[("__builtin__", "bytearray")] = make_bytes(bytearray)
    return table


def _check_dtype_state(state: Any) -> None:
    # (version, byteorder, subarray, names, fields, elsize, alignment, flags[, metadata]): a plain
    # dtype has no sub-array, names or fields, which is all numpy's own pickles of one contain.
    if not isinstance(state, tuple) or len(state) not in (8, 9) or any(v is not None for v in state[2:5]) \
            or not all(type(v) is int for v in state[5:8]):
        raise RefusedGlobal("refusing a dtype state that is not a plain dtype")


def _check_array_state(state: Any, allow: _Allowance) -> None:
    # (version, shape, dtype, is_fortran, data); version 0 pickles omit the version.
    if not isinstance(state, tuple) or len(state) not in (4, 5):
        raise RefusedGlobal("refusing an array state that is not numpy's")
    shape, dt, fortran, data = state[-4:]
    dims = _shape(shape, "an array")
    _plain_dtype(dt, "an array of dtype")
    if not isinstance(fortran, (bool, int)) or math.prod(dims) * dt.itemsize != _nbytes(data):
        raise RefusedGlobal(f"refusing an array of shape {shape!r} over {_nbytes(data)} bytes")
    allow.take_bytes(_nbytes(data))


def _refuse(self: Any) -> None:
    raise RefusedGlobal("refusing to instantiate a class")


class SafeUnpickler(pickle._Unpickler):  # the pure-Python one, whose opcodes can be replaced
    dispatch = dict(pickle._Unpickler.dispatch)

    def __init__(self, stream: Any, byte_limit: int, **kwargs: Any) -> None:
        super().__init__(stream, **kwargs)
        self._allow = _Allowance(byte_limit)
        self._table = _allowed(self._allow)

    def find_class(self, module: str, name: str) -> Any:
        try:
            return self._table[(module, name)]
        except KeyError:
            raise RefusedGlobal(f"refusing to load {module}.{name}") from None

    def persistent_load(self, pid: Any) -> Any:
        raise RefusedGlobal("refusing persistent ids")

    def load_build(self) -> None:
        state = self.stack.pop()
        inst = self.stack[-1]
        if type(inst) is np.ndarray:
            _check_array_state(state, self._allow)
        elif isinstance(inst, np.dtype):
            _check_dtype_state(state)
        else:
            raise RefusedGlobal(f"refusing to set the state of a {type(inst).__name__}")
        inst.__setstate__(state)

    dispatch[pickle.BUILD[0]] = load_build
    # numpy's pickles only use REDUCE; these would call a class with arguments from the file.
    for _opcode in (pickle.NEWOBJ, pickle.NEWOBJ_EX, pickle.OBJ, pickle.INST):
        dispatch[_opcode[0]] = _refuse


def _count_opcodes(data: bytes) -> None:
    for count, _ in enumerate(pickletools.genops(data), 1):
        if count > MAX_OPCODES:
            raise _TooLarge(f"it has more than {MAX_OPCODES:,} opcodes")


def safe_loads(data: bytes, what: str) -> Any:
    """Unpickle ``data`` allowing only plain numpy arrays and containers.

    ``what`` names the file in the error message.  Python 2 pickles (like the
    original CIFAR-10 batches) are read with ``encoding="bytes"`` so their str
    keys come back as bytes, as the CIFAR documentation describes.
    """
    try:
        _count_opcodes(data)
        # Bytes built from str and array copies can each be as large as the file.
        unpickler = SafeUnpickler(io.BytesIO(data), 2 * len(data) + 4096, encoding="bytes")
        return unpickler.load()
    except RefusedGlobal as exc:
        raise DatasetError(f"{what} is not a plain data pickle ({exc}); refusing to run code from it") from None
    except _TooLarge as exc:
        raise DatasetError(f"{what} is refused as a data pickle of {len(data):,} bytes: {exc}") from None
    except Exception as exc:  # any corruption: truncation, bad opcodes, bad numpy state
        raise DatasetError(f"{what} is not a readable pickle ({type(exc).__name__}: {exc})") from None
