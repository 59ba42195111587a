"""What the compiled network and the engine's bookkeeping cost, measured against code a person would write.

Three sides train on the same data, batch and optimiser in one process:

- ``engine``: the training engine with every statistic on, reporting as often as it would in training
  (minus validation and files);
- ``plain``: the compiled network in the textbook loop (``PlainLoop``);
- ``reference``: the same architecture written by hand (``explorer.benchmarks.reference``, passed in
  by the caller, since benchmarks sit above this layer) in the same loop.

With ``compile``, a fourth side, ``compiled``: the engine with ``--compile`` and every statistic (its
compiling time is measured apart, as ``compile_warmup_s``, and kept out of the rates); and, where there is a
hand-written model, a fifth, ``reference_compiled``: that model under ``torch.compile`` in the same loop.
It is the yardstick for what compiling can give on this machine at all (``compile_speedup_of_reference``),
and for how close the engine comes to it (``compiled_ratio_vs_compiled_reference``).

They run interleaved in chunks whose order rotates each round, so a busy neighbour or a CPU clock change
hits all alike. Each side's figure is the median of its chunk rates (robust to the spikes of a shared
machine); a chunk is a whole number of statistics intervals (``default_chunk``), so every engine chunk pays
for its statistics samples.
The median over rounds of two sides' ratio within the round is a second, paired estimate, and its
scatter says how far any ratio can be trusted. Rounds go on past the requested steps until every ratio
is known to within ``PRECISION`` (or ``max_steps`` is reached); ``noisy`` is set, with a "too noisy"
warning, when one is still wider.
"""
from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import torch
from torch import nn

from explorer.compile import compile_graph
from explorer.network.adapt import adapt_to_data
from explorer.train import device as devices
from explorer.train.config import TrainConfig
from explorer.train.engine import run_training, steps_per_epoch
from explorer.train.failures import is_oom
from explorer.train.optim import build_optimizer
from explorer.train.reports import FailedReport, FinishedReport, StatusReport, StepReport

PRECISION = 0.01  # rounds go on until every ratio is known to ±1 %: enough to tell 0.98 from 1.0
MAX_FACTOR = 5    # ... but at most this many times the requested steps (a busy machine never gets there)

ReferenceBuilder = Callable[[tuple, int], nn.Module]  # (input shape, classes) -> module
Progress = Callable[[int, int, dict], None]            # (rounds done, rounds, {side: last chunk rate})


class BenchError(ValueError):
    """The benchmark could not run (the engine's FailedReport text, or a reference that does not match)."""


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
    # The hand-written model (None where there is no reference for the architecture).
    reference_samples_per_s: float | None
    ratio_vs_reference: float | None        # engine with statistics / hand-written model in a plain loop
    plain_ratio_vs_reference: float | None  # compiled network / hand-written model, both in a plain loop
    reference_chunks: list[float] | None
    spread: dict        # side -> interquartile range of its chunk rates / their median
    uncertainty: dict   # ratio name -> relative standard error of that ratio, from the paired rounds
    noisy: bool
    warning: str | None
    # Samples per second of process CPU time: what a neighbour's load barely moves (it takes wall time,
    # not this process's CPU time). Exact with one thread (--threads 1); with more, idle threads' spinning
    # counts too. A second opinion when ``noisy``, not the figure itself.
    cpu_samples_per_s: dict    # side -> median over its chunks
    cpu_ratios: dict           # ratio name (as above) -> ratio of those medians
    # With --compile (else None): the engine with --compile and every statistic, its ratio to the hand-written
    # model in eager mode, and the seconds compiling took (outside the rates).
    compiled_samples_per_s: float | None = None
    compiled_ratio_vs_reference: float | None = None
    compile_warmup_s: float | None = None
    compiled_chunks: list[float] | None = None
    # With --compile and a hand-written model: that model compiled, in the plain loop; the engine with
    # --compile over it; and what compiling gives the hand-written model (compiled / eager).
    reference_compiled_samples_per_s: float | None = None
    compiled_ratio_vs_compiled_reference: float | None = None
    compile_speedup_of_reference: float | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def benchmark(graph, dataset, config: TrainConfig | None = None, steps: int = 200, chunk: int | None = None,
              reference: ReferenceBuilder | None = None, progress: Progress | None = None, compile: bool = False,
              max_steps: int | None = None) -> BenchResult:
    """The engine keeps ``config``'s statistics interval (``stats_every``, at least 1: every statistic is
    on). ``chunk`` defaults to ``default_chunk``. ``reference`` builds the hand-written model for
    the data set's input shape and classes; it must have the compiled network's parameter count.
    ``steps`` per side are measured at least, ``max_steps`` (default ``MAX_FACTOR`` × steps) at most,
    until every ratio is known to ``PRECISION``; ``compile`` adds the engine with ``--compile``."""
    if chunk is None:
        chunk = default_chunk(config or TrainConfig())
    cfg = (config or TrainConfig())
    cfg = cfg.replace(validate=False, out_dir=None, stats_every=max(1, cfg.stats_every), max_steps=None,
                      log_every=min(cfg.log_every, chunk))
    chunk = -(-chunk // cfg.log_every) * cfg.log_every  # chunks end where the engine reports
    rounds = max(1, -(-steps // chunk))
    most = max(rounds, -(-(max_steps or MAX_FACTOR * steps) // chunk))
    n = int(dataset.x_train.shape[0])
    spe = steps_per_epoch(n, cfg.batch_size)
    total = (most + 1) * chunk
    cfg = cfg.replace(epochs=-(-total // spe) + 1)
    graph, _ = adapt_to_data(graph, dataset.input_shape, dataset.num_classes)

    engines = {"engine": EngineSide(run_training(graph, dataset, cfg))}
    if compile:
        engines["compiled"] = EngineSide(run_training(graph, dataset, cfg.replace(compile=True)))
    try:
        for side in engines.values():
            side.run(chunk)  # set-up and a warm-up chunk (the compiled engine compiles in it)
        if compile and engines["compiled"].compile_status is None and cfg.stats_every > 1:
            engines["compiled"].run(chunk)  # a chunk of one step ends before the step that compiles
        dev = devices.resolve_device(cfg.device)
        data = dataset.to(dev)
        sides: dict[str, object] = {**engines, "plain": PlainLoop(lambda: compile_graph(graph), data, cfg, dev)}
        if reference is not None:
            def build_ref() -> nn.Module:
                return reference(tuple(dataset.input_shape), dataset.num_classes)
            ref = PlainLoop(build_ref, data, cfg, dev)
            _check_same_size(sides["plain"].model, ref.model)
            sides["reference"] = ref
            if compile:
                sides["reference_compiled"] = PlainLoop(build_ref, data, cfg, dev, compile=True)
        skipped = None
        for name, side in list(sides.items()):
            if name not in engines:
                try:
                    side.run(chunk)  # its warm-up chunk (the compiled hand-written model compiles in it)
                except Exception as e:
                    if name != "reference_compiled" or is_oom(e):
                        raise
                    del sides[name]  # a failed compile (no C++ compiler, ...) costs the yardstick, not the run
                    first = (str(e).strip().splitlines() or [""])[0][:200]
                    skipped = (f"the hand-written model did not compile ({type(e).__name__}: {first}), so there "
                               "is no compiled yardstick")
        rates: dict[str, list[float]] = {name: [] for name in sides}
        cpu_rates: dict[str, list[float]] = {name: [] for name in sides}
        names = list(sides)
        r = 0
        while r < most and (r < rounds or _worst(rates) > PRECISION):
            samples = _samples(n, cfg.batch_size, (r + 1) * chunk, (r + 2) * chunk)
            k = r % len(names)
            for name in names[k:] + names[:k]:  # every side takes every place in the order equally often
                t, cpu = time.perf_counter(), time.process_time()
                sides[name].run(chunk)
                rates[name].append(samples / (time.perf_counter() - t))
                cpu_rates[name].append(samples / max(1e-9, time.process_time() - cpu))
            r += 1
            if progress is not None:
                progress(r, max(rounds, r + (_worst(rates) > PRECISION and r < most)),
                         {name: v[-1] for name, v in rates.items()})
    finally:
        for side in engines.values():
            side.close()
    compiled = engines.get("compiled")
    return _result(rates, cpu_rates, cfg, r * chunk, chunk, devices.describe(dev),
                   compiled.compile_status if compiled else None, skipped)


def default_chunk(cfg: TrainConfig) -> int:
    """Steps per chunk: the smallest multiple of the statistics interval (so that every engine chunk pays for
    its statistics) that spans the default log interval, so the engine syncs and reports as often as it does
    in training (statistics on every step are still logged every 10 steps, not every step)."""
    every = max(1, cfg.stats_every)
    return every * -(-TrainConfig().log_every // every)


RATIOS = {"ratio": ("engine", "plain"), "ratio_vs_reference": ("engine", "reference"),
          "plain_ratio_vs_reference": ("plain", "reference"), "compiled_ratio_vs_reference": ("compiled", "reference"),
          "compiled_ratio_vs_compiled_reference": ("compiled", "reference_compiled"),
          "compile_speedup_of_reference": ("reference_compiled", "reference")}


def _pairs(rates: dict[str, list[float]]) -> dict[str, tuple[str, str]]:
    """The ratios these sides make."""
    return {k: ab for k, ab in RATIOS.items() if ab[0] in rates and ab[1] in rates}


def _worst(rates: dict[str, list[float]]) -> float:
    """The largest uncertainty of any ratio so far."""
    return max(_uncertainty([a / b for a, b in zip(rates[x], rates[y])]) for x, y in _pairs(rates).values())


def _result(rates: dict[str, list[float]], cpu_rates: dict[str, list[float]], cfg: TrainConfig, steps: int,
            chunk: int, device: str, compile_status: StatusReport | None = None,
            skipped: str | None = None) -> BenchResult:
    med = {name: statistics.median(v) for name, v in rates.items()}
    cpu = {name: statistics.median(v) for name, v in cpu_rates.items()}
    pairs = _pairs(rates)
    uncertainty = {k: _uncertainty([a / b for a, b in zip(rates[ab[0]], rates[ab[1]])]) for k, ab in pairs.items()}
    worst = max(uncertainty.values())
    noisy = not worst <= PRECISION
    notes = []
    if noisy:
        how = (f"its ratios are only known to ±{worst:.1%} after {steps} steps per side" if math.isfinite(worst)
               else "too few chunks to tell how noisy it was")
        notes.append(f"too noisy: the machine was too busy for these ratios to be known to ±{PRECISION:.0%} ({how}); "
                     "rerun with more --steps or --max-steps on a quieter machine")
    if compile_status is not None and compile_status.state == "eager":
        notes.append(compile_status.detail + "; the compiled figures are eager ones")
    if skipped:
        notes.append(skipped)
    warning = "; ".join(notes) or None
    ref = med.get("reference")
    comp = med.get("compiled")
    ref_comp = med.get("reference_compiled")
    return BenchResult(
        med["engine"], med["plain"], med["engine"] / med["plain"],
        statistics.median(a / b for a, b in zip(rates["engine"], rates["plain"])),
        steps, chunk, cfg.batch_size, cfg.stats_every, device, rates["engine"], rates["plain"],
        ref, med["engine"] / ref if ref else None, med["plain"] / ref if ref else None, rates.get("reference"),
        {name: _spread(v) for name, v in rates.items()}, uncertainty, noisy, warning,
        cpu, {k: cpu[a] / cpu[b] for k, (a, b) in pairs.items()},
        comp, comp / ref if comp and ref else None, compile_status.seconds if compile_status else None,
        rates.get("compiled"), ref_comp, comp / ref_comp if comp and ref_comp else None,
        ref_comp / ref if ref_comp and ref else None)


def _spread(values: list[float]) -> float:
    """Interquartile range over median (0 for a single value)."""
    if len(values) < 2:
        return 0.0
    q1, _, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return (q3 - q1) / statistics.median(values)


def _uncertainty(ratios: list[float]) -> float:
    """Relative standard error of the median of ``ratios``, from their median absolute deviation (robust to
    the odd spike); infinite below three rounds, where the scatter cannot be estimated."""
    if len(ratios) < 3:
        return math.inf
    m = statistics.median(ratios)
    sigma = 1.4826 * statistics.median(abs(r - m) for r in ratios)
    return 1.2533 * sigma / math.sqrt(len(ratios)) / m


def _check_same_size(compiled: nn.Module, reference: nn.Module) -> None:
    a, b = (sum(p.numel() for p in m.parameters()) for m in (compiled, reference))
    if a != b:
        raise BenchError(f"the hand-written reference has {b:,} parameters but the compiled network {a:,}; "
                         "they are not the same architecture")


def _samples(n: int, bs: int, start: int, stop: int) -> int:
    """Samples in steps [start, stop) of an epoch-by-epoch pass with a short last batch."""
    spe = steps_per_epoch(n, bs)
    return sum(min(bs, n - (s % spe) * bs) for s in range(start, stop))


class EngineSide:
    """The engine's report generator, advanced one chunk at a time."""

    def __init__(self, reports):
        self.reports, self.done = reports, 0
        self.compile_status: StatusReport | None = None  # --compile: how compiling went (compiled or eager)

    def run(self, steps: int) -> None:
        """Pull reports until the engine has done ``steps`` more steps (a StepReport follows the host sync)."""
        self.done += steps
        for r in self.reports:
            if isinstance(r, FailedReport):
                raise BenchError(r.text)
            if isinstance(r, FinishedReport):
                raise BenchError("the engine finished before the benchmark did")
            if isinstance(r, StatusReport) and r.state in ("compiled", "eager"):
                self.compile_status = r
            if isinstance(r, StepReport) and r.step >= self.done:
                return
        raise BenchError("the engine stopped early")

    def close(self) -> None:
        self.reports.close()


class PlainLoop:
    """The textbook loop: shuffle per epoch, forward, loss, zero_grad, backward, step. Nothing else.

    ``build`` makes the module after the seed is set, so two loops of the same architecture start equal.
    ``compile``: full batches run ``torch.compile`` of it (compiled in the first chunk), the short last batch
    of an epoch runs it eager, as the engine's ``--compile`` does, so nothing is compiled twice."""

    def __init__(self, build: Callable[[], nn.Module], data, cfg: TrainConfig, dev: torch.device,
                 compile: bool = False):
        torch.manual_seed(cfg.seed)
        self.model = build().to(dev).train()
        if cfg.channels_last:
            self.model = self.model.to(memory_format=torch.channels_last)
        self.compiled: nn.Module | None = None if compile else self.model  # compiled on the first run
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
        if self.compiled is None:
            self.compiled = torch.compile(self.model, dynamic=False)
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
            net = self.compiled if x.shape[0] == bs else self.model
            with devices.autocast(self.dev, cfg.amp):
                loss = self.criterion(net(x), y)
            self.opt.zero_grad(set_to_none=True)
            if self.scaler is not None:
                self.scaler.scale(loss).backward()
                self.scaler.step(self.opt)
                self.scaler.update()
            else:
                loss.backward()
                self.opt.step()
        loss.item()  # wait for the device, as the engine's report does
