"""The local executor: a pool of worker processes on this machine, each training one trial at a time.

Workers are spawned (not forked: a forked copy of a process that already runs OpenMP threads, or a Qt
window, can hang), ignore Ctrl-C (the driver decides: it asks them to stop, and they save last.pt first),
and on a CUDA machine each takes one GPU. Running trials report their steps through a queue, so the
window's curves and the progress line move while they train. A worker that dies (killed, out of memory)
fails the trials it may have been running; the pool is rebuilt for the rest.
"""
from __future__ import annotations

import multiprocessing
import os
import queue
import signal
import threading
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool

from explorer.studies.executor import default_split
from explorer.studies.task import FAILED, TrialOutcome, TrialTask, run_trial

# Set in each worker process by _init_worker.
_worker_state: dict = {}


def _init_worker(stop, events, gpus) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if gpus is not None:
        try:
            os.environ["CUDA_VISIBLE_DEVICES"] = str(gpus.get_nowait())  # before torch starts CUDA here
        except queue.Empty:
            pass
    _worker_state.update(stop=stop, events=events)


def _run_in_worker(task: TrialTask) -> TrialOutcome:
    stop, events = _worker_state["stop"], _worker_state["events"]
    return run_trial(task, events=lambda tid, kind, data: events.put((tid, kind, data)), stop=stop.is_set)


class LocalExecutor:
    name = "local"
    remote = False

    def __init__(self, workers: int | None = None, threads: int | None = None, device: str = "auto") -> None:
        self.slots, self.threads, self.gpus = default_split(device, workers, threads)
        self._ctx = multiprocessing.get_context("spawn")
        self._pool: ProcessPoolExecutor | None = None
        self._futures: dict[Future, str] = {}
        self._events = None
        self._on_event = None

    def describe(self) -> str:
        unit = f"{self.gpus} GPU(s)" if self.gpus else f"{self.threads} thread(s) each"
        return f"local pool: {self.slots} worker(s), {unit}"

    def open(self, events) -> None:
        self._on_event = events
        self._stop = self._ctx.Event()
        self._events = self._ctx.Queue()
        self._pool = self._new_pool()

    def _new_pool(self) -> ProcessPoolExecutor:
        gpus = None
        if self.gpus:
            gpus = self._ctx.Queue()
            for i in range(self.slots):
                gpus.put(i % self.gpus)
        return ProcessPoolExecutor(self.slots, mp_context=self._ctx, initializer=_init_worker,
                                   initargs=(self._stop, self._events, gpus))

    def submit(self, task: TrialTask) -> None:
        # The pool spawns its workers here. One Ctrl-C reaches the whole process group, also a worker still
        # importing before _init_worker runs (a KeyboardInterrupt traceback): spawned while SIGINT is
        # ignored, a worker starts with it ignored. signal.signal works in the main thread only (the
        # window runs studies in a job thread, where no Ctrl-C arrives).
        deaf = threading.current_thread() is threading.main_thread()
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN) if deaf else None
        try:
            self._futures[self._pool.submit(_run_in_worker, task)] = task.trial_id
        finally:
            if deaf:
                signal.signal(signal.SIGINT, signal.default_int_handler if previous is None else previous)

    def poll(self, timeout: float) -> list[TrialOutcome]:
        self._drain()
        if not self._futures:
            return []
        finished, _ = wait(list(self._futures), timeout=timeout, return_when=FIRST_COMPLETED)
        self._drain()  # a trial's last events before its outcome
        outcomes, broken = [], False
        for f in finished:
            tid = self._futures.pop(f)
            try:
                outcomes.append(f.result())
            except BrokenProcessPool:
                broken = True
                outcomes.append(TrialOutcome(tid, FAILED, error="its worker process died (killed, or out of "
                                                                "memory) while it trained"))
            except Exception as e:  # the task could not even be sent or unpacked
                outcomes.append(TrialOutcome(tid, FAILED, error=f"{type(e).__name__}: {e}"))
        if broken:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = self._new_pool()
        return outcomes

    def _drain(self) -> None:
        while True:
            try:
                tid, kind, data = self._events.get_nowait()
            except (queue.Empty, OSError, ValueError):
                return
            self._on_event(tid, kind, data)

    def stop_running(self) -> None:
        self._stop.set()

    def close(self) -> None:
        if self._pool is None:
            return
        self._stop.set()  # running trials save last.pt and return; the wait is a few steps
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._pool = None
        self._futures.clear()
        self._events.close()
