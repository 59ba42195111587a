"""Learning-rate schedules from torch.optim.lr_scheduler (issue 17 item 22): the checkpoint holds the scheduler's
state and a resume continues the curve exactly; the training script's formula (optim.lr_factor) is the same curve."""
from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from explorer.train import StepReport, TrainConfig, TrainControl, load_checkpoint, run_training
from explorer.train.optim import lr_factor
from explorer.train.schedule import Schedule
from explorer.train.testing import random_dataset, tiny_graph

CFG = dict(epochs=3, batch_size=32, lr=0.1, log_every=1, stats_every=0, seed=3)


@pytest.fixture(scope="module")
def data():
    return random_dataset(n_train=128, n_val=32)


def _run(data, cfg=None, resume=None, stop_at=None):
    control, lrs = TrainControl(), []
    for r in run_training(None if resume else tiny_graph(), data, cfg, control, resume=resume):
        if isinstance(r, StepReport):
            lrs.append(r.lr)
            if r.step == stop_at:
                control.stop()
    return lrs


def _curve(schedule: Schedule, steps: int) -> list[float]:
    out = []
    for _ in range(steps):
        out.append(schedule.lr)
        schedule.step()
    return out


@pytest.mark.parametrize("schedule", ["cosine", "onecycle", "step"])
def test_a_resume_continues_the_schedulers_curve_exactly(schedule, data, tmp_path):
    full = _run(data, TrainConfig(**CFG, schedule=schedule, out_dir=str(tmp_path / "full")))
    first = _run(data, TrainConfig(**CFG, schedule=schedule, out_dir=str(tmp_path / "cut")), stop_at=5)
    saved = load_checkpoint(tmp_path / "cut" / "last.pt").scheduler_state
    assert saved["key"][0] == schedule and "last_epoch" in saved["scheduler"]
    second = _run(data, resume=load_checkpoint(tmp_path / "cut" / "last.pt"))
    assert len(full) == 12 and first + second == full  # the same rate at every step, bit for bit
    a = torch.load(tmp_path / "full" / "last.pt", weights_only=True)["model"]
    b = torch.load(tmp_path / "cut" / "last.pt", weights_only=True)["model"]
    assert all(torch.equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize("damage", [None, {"key": "other"}, {"key": None, "scheduler": {"last_epoch": "x"}}])
def test_an_old_or_damaged_scheduler_state_continues_the_curve_from_the_step(damage):
    cfg = TrainConfig(schedule="cosine", lr=0.2)
    whole = _curve(Schedule(cfg, 40, 10), 40)
    resumed = Schedule(cfg, 40, 10)
    if damage is not None and damage.get("key") is None:
        damage = {**damage, "key": list(resumed.key)}
    resumed.restore(damage, 17)
    assert _curve(resumed, 23) == pytest.approx(whole[17:], rel=1e-12)


@pytest.mark.parametrize("kw", [dict(schedule="constant", warmup_epochs=0), dict(schedule="warmup", warmup_epochs=2),
                                dict(schedule="cosine"), dict(schedule="step", step_epochs=3, step_gamma=0.5),
                                dict(schedule="step"), dict(schedule="onecycle"), dict(schedule="linear")])
@pytest.mark.parametrize("total, per_epoch", [(100, 10), (6, 6), (37, 5)])
def test_the_training_scripts_formula_is_the_schedulers_curve(kw, total, per_epoch):
    cfg = TrainConfig(lr=0.1, **kw)
    curve = _curve(Schedule(cfg, total, per_epoch), total)
    assert [c / cfg.lr for c in curve] == pytest.approx([lr_factor(s, total, per_epoch, cfg) for s in range(total)],
                                                        rel=1e-9, abs=1e-12)


def test_the_schedule_is_torchs():
    schedule = Schedule(TrainConfig(schedule="cosine"), 40, 10)
    assert isinstance(schedule.scheduler, torch.optim.lr_scheduler.SequentialLR)
    assert isinstance(Schedule(TrainConfig(schedule="onecycle"), 40, 10).scheduler, torch.optim.lr_scheduler.OneCycleLR)


junk = st.recursive(st.none() | st.booleans() | st.integers(-3, 10**6) | st.floats() | st.text(max_size=4),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
                    max_leaves=12)
FIELDS = ["last_epoch", "base_lrs", "_last_lr", "_schedulers", "_milestones", "T_max", "_step_count", "eta_min"]


@given(saved=st.dictionaries(st.sampled_from(FIELDS), junk, max_size=5), step=st.integers(0, 30))
def test_any_saved_scheduler_state_resumes_on_the_curve_or_from_the_step(saved, step):
    """The checkpoint's scheduler state is untrusted data: whatever it holds, a resume never fails and the
    rates stay finite; a state that does not load gives the curve from ``step``."""
    cfg = TrainConfig(schedule="cosine", lr=0.2)
    resumed = Schedule(cfg, 40, 10)
    resumed.restore({"key": list(resumed.key), "scheduler": saved}, step)
    rates = _curve(resumed, 5)
    assert all(math.isfinite(r) for r in rates)


@pytest.mark.parametrize("schedule, resume_at", [("warmup", 5), ("cosine", 5), ("step", 40), ("onecycle", 5)])
def test_no_scheduler_warning_before_or_after_a_resume(schedule, resume_at):
    """The empty pacer steps once per pacer: a resume before warm-up ends (its decay scheduler still to make its
    first checked step) warns of nothing, and the rates are those of the unbroken run."""
    import warnings

    cfg = TrainConfig(schedule=schedule, warmup_epochs=1.0 if schedule != "onecycle" else 0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        whole = Schedule(cfg, 90, 20)
        rates = []
        for _ in range(89):
            rates.append(whole.lr)
            whole.step()
        first = Schedule(cfg, 90, 20)
        for _ in range(resume_at):
            first.step()
        resumed = Schedule(cfg, 90, 20)
        resumed.restore(first.state_dict(), resume_at)
        again = []
        for _ in range(89 - resume_at):
            again.append(resumed.lr)
            resumed.step()
    assert again == rates[resume_at:]
