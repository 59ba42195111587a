"""The training engine: no Qt. ``run_training`` is a generator of plain-data reports that a worker
thread can forward as signals; ``TrainControl`` pauses, resumes and stops it from any thread.

    for report in run_training(graph, load_dataset("digits"), TrainConfig(epochs=3), control):
        ...  # StartedReport, StepReport, LayerStatsReport, EpochReport, CheckpointReport,
             # StatusReport, and finally FinishedReport or FailedReport
"""
from explorer.train.callbacks import Callbacks, TrainingError, train, train_module
from explorer.train.checkpoint import Checkpoint, CheckpointError, load_checkpoint, load_model, save_checkpoint
from explorer.train.config import AMP_MODES, OPTIMIZERS, SCHEDULES, ConfigError, TrainConfig
from explorer.train.control import TrainControl
from explorer.train.device import DeviceError, available_devices, resolve_device
from explorer.train.engine import TrainingRun, run_training
from explorer.train.reports import (CheckpointReport, EpochReport, FailedReport, FinishedReport, LayerStatsReport,
                                    Report, StartedReport, StatusReport, StepReport)

__all__ = ["AMP_MODES", "OPTIMIZERS", "SCHEDULES", "Callbacks", "Checkpoint", "CheckpointError", "CheckpointReport",
           "ConfigError", "DeviceError", "EpochReport", "FailedReport", "FinishedReport", "LayerStatsReport", "Report",
           "StartedReport", "StatusReport", "StepReport", "TrainConfig", "TrainControl", "TrainingError", "TrainingRun", "available_devices",
           "load_checkpoint", "load_model", "resolve_device", "run_training", "save_checkpoint", "train", "train_module"]
