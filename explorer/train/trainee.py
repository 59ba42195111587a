"""The model being trained, with its optimiser, loss and loss scaler: one optimiser step at a time, and
evaluation. Everything here runs inside the run's isolation (its own RNG streams and cuDNN flags) and
queues device work only: no ``.item()``, no host read; the engine reads the sums at the log interval.
"""
from __future__ import annotations

import torch
from torch import nn

from explorer.train import device as devices
from explorer.train.checkpoint import Checkpoint
from explorer.train.compiled import CompiledNetwork
from explorer.train.config import TrainConfig
from explorer.train.freezing import Freezing
from explorer.train.isolation import RunIsolation
from explorer.train.sampling import StatsSampler
from explorer.train.sums import MetricSums


class Trainee:
    def __init__(self, model: nn.Module, opt: torch.optim.Optimizer, cfg: TrainConfig, device: torch.device,
                 isolation: RunIsolation, sampler: StatsSampler, freezing: Freezing | None = None) -> None:
        self.model = model
        self.opt = opt
        self.dev = device
        self.isolation = isolation
        self.sampler = sampler
        self.amp, self.grad_clip = cfg.amp, cfg.grad_clip
        self.scaler = torch.amp.GradScaler("cuda") if cfg.amp == "fp16" and device.type == "cuda" else None
        self.criterion = nn.CrossEntropyLoss(label_smoothing=cfg.label_smoothing)
        self.params = list(model.parameters())  # clipping skips those without a gradient (frozen ones)
        self.freezing = freezing or Freezing(model, [])
        self.lr = cfg.lr
        self.compiled = CompiledNetwork(model, cfg.compile)

    def catch_up(self, epoch: int) -> None:
        """Release the frozen parts once 1-based ``epoch`` reaches ``--unfreeze-at``: before a step, and
        when a run resumes past that epoch, before its optimiser state (which holds their groups) is restored."""
        if self.freezing.due(epoch):
            self.freezing.unfreeze(self.opt)
            self.sampler.frozen_changed()
            self.set_lr(self.lr)

    @property
    def device_name(self) -> str:
        return devices.describe(self.dev)

    def set_lr(self, lr: float) -> None:
        """The schedule's rate, times each parameter group's multiplier (``--lr-mult``)."""
        self.lr = lr
        for g in self.opt.param_groups:
            g["lr"] = lr * g.get("lr_mult", 1.0)

    def compile_due(self, step: int) -> bool:
        """Whether the step with index ``step`` is the first that would run compiled (``--compile``)."""
        return self.compiled.pending and not self.sampler.due(step)

    def warm_up(self, x: torch.Tensor, y: torch.Tensor) -> None:
        """Compile the network with a practice forward and backward on this batch, undone afterwards: no
        gradient, BatchNorm statistic or random draw of it remains (see ``compiled.py``)."""
        buffers = [b.detach().clone() for b in self.model.buffers()]
        streams = self.isolation.state()

        def practice(net: nn.Module) -> None:
            with self.isolation.active():
                with devices.autocast(self.dev, self.amp):
                    loss = self.criterion(net(x), y)
                loss.backward()

        try:
            self.compiled.warm_up(practice, x)
        finally:
            self.opt.zero_grad(set_to_none=True)
            with torch.no_grad():
                for b, saved in zip(self.model.buffers(), buffers):
                    b.copy_(saved)
            self.isolation.restore(streams)

    def step(self, x: torch.Tensor, y: torch.Tensor, step: int, epoch: int) -> tuple[torch.Tensor, torch.Tensor]:
        """One optimiser step on a batch (``step`` steps done before it, in 1-based ``epoch``); returns the
        detached output and loss for the metric sums."""
        self.catch_up(epoch)
        sampler, scaler, opt = self.sampler, self.scaler, self.opt
        sample = sampler.due(step)
        with self.isolation.active():
            if sample:
                sampler.arm()
            with devices.autocast(self.dev, self.amp):
                out = self.compiled.module_for(x, sample)(x)
                loss = self.criterion(out, y)
            opt.zero_grad(set_to_none=True)
            if scaler is not None:
                scaled = scaler.scale(loss)
                scaled.backward()
            else:
                loss.backward()
            if sample:
                sampler.disarm()
            if scaler is not None and (self.grad_clip or sample):
                scaler.unscale_(opt)  # clip and measure true gradients, not scaled ones
            if self.grad_clip:
                torch.nn.utils.clip_grad_norm_(self.params, self.grad_clip)  # stays on the device
            scale = None
            if sample:
                sampler.before_step()
                if scaler is not None:  # the factor the hooked output gradients carry (a power of 2: exact)
                    scale = scaled.detach().float() / loss.detach().float()
            if scaler is not None:
                scaler.step(opt)
                scaler.update()
            else:
                opt.step()
            if sample:  # read at the next log point, after its sync
                sampler.after_step(step + 1, epoch, scale)
        return out.detach(), loss.detach()

    @torch.no_grad()
    def evaluate(self, batches, stop_requested) -> tuple[float | None, float | None]:
        """Mean loss and accuracy over the validation split; (None, None) without one or when stopped."""
        n = batches.data.x_val.shape[0]
        if n == 0:
            return None, None
        sums = MetricSums(self.dev)
        self.model.eval()
        try:
            with self.isolation.active():
                for x, y in batches.validation():
                    if stop_requested():
                        return None, None
                    with devices.autocast(self.dev, self.amp):
                        out = self.model(x)
                    sums.add(nn.functional.cross_entropy(out.float(), y, reduction="sum"), out, y, weight=1)
        finally:
            self.freezing.train_mode()
        totals = sums.read()  # sync point: once per epoch
        return totals.loss / n, totals.correct / n

    def layer_reports(self):
        """The per-layer statistics sampled since the last sync, as reports."""
        return self.sampler.reports()

    def synchronize(self) -> None:
        devices.synchronize(self.dev)

    def rng_state(self) -> dict:
        return self.isolation.state()

    def state(self) -> dict:
        return {"model_state": self.model.state_dict(), "optimizer_state": self.opt.state_dict(),
                "scaler_state": self.scaler.state_dict() if self.scaler is not None else None}

    def restore(self, ckpt: Checkpoint) -> None:
        """Load a checkpoint's weights and optimiser state; raises RuntimeError/ValueError/KeyError on a misfit."""
        self.model.load_state_dict(ckpt.model_state)
        if ckpt.optimizer_state is not None:
            self.opt.load_state_dict(ckpt.optimizer_state)
        if self.scaler is not None and ckpt.scaler_state:
            self.scaler.load_state_dict(ckpt.scaler_state)

    def release(self) -> None:
        """After running out of memory: drop the gradients and the allocator's cache."""
        self.opt.zero_grad(set_to_none=True)
        if self.dev.type == "cuda":
            torch.cuda.empty_cache()

    def close(self) -> None:
        self.sampler.close()
