"""The Ray executor: each trial is one Ray task, on this machine or on a cluster.

``address`` None starts a local Ray instance or joins the one already running here (``ray start`` or an
earlier ``ray.init`` in this process); an address (``ray://host:10001`` or ``host:6379``) joins that cluster.
A task asks for one GPU when the cluster has them (and the settings allow CUDA), else for its threads as
CPUs. The task gets the network as JSON and any run folder it resumes as bytes, and returns its run folder
the same way, so the driver writes the study folder and the nodes need no shared file system (a data set
named by path must exist on the nodes, though; the built-in ones always do).
"""
from __future__ import annotations

from explorer.studies.executor import ExecutorError, cpu_count
from explorer.studies.task import FAILED, STOPPED, TrialOutcome, TrialTask, run_trial

MISSING = "Ray is not installed; install it with: pip install 'residual-explorer[ray]'"


def _ray():
    try:
        import ray
    except ImportError:
        raise ExecutorError(MISSING) from None
    return ray


def _remote_trial(task: TrialTask) -> TrialOutcome:
    return run_trial(task)


class RayExecutor:
    name = "ray"
    remote = True

    def __init__(self, address: str | None = None, threads: int | None = None, device: str = "auto",
                 workers: int | None = None) -> None:
        self.ray = _ray()  # a missing package is said before anything else happens
        self.address = address
        self.threads = threads or 1
        self.device = device
        self.workers = workers
        self.slots = workers or max(1, cpu_count() // self.threads)
        self.gpus = 0
        self._started = False
        self._running: dict = {}
        self._stopping = False

    def describe(self) -> str:
        where = self.address or "local Ray instance"
        unit = "1 GPU each" if self.gpus else f"{self.threads} CPU(s) each"
        return f"ray ({where}): up to {self.slots} trial(s) at once, {unit}"

    def open(self, events) -> None:
        ray = self.ray
        if not ray.is_initialized():
            try:
                ray.init(address=self.address, include_dashboard=False, log_to_driver=False,
                         configure_logging=False)
            except (ConnectionError, ValueError, RuntimeError) as e:
                raise ExecutorError(f"cannot reach a Ray cluster at {self.address or 'this machine'}: {e}") from None
            self._started = True
        resources = ray.cluster_resources()
        cpus, gpus = int(resources.get("CPU", 1)), int(resources.get("GPU", 0))
        self.gpus = gpus if self.device == "auto" or self.device.startswith("cuda") else 0
        self.slots = self.workers or (self.gpus or max(1, cpus // self.threads))
        options = {"num_gpus": 1, "num_cpus": 1} if self.gpus else {"num_cpus": self.threads}
        self._task = ray.remote(max_retries=0, **options)(_remote_trial)

    def submit(self, task: TrialTask) -> None:
        self._running[self._task.remote(task)] = task.trial_id

    def poll(self, timeout: float) -> list[TrialOutcome]:
        if not self._running:
            return []
        ready, _ = self.ray.wait(list(self._running), num_returns=1, timeout=timeout)
        outcomes = []
        for ref in ready:
            tid = self._running.pop(ref)
            try:
                outcomes.append(self.ray.get(ref))
            except self.ray.exceptions.TaskCancelledError:
                outcomes.append(TrialOutcome(tid, STOPPED))
            except self.ray.exceptions.RayError as e:  # a worker or node died, or the task could not run
                if self._stopping:  # Ctrl-C reached the workers too: stopped, not failed, so it resumes
                    outcomes.append(TrialOutcome(tid, STOPPED))
                    continue
                outcomes.append(TrialOutcome(tid, FAILED, error=f"the Ray task failed: {str(e).splitlines()[0]}"))
        return outcomes

    def stop_running(self) -> None:
        # A remote trial cannot be asked to save mid-run: it is cancelled and resumes from its last
        # returned folder (or starts again).
        self._stopping = True
        for ref in list(self._running):
            self.ray.cancel(ref, force=False)

    def close(self) -> None:
        for ref in list(self._running):
            self.ray.cancel(ref, force=True)
        self._running.clear()
        if self._started:
            self.ray.shutdown()
            self._started = False
