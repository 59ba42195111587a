"""Which device to train on, and the mixed-precision context that goes with it."""
from __future__ import annotations

import contextlib

import torch


class DeviceError(ValueError):
    """The named device does not exist here; the message lists what does."""


def available_devices() -> list[str]:
    names = ["cpu"]
    if torch.cuda.is_available():
        names += ["cuda"] + [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    if _mps_available():
        names.append("mps")
    return names


def resolve_device(name: str = "auto") -> torch.device:
    """``auto``: CUDA, then Apple MPS, then CPU. Otherwise the named device, checked to exist."""
    name = (name or "auto").strip().lower()
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if _mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        dev = torch.device(name)
    except RuntimeError:
        raise DeviceError(f"unknown device '{name}'; available here: {', '.join(available_devices())}") from None
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise DeviceError(f"device '{name}' asked for but CUDA is not available here; "
                              f"use --device cpu or auto (available: {', '.join(available_devices())})")
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise DeviceError(f"device '{name}' does not exist; this machine has {torch.cuda.device_count()} GPU(s)")
    elif dev.type == "mps" and not _mps_available():
        raise DeviceError(f"device 'mps' asked for but Apple MPS is not available here; "
                          f"available: {', '.join(available_devices())}")
    elif dev.type not in ("cpu", "cuda", "mps"):
        raise DeviceError(f"device '{name}' is not supported; use one of {', '.join(available_devices())}")
    return dev


def describe(dev: torch.device) -> str:
    """``cpu``, ``mps`` or ``cuda:0 (NVIDIA H200)``."""
    if dev.type == "cuda":
        index = dev.index if dev.index is not None else torch.cuda.current_device()
        return f"cuda:{index} ({torch.cuda.get_device_name(index)})"
    return dev.type


def amp_dtype(amp: str):
    return {"bf16": torch.bfloat16, "fp16": torch.float16}.get(amp)


def autocast(dev: torch.device, amp: str):
    """Mixed precision on CUDA; a no-op context elsewhere or when off."""
    dtype = amp_dtype(amp)
    if dtype is None or dev.type != "cuda":
        return contextlib.nullcontext()
    return torch.autocast("cuda", dtype=dtype)


def synchronize(dev: torch.device) -> None:
    """Wait for queued device work (timing needs it; CPU work is already done)."""
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)
    elif dev.type == "mps":
        torch.mps.synchronize()


def _mps_available() -> bool:
    mps = getattr(torch.backends, "mps", None)
    return bool(mps and mps.is_available())
