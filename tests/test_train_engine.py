"""The training engine: it learns, reports in order, stops/pauses between steps, and fails cleanly."""
import math
import threading

import pytest
import torch

from explorer.train import (CheckpointReport, EpochReport, FailedReport, FinishedReport, LayerStatsReport,
                            StartedReport, StatusReport, StepReport, TrainConfig, TrainControl, load_checkpoint,
                            run_training, train_module)
from explorer.train import engine
from explorer.train.testing import random_dataset, tiny_graph

FAST = dict(epochs=2, batch_size=32, lr=0.2, log_every=1, stats_every=2, warmup_epochs=0)


pytestmark = pytest.mark.usefixtures("one_thread")   # conftest: torch on one thread for the module


@pytest.fixture(scope="module")
def data():
    return random_dataset(n_train=256, n_val=64)


def collect(*args, **kw):
    return list(run_training(*args, **kw))


def test_loss_decreases_and_reports_arrive_in_order(data):
    reports = collect(tiny_graph(), data, TrainConfig(**{**FAST, "epochs": 4}))
    assert isinstance(reports[0], StartedReport) and isinstance(reports[-1], FinishedReport)
    assert sum(isinstance(r, (FinishedReport, FailedReport)) for r in reports) == 1
    epochs = [r for r in reports if isinstance(r, EpochReport)]
    assert [e.epoch for e in epochs] == [1, 2, 3, 4]
    assert epochs[-1].train_loss < 0.7 * epochs[0].train_loss
    assert epochs[-1].val_acc > 0.5
    steps = [r for r in reports if isinstance(r, StepReport)]
    assert [s.step for s in steps] == list(range(1, 33))  # log_every=1, 8 steps per epoch
    assert all(s.samples_per_s > 0 and 0 <= s.acc <= 1 and s.lr > 0 for s in steps)
    fin = reports[-1]
    assert fin.status == "completed" and fin.epochs_done == 4 and fin.steps == 32 and fin.device == "cpu"
    assert fin.final_train_loss == epochs[-1].train_loss and fin.final_val_acc == epochs[-1].val_acc
    assert set(fin.summary()) >= {"final_train_loss", "final_val_loss", "final_val_acc", "samples_per_s", "device",
                                  "epochs"}
    # Plain data only: nothing a report carries may hold a tensor (reports cross threads).
    for r in reports:
        for v in vars(r).values():
            assert not isinstance(v, torch.Tensor)


def test_layer_stats_reports_cover_every_unit(data):
    reports = collect(tiny_graph(blocks=3), data, TrainConfig(**FAST))
    started = reports[0]
    assert started.unit_keys == ["stem_conv", "stem_bn", "stage1[0]", "stage1[1]", "stage1[2]", "classifier"]
    assert started.unit_node_ids[2:5] == ["stage1"] * 3
    stats = [r for r in reports if isinstance(r, LayerStatsReport)]
    assert [s.step for s in stats] == list(range(1, 17, 2))  # every 2nd step, starting with the first
    for s in stats:
        assert s.keys == started.unit_keys
        for arr in (s.grad_norm, s.weight_norm, s.update_ratio, s.output_grad_norm):
            assert arr.shape == (6,) and arr.dtype.kind == "f" and (arr > 0).all() and (arr < 1e4).all()


def test_stats_off_sends_no_layer_reports(data):
    reports = collect(tiny_graph(), data, TrainConfig(**{**FAST, "stats_every": 0, "epochs": 1}))
    assert not any(isinstance(r, LayerStatsReport) for r in reports)
    assert isinstance(reports[-1], FinishedReport)


def step_losses(reports):
    return [r.loss for r in reports if isinstance(r, StepReport)]


def test_same_seed_same_run_and_other_seed_differs(data):
    """Weights, dropout masks and data order all come from the seed: every logged loss repeats."""
    def losses(seed):
        cfg = TrainConfig(**{**FAST, "epochs": 1, "seed": seed, "stats_every": 0})
        return step_losses(collect(tiny_graph(dropout=0.3), data, cfg))
    assert losses(3) == losses(3)
    assert losses(3) != losses(4)


def test_a_run_leaves_process_wide_torch_state_alone(data):
    """Thread count, the global RNG and cuDNN flags are the application's; the run draws from its own
    streams, so a consumer drawing random numbers between reports changes nothing in the run either."""
    threads = torch.get_num_threads()
    cudnn = (torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark)
    cfg = TrainConfig(**{**FAST, "epochs": 1, "threads": threads + 1, "crop_padding": 1})
    torch.manual_seed(1234)
    before = torch.get_rng_state()
    quiet = step_losses(collect(tiny_graph(dropout=0.3), data, cfg))
    assert torch.get_num_threads() == threads
    assert torch.equal(torch.get_rng_state(), before)
    assert (torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark) == cudnn
    noisy = []
    for r in run_training(tiny_graph(dropout=0.3), data, cfg):
        torch.rand(3)  # the consumer's own draws, between the run's steps
        noisy.append(r)
    assert step_losses(noisy) == quiet


def test_stop_ends_before_the_next_step(data):
    control = TrainControl()
    seen = []
    for r in run_training(tiny_graph(), data, TrainConfig(**FAST), control):
        seen.append(r)
        if isinstance(r, StepReport) and r.step == 3:
            control.stop()
    fin = seen[-1]
    assert isinstance(fin, FinishedReport) and fin.status == "stopped" and fin.steps == 3
    assert max(r.step for r in seen if isinstance(r, StepReport)) == 3


class WatchedControl(TrainControl):
    """A TrainControl that tells the test when the run blocks waiting for resume, and when it goes on."""

    def __init__(self):
        super().__init__()
        self.waiting, self.woke = threading.Event(), threading.Event()

    def wait_while_paused(self, poll_s: float = 0.2) -> None:
        self.waiting.set()
        super().wait_while_paused(poll_s)
        self.woke.set()


def test_pause_resume_stop_from_another_thread(data, monkeypatch):
    """The window's worker iterates the generator in a thread; the GUI thread pauses and stops it. The worker
    hands over at fixed points (events), so every interleaving here is decided, not timed."""
    forwards = {"n": 0, "after_stop": 0}
    control = WatchedControl()
    real = engine.compile_graph

    def counting(graph, analysis=None):
        m = real(graph, analysis)
        orig = m.forward

        def forward(x):
            forwards["n"] += 1
            forwards["after_stop"] += control.stop_requested
            return orig(x)
        m.forward = forward
        return m

    monkeypatch.setattr(engine, "compile_graph", counting)
    reports = []
    stepped, paused_by_gui, resumed_step = threading.Event(), threading.Event(), threading.Event()
    stop_given = threading.Event()

    def worker():
        for r in run_training(tiny_graph(), data, TrainConfig(**{**FAST, "epochs": 50, "validate": False}), control):
            reports.append(r)
            if isinstance(r, StepReport) and not stepped.is_set():
                stepped.set()
                assert paused_by_gui.wait(20)       # the GUI thread pauses before the next step
            elif isinstance(r, StepReport) and control.woke.is_set() and not resumed_step.is_set():
                resumed_step.set()
                assert stop_given.wait(20)          # ... and stops before the next one

    t = threading.Thread(target=worker)
    t.start()
    assert stepped.wait(20)
    control.pause()
    paused_by_gui.set()
    assert control.waiting.wait(20)                 # the run blocks between steps ...
    paused = reports[-1]
    assert isinstance(paused, StatusReport) and paused.state == "paused" and paused.step == forwards["n"] == 1
    control.resume()
    assert resumed_step.wait(20)                    # ... and goes on once resumed
    control.stop()
    stop_given.set()
    t.join(20)
    assert not t.is_alive()
    states = [r.state for r in reports if isinstance(r, StatusReport)]
    assert states == ["paused", "running"]
    fin = reports[-1]
    assert isinstance(fin, FinishedReport) and fin.status == "stopped" and fin.steps == forwards["n"] == 2
    assert forwards["after_stop"] == 0              # no step started after stop()


def test_stop_while_paused_ends_the_run(data):
    control = TrainControl()
    out = []
    for r in run_training(tiny_graph(), data, TrainConfig(**FAST), control):
        out.append(r)
        if isinstance(r, StepReport) and r.step == 2:
            control.pause()
        if isinstance(r, StatusReport) and r.state == "paused":
            control.stop()
    assert isinstance(out[-1], FinishedReport) and out[-1].status == "stopped" and out[-1].steps == 2


def test_nan_loss_stops_with_a_reason_and_keeps_the_last_good_checkpoint(tmp_path):
    ds = random_dataset(n_train=128, n_val=32)
    out = []
    for r in run_training(tiny_graph(), ds, TrainConfig(**{**FAST, "epochs": 3, "out_dir": str(tmp_path)})):
        out.append(r)
        if isinstance(r, EpochReport) and r.epoch == 1:
            ds.x_train[:] = float("nan")  # poison the data after the first epoch's checkpoint
    fail = out[-1]
    assert isinstance(fail, FailedReport) and fail.kind == "nan"
    assert "NaN" in fail.reason and "learning rate" in fail.advice
    assert fail.epoch == 2 and fail.checkpoint == str(tmp_path / "last.pt")
    assert not any(isinstance(r, FinishedReport) for r in out)
    raw = torch.load(tmp_path / "last.pt", map_location="cpu", weights_only=True)
    assert all(torch.isfinite(t).all() for t in raw["model"].values() if t.is_floating_point())
    ckpt = load_checkpoint(tmp_path / "last.pt")
    assert ckpt.epoch == 1 and ckpt.step == 4


def test_out_of_memory_is_reported_with_the_batch_size(data, monkeypatch):
    real = engine.compile_graph

    def oom_on_third_step(graph, analysis=None):
        m = real(graph, analysis)
        calls = [0]
        orig = m.forward

        def forward(x):
            calls[0] += 1
            if calls[0] == 3:
                raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 8.00 GiB total capacity)")
            return orig(x)
        m.forward = forward
        return m

    monkeypatch.setattr(engine, "compile_graph", oom_on_third_step)
    reports = collect(tiny_graph(), data, TrainConfig(**FAST))
    fail = reports[-1]
    assert isinstance(fail, FailedReport) and fail.kind == "oom" and fail.batch_size == 32
    assert "batch size 32" in fail.reason and "--batch-size 16" in fail.advice
    assert fail.step == 2


def test_other_errors_are_not_swallowed(data, monkeypatch):
    real = engine.compile_graph

    def broken(graph, analysis=None):
        m = real(graph, analysis)
        m.forward = lambda x: (_ for _ in ()).throw(ZeroDivisionError("a bug"))
        return m

    monkeypatch.setattr(engine, "compile_graph", broken)
    with pytest.raises(ZeroDivisionError):
        collect(tiny_graph(), data, TrainConfig(**FAST))


@pytest.mark.parametrize("change, kind, words", [
    ({"epochs": 0}, "config", "epochs"),
    ({"optimizer": "lbfgs"}, "config", "optimizer"),
    ({"device": "tpu"}, "device", "tpu"),
    ({"nesterov": True, "momentum": 0.0}, "config", "Nesterov"),
])
def test_bad_settings_fail_before_the_first_step(data, change, kind, words):
    reports = collect(tiny_graph(), data, TrainConfig(**{**FAST, **change}))
    assert len(reports) == 1 and isinstance(reports[0], FailedReport)
    assert reports[0].kind == kind and words in reports[0].reason


def test_invalid_graph_fails_with_the_graph_problem(data):
    g = tiny_graph()
    g.remove_node("output")
    (r,) = collect(g, data, TrainConfig(**FAST))
    assert r.kind == "graph" and "Output" in r.reason


def test_mismatched_network_is_adapted_with_a_notice_or_refused(data):
    g = tiny_graph(classes=7, input_shape=(3, 16, 16))
    reports = collect(g, data, TrainConfig(**{**FAST, "epochs": 1}))
    assert isinstance(reports[-1], FinishedReport)
    (notice,) = reports[0].notices
    assert "3×16×16 → 1×8×8" in notice and "7 → 4" in notice
    assert g.node("input").params["shape"] == [3, 16, 16]  # the caller's graph is untouched
    (r,) = collect(g, data, TrainConfig(**{**FAST, "adapt": False}))
    assert r.kind == "data" and "1×8×8" in r.reason


def test_checkpoint_reports_and_files(tmp_path, data):
    reports = collect(tiny_graph(), data, TrainConfig(**{**FAST, "out_dir": str(tmp_path)}))
    kinds = [(r.kind, r.epoch) for r in reports if isinstance(r, CheckpointReport)]
    assert ("last", 1) in kinds and ("last", 2) in kinds and ("best", 1) in kinds
    for name in ("last.pt", "best.pt", "graph.json", "config.json", "metrics.csv", "steps.csv", "layer_stats.csv"):
        assert (tmp_path / name).exists(), name
    lines = (tmp_path / "metrics.csv").read_text().splitlines()
    assert lines[0].startswith("epoch,step,train_loss") and len(lines) == 3
    assert reports[-1].checkpoint == str(tmp_path / "last.pt")


def test_augmentation_label_smoothing_clipping_and_adam_train(data):
    cfg = TrainConfig(**{**FAST, "epochs": 3, "optimizer": "adamw", "lr": 0.01, "crop_padding": 1, "flip": True,
                         "label_smoothing": 0.1, "grad_clip": 1.0, "schedule": "onecycle"})
    epochs = [r for r in run_training(tiny_graph(dropout=0.2), data, cfg) if isinstance(r, EpochReport)]
    assert len(epochs) == 3 and all(math.isfinite(e.train_loss) for e in epochs)
    assert epochs[-1].train_loss < epochs[0].train_loss


def test_max_steps_ends_early_and_a_batch_of_one_is_never_formed():
    ds = random_dataset(n_train=65, n_val=8)  # 65 = 2 × 32 + 1: the lone sample would break BatchNorm1d
    g = tiny_graph()
    reports = collect(g, ds, TrainConfig(**{**FAST, "epochs": 1}))
    assert reports[0].steps_per_epoch == 2 and isinstance(reports[-1], FinishedReport)
    reports = collect(g, ds, TrainConfig(**{**FAST, "epochs": 5, "max_steps": 3}))
    assert reports[-1].steps == 3 and reports[-1].status == "completed"


def test_train_module_returns_the_trained_network(data):
    m = train_module(tiny_graph(), data, TrainConfig(**{**FAST, "epochs": 3}))
    assert not m.training
    with torch.no_grad():
        acc = (m(data.x_val).argmax(1) == data.y_val).float().mean().item()
    assert acc > 0.5


def test_finite_divergence_stops_like_nan_and_keeps_the_last_good_checkpoint(tmp_path):
    """A learning rate far too high blows the weights up while the loss stays finite: the run fails
    ("diverged") with the learning rate to change, and last.pt keeps the weights from before. Two steps an
    epoch: epoch 2 ends with the loss already blown up but before the guard's three intervals, and must
    not be saved."""
    ds = random_dataset(n_train=64, n_val=16)
    cfg = TrainConfig(**{**FAST, "epochs": 1, "stats_every": 0, "out_dir": str(tmp_path)})
    assert isinstance(collect(tiny_graph(), ds, cfg)[-1], FinishedReport)
    good = load_checkpoint(tmp_path / "last.pt")
    out = collect(None, ds, cfg.replace(epochs=4, lr=999.0), resume=tmp_path)
    fail = out[-1]
    assert isinstance(fail, FailedReport) and fail.kind == "diverged", fail
    assert "diverged" in fail.reason and "learning rate" in fail.reason
    assert "--lr 0.05" in fail.advice and fail.checkpoint == str(tmp_path / "last.pt")
    assert fail.epoch == 3 and fail.step == 6   # steps 4, 5, 6 far above the start
    assert [r.epoch for r in out if isinstance(r, CheckpointReport)] == []   # the blown-up epoch 2 is not saved
    kept = load_checkpoint(tmp_path / "last.pt")
    assert kept.step == good.step == 2
    assert all(torch.equal(kept.model_state[k], v) for k, v in good.model_state.items())


def test_divergence_needs_several_intervals_far_above_the_start():
    from explorer.train.divergence import DivergenceGuard

    guard = DivergenceGuard(num_classes=10)       # start: chance level ln 10 = 2.3; limit 230
    assert guard.check(2.3 * 32, 2.3, 2.3) is None
    assert guard.check(0.0, 500.0, 2.3) is None and guard.suspect          # a spike: one interval ...
    assert guard.check(0.0, 2.0, 2.3) is None and not guard.suspect        # ... that passes
    assert [guard.check(0.0, 1e24, 2.3) for _ in range(3)] == [None, None, "diverged"]
    assert DivergenceGuard(10).check(float("inf"), 1.0, 2.3) == "nan"
    late = DivergenceGuard(10)
    late.check(0.0, 50.0, 50.0)                   # a network that starts high is measured from its start
    assert late.limit == 5000.0
