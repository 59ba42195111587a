"""What the study runner asks of an executor, and how many trials and threads fit this machine.

An executor starts trial tasks, reports their outcomes and the events of running trials, and can ask the
running ones to stop (they save last.pt and come back STOPPED). The runner decides which trial starts when;
an executor only runs what it is given, at most ``slots`` at once.

The default split on a CPU is one thread per worker and a worker per core: small networks scale badly over
threads within one process (per-op overhead, synchronisation), so independent trials side by side finish
a study sooner than one trial at a time with every core (measured: see the studies section of README.md).
On CUDA machines it is one trial per GPU.
"""
from __future__ import annotations

import os
from typing import Callable, Protocol

from explorer.studies.task import TrialOutcome, TrialTask


class ExecutorError(RuntimeError):
    """The executor cannot start (Ray missing, no cluster at the address); the message says what to do."""


class Executor(Protocol):
    name: str
    slots: int          # trials that run at once
    threads: int        # torch CPU threads per trial
    remote: bool        # tasks run where the study folder is not: they get the folder's files and return theirs

    def describe(self) -> str: ...

    def open(self, events: Callable[[str, str, dict], None]) -> None: ...

    def submit(self, task: TrialTask) -> None: ...

    def poll(self, timeout: float) -> list[TrialOutcome]: ...

    def stop_running(self) -> None: ...

    def close(self) -> None: ...


def cpu_count() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def cuda_count(device: str) -> int:
    """GPUs a trial may use under this device setting (0 for cpu or mps, or without CUDA)."""
    if device not in ("auto",) and not device.startswith("cuda"):
        return 0
    import torch
    return torch.cuda.device_count() if torch.cuda.is_available() else 0


def default_split(device: str, workers: int | None, threads: int | None) -> tuple[int, int, int]:
    """(workers, threads per worker, GPUs): one trial per GPU, else a worker per core with one thread each;
    ``workers``/``threads`` (the user's) override."""
    gpus = cuda_count(device)
    cores = cpu_count()
    if gpus:
        n = workers or gpus
        return n, threads or max(1, cores // n), gpus
    t = threads or 1
    return workers or max(1, cores // t), t, 0
