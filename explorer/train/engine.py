"""The training loop, as a generator of reports.

``run_training(graph, dataset, config, control)`` yields plain-data reports (``explorer.train.reports``)
while it trains; the window's worker thread iterates it and forwards each report as a queued signal,
the command line prints them. Between steps it honours ``control`` (pause/resume/stop), and it ends
with exactly one FinishedReport or FailedReport.

The hot loop stays lean: data already sits on the device, ``zero_grad(set_to_none=True)``, metrics
accumulate in device tensors and reach the host only at the log interval (the one sync point per
``log_every`` steps), and per-layer statistics are batched (see ``stats.py``).
"""
from __future__ import annotations

import json
import math
import time
from collections.abc import Iterator
from pathlib import Path

import torch
from torch import nn

from explorer.compile import CompileError, compile_graph, layer_units
from explorer.network.adapt import adapt_to_data
from explorer.graph.fileio import save_graph
from explorer.network.inference import analyze
from explorer.graph.model import Graph
from explorer.graph.shapes import fmt_shape
from explorer.train import device as devices
from explorer.train.checkpoint import Checkpoint, CheckpointError, load_checkpoint, save_checkpoint
from explorer.train.config import ConfigError, TrainConfig
from explorer.train.control import TrainControl
from explorer.train.metrics import MetricsWriter
from explorer.train.optim import build_optimizer, lr_factor
from explorer.train.reports import (CheckpointReport, EpochReport, FailedReport, FinishedReport, LayerStatsReport,
                                    Report, StartedReport, StatusReport, StepReport)
from explorer.train.stats import LayerStats


class _Failure(Exception):
    """Internal: carries a FailedReport out of set-up code."""

    def __init__(self, report: FailedReport):
        super().__init__(report.reason)
        self.report = report


def run_training(graph: Graph | None, dataset, config: TrainConfig | None = None,
                 control: TrainControl | None = None, resume=None) -> Iterator[Report]:
    """Train ``graph`` on ``dataset`` (an ``explorer.data.Dataset``), yielding reports.

    ``resume``: a checkpoint path (file or run folder) or a loaded ``Checkpoint``; ``graph``/``config``
    may then be None to take the checkpoint's. The caller's graph is never modified (adapting to the
    data works on a copy). Expected problems end the run with a FailedReport; a bug raises.
    """
    yield from TrainingRun(graph, dataset, config, control, resume).reports()


class _Stopwatch:
    """Training time only: stopped around validation, checkpoints, pauses and the consumer's turn."""

    def __init__(self):
        self.total = 0.0
        self._since: float | None = None

    def start(self):
        if self._since is None:
            self._since = time.perf_counter()

    def stop(self):
        if self._since is not None:
            self.total += time.perf_counter() - self._since
            self._since = None

    @property
    def elapsed(self) -> float:
        return self.total + (time.perf_counter() - self._since if self._since is not None else 0.0)


class TrainingRun:
    """One run's state. ``reports()`` is the generator ``run_training`` returns; afterwards ``model`` is the
    trained module and ``graph`` the (possibly adapted) graph it was built from — for callers in the same
    thread that need the weights, like ``train_module``."""

    def __init__(self, graph, dataset, config=None, control=None, resume=None):
        self.graph, self.dataset, self.cfg, self.resume = graph, dataset, config, resume
        self.control = control or TrainControl()
        self.model: nn.Module | None = None
        self.stats: LayerStats | None = None
        self.pending_stats: list = []  # (step, epoch, host tensor) sampled but not yet reported
        self.clock = _Stopwatch()
        self.last_ckpt: str | None = None
        self.history: list[dict] = []
        self.best_val_acc: float | None = None
        self.best_epoch: int | None = None
        self.trained = 0          # samples trained in this session (for samples/s)
        self.val_seconds = 0.0    # validation time in this session, and how many validations (for the ETA)
        self.val_count = 0

    # == the whole run ================================================================================
    def reports(self) -> Iterator[Report]:
        try:
            started = self._setup()
        except _Failure as f:
            yield f.report
            return
        yield from self._emit(started)
        try:
            final = yield from self._train()
        except Exception as e:
            if not _is_oom(e):
                raise
            final = self._oom_report(e)
        finally:
            if self.stats is not None:
                self.stats.disarm()
        yield final

    # == set-up: everything that can be wrong with the input, found before the first step =============
    def _setup(self) -> StartedReport:
        ckpt = self._load_resume()
        cfg = self.cfg
        try:
            cfg.check()
        except ConfigError as e:
            raise _Failure(FailedReport("config", str(e))) from None
        notices: list[str] = []
        graph, analysis = self._fit_graph(self.graph, notices)
        self.graph = graph
        try:
            dev = devices.resolve_device(cfg.device)
        except devices.DeviceError as e:
            raise _Failure(FailedReport("device", str(e), "pick another --device")) from None
        if cfg.amp != "off" and dev.type != "cuda":
            notices.append(f"mixed precision ({cfg.amp}) is used on CUDA only; training in float32 on {dev.type}")
        self.dev = dev
        self.device_name = devices.describe(dev)

        if cfg.threads:
            torch.set_num_threads(cfg.threads)
        torch.manual_seed(cfg.seed)  # also seeds every CUDA device: weight init and dropout
        if dev.type == "cuda":
            torch.backends.cudnn.deterministic = True
            torch.backends.cudnn.benchmark = False
        self.gen = torch.Generator().manual_seed(cfg.seed)  # data order and augmentation (CPU: same on any device)
        try:
            model = compile_graph(graph, analysis)
        except CompileError as e:
            raise _Failure(FailedReport("graph", str(e))) from None
        self.channels_last = cfg.channels_last and len(analysis.input_shape) == 3
        try:
            model = model.to(dev, memory_format=torch.channels_last) if self.channels_last else model.to(dev)
            self.data = self.dataset.to(dev)
        except Exception as e:
            if _is_oom(e):
                raise _Failure(FailedReport("oom", f"the model or data set does not fit in {self.device_name} memory",
                                            "use a smaller model or data set, or --device cpu")) from None
            raise
        self.model = model.train()
        self.opt = build_optimizer(model, cfg)
        self.scaler = torch.amp.GradScaler("cuda") if cfg.amp == "fp16" and dev.type == "cuda" else None
        self.criterion = nn.CrossEntropyLoss(label_smoothing=cfg.label_smoothing)
        self.units = layer_units(model)
        self.stats = LayerStats(model, self.units, dev) if cfg.stats_every else None

        n = self.data.x_train.shape[0]
        self.n_train = n
        self.steps_per_epoch = steps_per_epoch(n, cfg.batch_size)
        self.total_steps = cfg.epochs * self.steps_per_epoch
        if cfg.max_steps is not None:
            self.total_steps = min(self.total_steps, cfg.max_steps)
        acc_dtype = torch.float32 if dev.type == "mps" else torch.float64  # MPS has no float64
        self.loss_sum = torch.zeros((), dtype=acc_dtype, device=dev)
        self.correct = torch.zeros((), dtype=torch.int64, device=dev)
        self.seen = 0
        self.epoch, self.step, self.batch, self.order = 0, 0, 0, None
        if ckpt is not None:
            self._restore(ckpt)
        self.writer = None
        if cfg.out_dir:
            out = Path(cfg.out_dir)
            try:
                self.writer = MetricsWriter(out)
                save_graph(graph, out / "graph.json")
                (out / "config.json").write_text(json.dumps(cfg.to_dict(), indent=1) + "\n")
            except OSError as e:
                raise _Failure(FailedReport("config", f"cannot write to {out}: {e.strerror or e}",
                                            "choose another --out folder")) from None
        return StartedReport(device=self.device_name, params=sum(p.numel() for p in model.parameters()),
                             epochs=cfg.epochs, steps_per_epoch=self.steps_per_epoch, total_steps=self.total_steps,
                             start_epoch=self.epoch, start_step=self.step, train_samples=n,
                             val_samples=int(self.data.x_val.shape[0]), unit_keys=[u.key for u in self.units],
                             unit_node_ids=[u.node_id for u in self.units], notices=notices)

    def _load_resume(self) -> Checkpoint | None:
        if self.resume is None:
            if self.graph is None:
                raise _Failure(FailedReport("graph", "no network given", "build or open an architecture first"))
            self.cfg = self.cfg or TrainConfig()
            return None
        ckpt = self.resume
        if not isinstance(ckpt, Checkpoint):
            try:
                ckpt = load_checkpoint(ckpt)
            except CheckpointError as e:
                raise _Failure(FailedReport("checkpoint", str(e), "pick a last.pt or best.pt of a run")) from None
        self.graph = self.graph or ckpt.graph
        self.cfg = self.cfg or ckpt.config
        return ckpt

    def _fit_graph(self, graph: Graph, notices: list[str]):
        a = analyze(graph)
        if not a.valid:
            raise _Failure(FailedReport("graph", a.errors[0].text))
        ds = self.dataset
        want_in, want_out = tuple(ds.input_shape), (ds.num_classes,)
        if tuple(a.input_shape) != want_in or tuple(a.output_shape) != want_out:
            if not self.cfg.adapt:
                raise _Failure(FailedReport(
                    "data", f"the network takes {fmt_shape(a.input_shape)} and gives {fmt_shape(a.output_shape)} "
                            f"but {ds.name} has {fmt_shape(want_in)} images in {ds.num_classes} classes",
                    "set the Input's shape and the classifier's outputs, or allow adapting"))
            graph, changes = adapt_to_data(graph, want_in, ds.num_classes)
            a = analyze(graph)
            if changes:
                notices.append(f"adapted '{graph.name}' to {ds.name}: " + "; ".join(changes))
            if not a.valid:
                raise _Failure(FailedReport("graph", f"after fitting to {ds.name} ({fmt_shape(want_in)}): "
                                                     f"{a.errors[0].text}"))
            if tuple(a.output_shape) != want_out:
                raise _Failure(FailedReport(
                    "data", f"the network outputs {fmt_shape(a.output_shape)} but {ds.name} has {ds.num_classes} "
                            "classes", f"end it with Global avg pool → Flatten → Linear({ds.num_classes})"))
        return graph, a

    def _restore(self, ckpt: Checkpoint) -> None:
        try:
            self.model.load_state_dict(ckpt.model_state)
            if ckpt.optimizer_state is not None:
                self.opt.load_state_dict(ckpt.optimizer_state)
            if self.scaler is not None and ckpt.scaler_state:
                self.scaler.load_state_dict(ckpt.scaler_state)
        except (RuntimeError, ValueError, KeyError) as e:
            raise _Failure(FailedReport("checkpoint", f"the checkpoint does not fit this network ({e})".splitlines()[0],
                                        "resume with the graph and data set the run was started with")) from None
        rng = ckpt.rng
        if "data" in rng:
            self.gen.set_state(rng["data"])
        if "torch" in rng:
            torch.set_rng_state(rng["torch"])
        if rng.get("cuda") and self.dev.type == "cuda" and len(rng["cuda"]) == torch.cuda.device_count():
            torch.cuda.set_rng_state_all(rng["cuda"])
        self.epoch, self.step, self.batch = ckpt.epoch, ckpt.step, ckpt.batch
        self.order = ckpt.order if ckpt.batch else None
        loss_sum, correct, seen = ckpt.epoch_sums
        self.loss_sum.fill_(loss_sum)
        self.correct.fill_(int(correct))
        self.seen = int(seen)
        self.history = list(ckpt.history)
        self.best_val_acc, self.best_epoch = ckpt.best_val_acc, ckpt.best_epoch
        self.last_ckpt = ckpt.path

    # == the loop =====================================================================================
    def _train(self):
        cfg, ctl, model, opt = self.cfg, self.control, self.model, self.opt
        x_all, y_all = self.data.x_train, self.data.y_train
        bs, spe = cfg.batch_size, self.steps_per_epoch
        crop, flip = cfg.crop_padding, cfg.flip
        if crop or flip:
            from explorer.data.augment import augment_batch
        params = [p for p in model.parameters() if p.requires_grad]
        session_start_step = self.step
        last_log = (self.step, 0.0, float(self.loss_sum), float(self.correct), self.seen)
        lr = cfg.lr
        self.clock.start()
        while self.epoch < cfg.epochs and self.step < self.total_steps:
            if self.order is None:
                self.order = torch.randperm(self.n_train, generator=self.gen)
            order = self.order.to(self.dev)
            epoch_clock0, epoch_seen0 = self.clock.elapsed, self.seen
            while self.batch < spe:
                # -- between steps: the only place a run pauses or stops --------------------------------
                if ctl.paused and not ctl.stop_requested:
                    self.clock.stop()
                    yield StatusReport("paused", self.step)
                    ctl.wait_while_paused()
                    yield StatusReport("running", self.step)
                    self.clock.start()
                if ctl.stop_requested:
                    return (yield from self._finish("stopped"))
                if self.step >= self.total_steps:
                    return (yield from self._finish("completed"))

                idx = order[self.batch * bs:(self.batch + 1) * bs]
                x, y = x_all[idx], y_all[idx]
                if crop or flip:
                    x = augment_batch(x, crop, flip, self.gen)
                if self.channels_last:
                    x = x.contiguous(memory_format=torch.channels_last)
                lr = cfg.lr * lr_factor(self.step, self.total_steps, spe, cfg)
                for g in opt.param_groups:
                    g["lr"] = lr
                sample = self.stats is not None and self.step % cfg.stats_every == 0
                if sample:
                    self.stats.arm()
                with devices.autocast(self.dev, cfg.amp):
                    out = model(x)
                    loss = self.criterion(out, y)
                opt.zero_grad(set_to_none=True)
                if self.scaler is not None:
                    self.scaler.scale(loss).backward()
                else:
                    loss.backward()
                if sample:
                    self.stats.disarm()
                if self.scaler is not None and (cfg.grad_clip or sample):
                    self.scaler.unscale_(opt)  # clip and measure true gradients, not scaled ones
                if cfg.grad_clip:
                    torch.nn.utils.clip_grad_norm_(params, cfg.grad_clip)  # stays on the device
                if sample:
                    self.stats.before_step()
                    scale = self.scaler._scale.clone() if self.scaler is not None else None
                if self.scaler is not None:
                    self.scaler.step(opt)
                    self.scaler.update()
                else:
                    opt.step()
                self.loss_sum.add_(loss.detach(), alpha=y.shape[0])
                self.correct.add_((out.detach().argmax(1) == y).sum())
                self.seen += y.shape[0]
                self.trained += y.shape[0]
                self.step += 1
                self.batch += 1
                if sample:  # read at the next log point, after its sync
                    self.pending_stats.append((self.step, self.epoch + 1, self.stats.after_step(scale)))
                del out, loss, x, y
                if self.step % cfg.log_every == 0 or self.batch == spe or self.step >= self.total_steps:
                    # Sync point: the host reads the running sums once per log interval.
                    loss_total, correct_total = torch.stack((self.loss_sum, self.correct.to(self.loss_sum.dtype))).tolist()
                    prev_step, prev_t, prev_loss, prev_correct, prev_seen = last_log
                    n = self.seen - prev_seen
                    if not math.isfinite(loss_total):
                        return self._nan_report(lr)
                    yield from self._flush_stats()
                    t = self.clock.elapsed
                    done = self.step - session_start_step
                    per_step = t / done if done else 0.0
                    left_epochs = cfg.epochs - self.epoch - (1 if self.batch == spe else 0)
                    per_val = self.val_seconds / self.val_count if self.val_count else 0.0
                    eta = (self.total_steps - self.step) * per_step + per_val * left_epochs
                    report = StepReport(self.epoch + 1, cfg.epochs, self.step, self.total_steps, self.batch, spe,
                                        (loss_total - prev_loss) / max(1, n), (correct_total - prev_correct) / max(1, n),
                                        lr, n / max(1e-9, t - prev_t), t, eta)
                    last_log = (self.step, t, loss_total, correct_total, self.seen)
                    if self.writer:
                        self.writer.step(report)
                    yield from self._emit(report)
            # -- end of epoch --------------------------------------------------------------------------
            epoch_seconds = self.clock.elapsed - epoch_clock0
            self.clock.stop()
            v0 = time.perf_counter()
            val_loss, val_acc = self._evaluate() if cfg.validate else (None, None)
            self.val_seconds += time.perf_counter() - v0
            self.val_count += 1
            train_loss = loss_total / max(1, self.seen)
            train_acc = correct_total / max(1, self.seen)
            self.epoch += 1
            best = val_acc is not None and (self.best_val_acc is None or val_acc > self.best_val_acc)
            if best:
                self.best_val_acc, self.best_epoch = val_acc, self.epoch
            er = EpochReport(self.epoch, cfg.epochs, train_loss, train_acc, val_loss, val_acc, lr,
                             (self.seen - epoch_seen0) / max(1e-9, epoch_seconds), epoch_seconds, best)
            self.history.append({"epoch": self.epoch, "step": self.step, "train_loss": train_loss,
                                 "train_acc": train_acc, "val_loss": val_loss, "val_acc": val_acc, "lr": lr,
                                 "samples_per_s": er.samples_per_s, "seconds": epoch_seconds})
            self.batch, self.order, self.seen = 0, None, 0
            self.loss_sum.zero_()
            self.correct.zero_()
            last_log = (self.step, self.clock.elapsed, 0.0, 0.0, 0)
            if self.writer:
                self.writer.epoch(er, self.step)
            yield from self._emit(er)
            if cfg.out_dir:
                yield from self._save("last")
                if best:
                    yield from self._save("best")
            self.clock.start()
        return (yield from self._finish("completed"))

    @torch.no_grad()
    def _evaluate(self) -> tuple[float | None, float | None]:
        x_all, y_all = self.data.x_val, self.data.y_val
        n = x_all.shape[0]
        if n == 0:
            return None, None
        self.model.eval()
        loss_sum = torch.zeros((), dtype=self.loss_sum.dtype, device=self.dev)
        correct = torch.zeros((), dtype=torch.int64, device=self.dev)
        bs = self.cfg.batch_size
        for start in range(0, n, bs):
            if self.control.stop_requested:
                self.model.train()
                return None, None
            x, y = x_all[start:start + bs], y_all[start:start + bs]
            if self.channels_last:
                x = x.contiguous(memory_format=torch.channels_last)
            with devices.autocast(self.dev, self.cfg.amp):
                out = self.model(x)
            loss_sum += nn.functional.cross_entropy(out.float(), y, reduction="sum")
            correct += (out.argmax(1) == y).sum()
        self.model.train()
        loss, right = torch.stack((loss_sum, correct.to(loss_sum.dtype))).tolist()  # sync point: once per epoch
        return loss / n, right / n

    # == endings ======================================================================================
    def _finish(self, status: str):
        cfg = self.cfg
        devices.synchronize(self.dev)
        yield from self._flush_stats()
        self.clock.stop()
        if cfg.out_dir and (self.batch or not self.history or self.history[-1]["step"] != self.step):
            yield from self._save("last")  # mid-epoch state, so a stopped run resumes where it stopped
        last = self.history[-1] if self.history else None
        if last is not None:
            train_loss, train_acc = last["train_loss"], last["train_acc"]
        else:  # not even one epoch: report the partial epoch
            loss_total, correct_total = torch.stack((self.loss_sum, self.correct.to(self.loss_sum.dtype))).tolist()
            train_loss = loss_total / self.seen if self.seen else None
            train_acc = correct_total / self.seen if self.seen else None
        return FinishedReport(status=status, epochs_done=self.epoch, steps=self.step, final_train_loss=train_loss,
                              final_train_acc=train_acc, final_val_loss=last["val_loss"] if last else None,
                              final_val_acc=last["val_acc"] if last else None, best_val_acc=self.best_val_acc,
                              best_epoch=self.best_epoch,
                              samples_per_s=self.trained / self.clock.total if self.clock.total > 0 else 0.0,
                              seconds=self.clock.total, device=self.device_name, checkpoint=self.last_ckpt,
                              history=list(self.history))

    def _nan_report(self, lr: float) -> FailedReport:
        self.clock.stop()
        where = f"epoch {self.epoch + 1}, by step {self.step}"
        keep = f"the last good checkpoint is {self.last_ckpt}" if self.last_ckpt else "no checkpoint was written yet"
        return FailedReport("nan", f"the training loss became NaN or infinite ({where}; learning rate {lr:.3g}); "
                                   "training stopped",
                            f"lower the learning rate, add warm-up or gradient clipping; {keep}",
                            epoch=self.epoch + 1, step=self.step, checkpoint=self.last_ckpt)

    def _oom_report(self, e: Exception) -> FailedReport:
        self.clock.stop()
        self.opt.zero_grad(set_to_none=True)
        if self.dev.type == "cuda":
            torch.cuda.empty_cache()
        bs = self.cfg.batch_size
        keep = f"; the last good checkpoint is {self.last_ckpt}" if self.last_ckpt else ""
        return FailedReport("oom", f"{self.device_name} ran out of memory with batch size {bs} "
                                   f"(epoch {self.epoch + 1}, step {self.step + 1})",
                            f"try --batch-size {max(1, bs // 2)}, --amp bf16 or a smaller model{keep}",
                            epoch=self.epoch + 1, step=self.step, batch_size=bs, checkpoint=self.last_ckpt)

    # == helpers ======================================================================================
    def _emit(self, report: Report):
        """Yield with the stopwatch off: the consumer's time is not training time."""
        running = self.clock._since is not None
        self.clock.stop()
        yield report
        if running:
            self.clock.start()

    def _flush_stats(self):
        """LayerStatsReports of the steps sampled since the last sync (their host copies are complete)."""
        pending, self.pending_stats = self.pending_stats, []
        for step, epoch, host in pending:
            report = LayerStatsReport(step, epoch, self.stats.keys, self.stats.node_ids, **LayerStats.arrays(host))
            if self.writer:
                self.writer.layers(report)
            yield from self._emit(report)

    def _save(self, kind: str):
        loss_total, correct_total = torch.stack((self.loss_sum, self.correct.to(self.loss_sum.dtype))).tolist()
        rng = {"data": self.gen.get_state(), "torch": torch.get_rng_state()}
        if self.dev.type == "cuda":
            rng["cuda"] = torch.cuda.get_rng_state_all()
        ds = self.dataset
        ckpt = Checkpoint(graph=self.graph, config=self.cfg, model_state=self.model.state_dict(),
                          optimizer_state=self.opt.state_dict(),
                          scaler_state=self.scaler.state_dict() if self.scaler is not None else None,
                          rng=rng, epoch=self.epoch, step=self.step, batch=self.batch,
                          order=self.order if self.batch else None,
                          epoch_sums=[loss_total, correct_total, float(self.seen)], history=list(self.history),
                          best_val_acc=self.best_val_acc, best_epoch=self.best_epoch,
                          data={"name": ds.name, "input_shape": list(ds.input_shape), "num_classes": ds.num_classes,
                                "classes": list(ds.classes)})
        running = self.clock._since is not None
        self.clock.stop()
        path = save_checkpoint(ckpt, Path(self.cfg.out_dir) / f"{kind}.pt")
        if kind == "last":
            self.last_ckpt = path
        yield CheckpointReport(path, kind, self.epoch, self.step)
        if running:
            self.clock.start()


def steps_per_epoch(n: int, batch_size: int) -> int:
    """Batches per epoch; the last may be short, but a lone last sample is left out (it changes every
    epoch): BatchNorm cannot normalise a batch of one."""
    if n > 1 and n % batch_size == 1:
        return n // batch_size
    return -(-n // batch_size)


def _is_oom(e: BaseException) -> bool:
    oom = getattr(torch, "OutOfMemoryError", None)
    return (oom is not None and isinstance(e, oom)) or (isinstance(e, RuntimeError) and "out of memory" in str(e).lower())
