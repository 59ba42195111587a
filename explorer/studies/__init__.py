"""Many trainings as one study: the study folder, its trials, the executors (a local pool; Ray), the figure and report.

Sits above analysis/runs/train and below the lessons, the window and the command line; imports no Qt.

    from explorer.studies import LocalExecutor, StudySpec, run_study
    spec = StudySpec("depth", family="resnet", depths=(20, 56), seeds=(0,), config={"epochs": 3})
    study = run_study(spec, "my-study", LocalExecutor(), progress=lambda update: ...)
    result_object(study)   # {"trials": [...], "summary": [...], "verdict": "..."}

``run_study(None, folder, executor)`` continues the study a folder holds.
"""
from explorer.studies.executor import ExecutorError
from explorer.studies.folder import StudyFolder
from explorer.studies.local import LocalExecutor
from explorer.studies.runner import StudyControl, StudyUpdate, describe_spec, open_study, run_study
from explorer.studies.spec import DEPTH, GRID, SpecError, StudySpec, seed_list
from explorer.studies.study import Study, StudyError
from explorer.studies.summary import result_object, summary_rows, verdict
from explorer.studies.trial import DONE, FAILED, PENDING, RUNNING, Trial


def ray_executor(address: str | None = None, threads: int | None = None, device: str = "auto",
                 workers: int | None = None):
    """The Ray executor (raises ExecutorError with the install command when Ray is missing)."""
    from explorer.studies.ray_tasks import RayExecutor
    return RayExecutor(address, threads, device, workers)


__all__ = ["DEPTH", "DONE", "FAILED", "GRID", "PENDING", "RUNNING", "ExecutorError", "LocalExecutor", "SpecError",
           "Study", "StudyControl", "StudyError", "StudyFolder", "StudySpec", "StudyUpdate", "Trial", "describe_spec",
           "open_study", "ray_executor", "result_object", "run_study", "seed_list", "summary_rows", "verdict"]
