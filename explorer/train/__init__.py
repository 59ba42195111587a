"""The training engine: no Qt. ``run_training`` is a generator of plain-data reports that a worker
thread can forward as signals; ``TrainControl`` pauses, resumes and stops it from any thread.

    for report in run_training(graph, load_dataset("digits"), TrainConfig(epochs=3), control):
        ...  # StartedReport, StepReport, LayerStatsReport, EpochReport, CheckpointReport,
             # StatusReport, and finally FinishedReport or FailedReport
"""
import importlib

# Each name is imported from its module on first use (PEP 562), so that a torch-free part such as
# ``explorer.train.provenance`` or ``explorer.train.config`` loads without the engine (and torch).
_HOMES = {
    "callbacks": ("Callbacks", "TrainingError", "train", "train_module"),
    "checkpoint": ("Checkpoint", "CheckpointError", "load_checkpoint", "load_model", "save_checkpoint"),
    "config": ("AMP_MODES", "OPTIMIZERS", "SCHEDULES", "ConfigError", "TrainConfig"),
    "control": ("TrainControl",),
    "device": ("DeviceError", "available_devices", "resolve_device"),
    "engine": ("TrainingRun", "run_training"),
    "reports": ("CheckpointReport", "EpochReport", "FailedReport", "FinishedReport", "LayerStatsReport", "Report",
                "StartedReport", "StatusReport", "StepReport"),
}
_MODULE_OF = {name: module for module, names in _HOMES.items() for name in names}


def __getattr__(name: str):
    if name not in _MODULE_OF:
        raise AttributeError(f"module 'explorer.train' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"explorer.train.{_MODULE_OF[name]}"), name)
    globals()[name] = value  # later look-ups skip this function
    return value


__all__ = ["AMP_MODES", "OPTIMIZERS", "SCHEDULES", "Callbacks", "Checkpoint", "CheckpointError", "CheckpointReport",
           "ConfigError", "DeviceError", "EpochReport", "FailedReport", "FinishedReport", "LayerStatsReport", "Report",
           "StartedReport", "StatusReport", "StepReport", "TrainConfig", "TrainControl", "TrainingError", "TrainingRun", "available_devices",
           "load_checkpoint", "load_model", "resolve_device", "run_training", "save_checkpoint", "train", "train_module"]
