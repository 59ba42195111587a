"""What the engine's bookkeeping costs: its throughput with every statistic on against a minimal
hand-written PyTorch loop on the same module, data, batch and optimiser, in one process.

The two run interleaved in chunks (engine, plain, plain, engine, ...), so a busy neighbour or a CPU
clock change hits both alike. Each side's figure is the median of its chunks' samples/s (robust to the
spikes of a shared machine); a chunk is one statistics interval, so every engine chunk pays for one
sample of statistics. The median over rounds of the two chunks' ratio is a second, paired estimate.
"""
from __future__ import annotations

import statistics
import time
from dataclasses import asdict, dataclass

import torch
from torch import nn

from explorer.compile import compile_graph
from explorer.network.adapt import adapt_to_data
from explorer.train import device as devices
from explorer.train.config import TrainConfig
from explorer.train.engine import run_training, steps_per_epoch
from explorer.train.optim import build_optimizer
from explorer.train.reports import FailedReport, FinishedReport, StepReport


class BenchError(ValueError):
    """The engine could not start (its FailedReport's text)."""


@dataclass(frozen=True)
class BenchResult:
    engine_samples_per_s: float
    plain_samples_per_s: float
    ratio: float          # engine / plain: the two medians
    paired_ratio: float   # median over rounds of engine / plain within the round: robust to a busy machine
    steps: int            # measured steps per side (after one warm-up chunk each)
    chunk: int
    batch_size: int
    stats_every: int
    device: str
    engine_chunks: list[float]
    plain_chunks: list[float]

    def to_dict(self) -> dict:
        return asdict(self)


def benchmark(graph, dataset, config: TrainConfig | None = None, steps: int = 200, chunk: int | None = None
              ) -> BenchResult:
    """The engine keeps ``config``'s statistics interval (``stats_every``, at least 1: every statistic is
    on) and reports as often as it would in training, minus validation and files. ``chunk`` defaults to
    the statistics interval."""
    if chunk is None:
        chunk = max(1, (config or TrainConfig()).stats_every)
    cfg = (config or TrainConfig())
    cfg = cfg.replace(validate=False, out_dir=None, stats_every=max(1, cfg.stats_every), max_steps=None,
                      log_every=min(cfg.log_every, chunk))
    chunk = -(-chunk // cfg.log_every) * cfg.log_every  # chunks end where the engine reports
    rounds = max(1, -(-steps // chunk))
    n = int(dataset.x_train.shape[0])
    spe = steps_per_epoch(n, cfg.batch_size)
    total = (rounds + 1) * chunk
    cfg = cfg.replace(epochs=-(-total // spe) + 1)
    graph, _ = adapt_to_data(graph, dataset.input_shape, dataset.num_classes)

    engine = run_training(graph, dataset, cfg)
    target = chunk
    _advance(engine, target)  # set-up and a warm-up chunk
    dev = devices.resolve_device(cfg.device)
    plain = _PlainLoop(graph, dataset.to(dev), cfg, dev)
    plain.run(chunk)  # its warm-up chunk

    e_rates, p_rates = [], []
    for r in range(rounds):
        first, second = ("engine", "plain") if r % 2 == 0 else ("plain", "engine")
        for side in (first, second):
            samples = _samples(n, cfg.batch_size, target, target + chunk)
            t = time.perf_counter()
            if side == "engine":
                _advance(engine, target + chunk)
            else:
                plain.run(chunk)
            dt = time.perf_counter() - t
            (e_rates if side == "engine" else p_rates).append(samples / dt)
        target += chunk
    engine.close()
    e, p = statistics.median(e_rates), statistics.median(p_rates)
    paired = statistics.median(a / b for a, b in zip(e_rates, p_rates))
    return BenchResult(e, p, e / p, paired, rounds * chunk, chunk, cfg.batch_size, cfg.stats_every, devices.describe(dev),
                       e_rates, p_rates)


def _advance(engine, step: int) -> None:
    """Pull reports until the engine has done ``step`` steps (a StepReport follows the host sync)."""
    for r in engine:
        if isinstance(r, FailedReport):
            raise BenchError(r.text)
        if isinstance(r, FinishedReport):
            raise BenchError("the engine finished before the benchmark did")
        if isinstance(r, StepReport) and r.step >= step:
            return
    raise BenchError("the engine stopped early")


def _samples(n: int, bs: int, start: int, stop: int) -> int:
    """Samples in steps [start, stop) of an epoch-by-epoch pass with a short last batch."""
    spe = steps_per_epoch(n, bs)
    return sum(min(bs, n - (s % spe) * bs) for s in range(start, stop))


class _PlainLoop:
    """The textbook loop: shuffle per epoch, forward, loss, zero_grad, backward, step. Nothing else."""

    def __init__(self, graph, data, cfg: TrainConfig, dev: torch.device):
        torch.manual_seed(cfg.seed)
        self.model = compile_graph(graph).to(dev).train()
        if cfg.channels_last:
            self.model = self.model.to(memory_format=torch.channels_last)
        self.opt = build_optimizer(self.model, cfg)
        self.scaler = torch.amp.GradScaler("cuda") if cfg.amp == "fp16" and dev.type == "cuda" else None
        self.criterion = nn.CrossEntropyLoss(label_smoothing=cfg.label_smoothing)
        self.x, self.y = data.x_train, data.y_train
        self.cfg, self.dev = cfg, dev
        self.gen = torch.Generator().manual_seed(cfg.seed)
        self.order, self.batch = None, 0
        self.spe = steps_per_epoch(int(self.x.shape[0]), cfg.batch_size)

    def run(self, steps: int) -> None:
        cfg, bs, n = self.cfg, self.cfg.batch_size, self.x.shape[0]
        if cfg.crop_padding or cfg.flip:
            from explorer.data.augment import augment_batch
        for _ in range(steps):
            if self.order is None or self.batch == self.spe:
                self.order, self.batch = torch.randperm(n, generator=self.gen).to(self.dev), 0
            idx = self.order[self.batch * bs:(self.batch + 1) * bs]
            self.batch += 1
            x, y = self.x[idx], self.y[idx]
            if cfg.crop_padding or cfg.flip:
                x = augment_batch(x, cfg.crop_padding, cfg.flip, self.gen)
            if cfg.channels_last:
                x = x.contiguous(memory_format=torch.channels_last)
            with devices.autocast(self.dev, cfg.amp):
                loss = self.criterion(self.model(x), y)
            self.opt.zero_grad(set_to_none=True)
            if self.scaler is not None:
                self.scaler.scale(loss).backward()
                self.scaler.step(self.opt)
                self.scaler.update()
            else:
                loss.backward()
                self.opt.step()
        loss.item()  # wait for the device, as the engine's report does
