"""The training run, as a generator of reports.

``run_training(graph, dataset, config, control)`` yields plain-data reports (``explorer.train.reports``)
while it trains; the window's worker thread iterates it and forwards each report as a queued signal,
the command line prints them. It ends with exactly one FinishedReport or FailedReport.

This module sets a run up: everything that can be wrong with the input is found before the first
step, then the parts of one purpose each are built and handed to the loop (``loop.py``): the trainee
(model, optimiser, one step), the batches, the cursor, the device-side metric sums, the record and the
run folder. A run leaves process-wide torch state alone: its random streams and cuDNN flags live in a
``RunIsolation`` that is swapped in only while it computes, and the thread count is the application's
to set (the command line honours ``--threads`` once at start).

The hot loop stays lean: data already sits on the device, ``zero_grad(set_to_none=True)``, metrics
accumulate in device tensors and reach the host only at the log interval (the one sync point per
``log_every`` steps), and per-layer statistics are batched (see ``stats.py``).
"""
from __future__ import annotations

from collections.abc import Iterator

import torch
from torch import nn

from explorer.compile import CompileError, compile_graph, layer_units
from explorer.data.subset import stratified_subset
from explorer.graph.model import Graph
from explorer.train import device as devices
from explorer.train.batches import Batches
from explorer.train.checkpoint import Checkpoint
from explorer.train.config import ConfigError, TrainConfig
from explorer.train.control import TrainControl
from explorer.train.cursor import Cursor, steps_per_epoch
from explorer.train.failures import SetupFailure, is_oom
from explorer.train.fine_tuning import prepare, write_provenance
from explorer.train.fitting import fit_graph, resolve_inputs
from explorer.train.folder import RunFolder
from explorer.train.run_lock import RunFolderInUse
from explorer.train.isolation import RunIsolation
from explorer.train.loop import TrainingLoop
from explorer.train.optim import build_optimizer
from explorer.train.record import RunRecord
from explorer.train.reports import FailedReport, Report, StartedReport
from explorer.train.sampling import StatsSampler
from explorer.train.schedule import Schedule
from explorer.train.stats import LayerStats
from explorer.train.sums import MetricSums
from explorer.train.trainee import Trainee

__all__ = ["TrainingRun", "run_training", "steps_per_epoch"]


def run_training(graph: Graph | None, dataset, config: TrainConfig | None = None,
                 control: TrainControl | None = None, resume=None) -> Iterator[Report]:
    """Train ``graph`` on ``dataset`` (an ``explorer.data.Dataset``), yielding reports.

    ``resume``: a checkpoint path (file or run folder) or a loaded ``Checkpoint``; ``graph``/``config``
    may then be None to take the checkpoint's. The caller's graph is never modified (adapting to the
    data works on a copy). Expected problems end the run with a FailedReport; a bug raises.
    """
    yield from TrainingRun(graph, dataset, config, control, resume).reports()


class TrainingRun:
    """One run. ``reports()`` is the generator ``run_training`` returns; afterwards ``model`` is the
    trained module, ``graph`` the (possibly adapted) graph it was built from and ``trainee`` its model with
    optimiser — for callers in the same thread that need the weights, like ``train_module``."""

    def __init__(self, graph, dataset, config=None, control=None, resume=None):
        self.graph: Graph | None = graph
        self.dataset = dataset
        self.cfg: TrainConfig | None = config
        self.resume = resume
        self.control = control or TrainControl()
        self.model: nn.Module | None = None
        self.trainee: Trainee | None = None

    def reports(self) -> Iterator[Report]:
        try:
            loop, started = self._setup()
        except SetupFailure as f:
            yield f.report
            return
        try:
            yield started
            yield from loop.reports()
        finally:  # also when the consumer drops the generator before the first step
            loop.folder.close()

    # == set-up: everything that can be wrong with the input, found before the first step =============
    def _setup(self) -> tuple[TrainingLoop, StartedReport]:
        graph, cfg, ckpt = resolve_inputs(self.graph, self.cfg, self.resume)
        self.graph, self.cfg = graph, cfg
        try:
            cfg.check()
        except ConfigError as e:
            raise SetupFailure(FailedReport("config", str(e))) from None
        notices: list[str] = []
        graph, analysis = fit_graph(graph, self.dataset, cfg.adapt, notices)
        self.graph = graph
        try:
            dev = devices.resolve_device(cfg.device)
        except devices.DeviceError as e:
            raise SetupFailure(FailedReport("device", str(e), "pick another --device")) from None
        if cfg.amp != "off" and dev.type != "cuda":
            notices.append(f"mixed precision ({cfg.amp}) is used on CUDA only; training in float32 on {dev.type}")

        isolation = RunIsolation(dev, cfg.seed)
        try:
            with isolation.active():  # weight initialisation draws from the run's own stream
                model = compile_graph(graph, analysis)
        except CompileError as e:
            raise SetupFailure(FailedReport("graph", str(e))) from None
        tuning = prepare(model, cfg, ckpt is not None, notices, list(graph.nodes))  # starting weights, frozen parts, multipliers
        channels_last = cfg.channels_last and len(analysis.input_shape) == 3
        try:
            model = model.to(dev, memory_format=torch.channels_last) if channels_last else model.to(dev)
            data = self._training_data(cfg, notices).to(dev)
        except Exception as e:
            if is_oom(e):
                raise SetupFailure(FailedReport("oom", f"the model or data set does not fit in "
                                                       f"{devices.describe(dev)} memory",
                                                "use a smaller model or data set, or --device cpu")) from None
            raise
        self.model = model
        tuning.freezing.train_mode()
        units = layer_units(model)
        sampler = StatsSampler(LayerStats(model, units, dev) if cfg.stats_every else None, cfg.stats_every)
        trainee = Trainee(model, build_optimizer(model, cfg, tuning.multipliers), cfg, dev, isolation, sampler,
                          tuning.freezing)
        self.trainee = trainee
        batches = Batches(data, cfg.batch_size, cfg.seed, cfg.crop_padding, cfg.flip, channels_last)
        cursor = Cursor(cfg.epochs, batches.n_train, cfg.batch_size, cfg.max_steps)
        sums, record = MetricSums(dev), RunRecord()
        schedule = Schedule(cfg, cursor.total_steps, cursor.steps_per_epoch)
        if ckpt is not None:
            trainee.catch_up(ckpt.epoch + 1)
            _restore(ckpt, trainee, isolation, batches, cursor, sums, record)
            schedule.restore(ckpt.scheduler_state, cursor.step)
        folder = RunFolder(cfg.out_dir, graph, cfg, self.dataset)
        try:
            folder.open()
            if ckpt is None:
                write_provenance(cfg.out_dir, tuning.provenance)
        except RunFolderInUse as e:
            raise SetupFailure(FailedReport("config", str(e), "")) from None
        except OSError as e:
            folder.close()
            raise SetupFailure(FailedReport("config", f"cannot write to {cfg.out_dir}: {e.strerror or e}",
                                            "choose another --out folder")) from None
        started = StartedReport(device=trainee.device_name, params=sum(p.numel() for p in model.parameters()),
                                epochs=cfg.epochs, steps_per_epoch=cursor.steps_per_epoch,
                                total_steps=cursor.total_steps, start_epoch=cursor.epoch, start_step=cursor.step,
                                train_samples=batches.n_train, val_samples=int(data.x_val.shape[0]),
                                unit_keys=[u.key for u in units], unit_node_ids=[u.node_id for u in units],
                                notices=notices)
        loop = TrainingLoop(cfg, self.control, trainee, batches, cursor, sums, record, folder,
                            self.dataset.num_classes, schedule)
        return loop, started

    def _training_data(self, cfg: TrainConfig, notices: list[str]):
        """The data set, or a stratified subset of its training split (``train_samples``)."""
        if not cfg.train_samples:
            return self.dataset
        n = int(self.dataset.x_train.shape[0])
        if cfg.train_samples >= n:
            notices.append(f"train samples {cfg.train_samples} ≥ the {n} the data set has: training on all of them")
            return self.dataset
        if cfg.train_samples < self.dataset.num_classes:
            raise SetupFailure(FailedReport("config", f"{cfg.train_samples} training samples cannot hold one of "
                                                      f"each of {self.dataset.num_classes} classes",
                                            f"use --train-samples {self.dataset.num_classes} or more"))
        return stratified_subset(self.dataset, cfg.train_samples, cfg.seed)


def _restore(ckpt: Checkpoint, trainee: Trainee, isolation: RunIsolation, batches: Batches, cursor: Cursor,
             sums: MetricSums, record: RunRecord) -> None:
    """Continue from a checkpoint: weights, optimiser, random streams, position, epoch sums, history."""
    try:
        trainee.restore(ckpt)
    except (RuntimeError, ValueError, KeyError) as e:
        raise SetupFailure(FailedReport("checkpoint", f"the checkpoint does not fit this network ({e})".splitlines()[0],
                                        "resume with the graph and data set the run was started with")) from None
    batches.restore(ckpt.rng.get("data"), ckpt.order if ckpt.batch else None)
    isolation.restore(ckpt.rng)
    cursor.restore(ckpt.epoch, ckpt.step, ckpt.batch)
    sums.restore(*ckpt.epoch_sums)
    record.restore(ckpt)
