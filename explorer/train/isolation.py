"""A run's own torch state: its random-number streams and its cuDNN settings, swapped in only while the
run computes, so training never changes the process-wide state its caller (a window, a test, another
run) sees.

Weight initialisation and dropout draw from torch's default generators, which have no per-module
switch; ``active()`` forks them (``torch.random.fork_rng``), installs the run's saved streams, and on
the way out saves where the run's streams got to and gives the caller its own back. The run's streams
start from the seed, so the same seed gives the same weights and the same dropout masks. On CUDA the
block also runs under ``torch.backends.cudnn.flags(deterministic=True, benchmark=False)``, the
context-manager form of the flags. No ``yield`` of the report generator may happen inside the block:
the consumer's code would run with the run's state. (Apple MPS has no per-device fork; there only the
CPU stream is the run's own.)
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextlib import contextmanager

import torch


class RunIsolation:
    def __init__(self, device: torch.device, seed: int) -> None:
        self._cuda: int | None = None       # the CUDA device whose stream is forked, if any
        self.cpu = torch.Generator().manual_seed(seed).get_state()   # = the default generator after manual_seed
        self.cuda: torch.Tensor | None = None
        if device.type == "cuda":
            self._cuda = device.index if device.index is not None else torch.cuda.current_device()
            with torch.random.fork_rng(devices=[self._cuda], device_type="cuda"), torch.cuda.device(self._cuda):
                torch.cuda.manual_seed(seed)  # this device only, and undone when the fork ends
                self.cuda = torch.cuda.get_rng_state(self._cuda)

    @contextmanager
    def active(self) -> Iterator[None]:
        devices = [self._cuda] if self._cuda is not None else []
        with torch.random.fork_rng(devices=devices, device_type="cuda"), self._cudnn_flags():
            torch.set_rng_state(self.cpu)
            if self._cuda is not None:
                torch.cuda.set_rng_state(self.cuda, self._cuda)
            try:
                yield
            finally:
                self.cpu = torch.get_rng_state()
                if self._cuda is not None:
                    self.cuda = torch.cuda.get_rng_state(self._cuda)

    def _cudnn_flags(self):
        if self._cuda is None:
            return contextlib.nullcontext()
        cudnn = torch.backends.cudnn  # keep the caller's other settings; only determinism changes
        return cudnn.flags(enabled=cudnn.enabled, benchmark=False, benchmark_limit=cudnn.benchmark_limit,
                           deterministic=True, allow_tf32=cudnn.allow_tf32)

    def state(self) -> dict:
        """The streams for a checkpoint (the keys a checkpoint's ``rng`` has always used)."""
        rng = {"torch": self.cpu}
        if self.cuda is not None:
            rng["cuda"] = [self.cuda]
        return rng

    def restore(self, rng: dict) -> None:
        """Continue the streams a checkpoint saved (older checkpoints hold every CUDA device's: take ours)."""
        if "torch" in rng:
            self.cpu = rng["torch"]
        states = rng.get("cuda") or []
        if self._cuda is not None and states:
            if len(states) == 1:
                self.cuda = states[0]
            elif len(states) == torch.cuda.device_count():
                self.cuda = states[self._cuda]
