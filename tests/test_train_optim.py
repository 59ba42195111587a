"""Learning-rate schedules, optimisers and configuration checks."""
import math

import pytest
import torch

from explorer.train import ConfigError, TrainConfig
from explorer.train.optim import build_optimizer, lr_factor
from explorer.train.testing import tiny_graph

SPE, TOTAL = 10, 100


def curve(**kw):
    cfg = TrainConfig(**kw)
    return [lr_factor(s, TOTAL, SPE, cfg) for s in range(TOTAL)]


def test_constant_without_warmup_is_flat():
    assert curve(schedule="constant", warmup_epochs=0) == [1.0] * TOTAL


def test_linear_warmup_rises_then_holds():
    c = curve(schedule="warmup", warmup_epochs=2)
    assert c[0] < c[5] < c[19] < 1.0 and c[20:] == [1.0] * 80
    assert all(b > a for a, b in zip(c[:20], c[1:21]))


def test_cosine_decays_to_zero_after_warmup():
    c = curve(schedule="cosine", warmup_epochs=1)
    assert max(c) == pytest.approx(1.0, abs=0.01) and c.index(max(c)) == 10
    assert all(b <= a for a, b in zip(c[10:], c[11:])) and c[-1] < 1e-3


def test_step_divides_by_ten_at_half_and_three_quarters():
    c = curve(schedule="step", warmup_epochs=0)
    assert c[49] == 1.0 and c[50] == pytest.approx(0.1) and c[75] == pytest.approx(0.01)
    c = curve(schedule="step", warmup_epochs=0, step_epochs=3, step_gamma=0.5)
    assert c[29] == 1.0 and c[30] == 0.5 and c[60] == 0.25


def test_onecycle_rises_to_the_peak_then_anneals_far_below_the_start():
    c = curve(schedule="onecycle")
    peak = c.index(max(c))
    assert c[0] == pytest.approx(1 / 25) and peak == 29 and max(c) == pytest.approx(1.0)  # torch: pct·total − 1
    assert c[-1] < c[0] / 100


def test_linear_decay_and_the_warmup_cap():
    c = curve(schedule="linear", warmup_epochs=0)
    assert c[0] == 1.0 and c[50] == pytest.approx(0.5) and c[-1] == pytest.approx(0.01)
    short = [lr_factor(s, 6, 6, TrainConfig()) for s in range(6)]  # a 1-epoch run: warm-up capped at a third
    assert short[2] == pytest.approx(1.0)


@pytest.mark.parametrize("name, cls", [("sgd", torch.optim.SGD), ("adam", torch.optim.Adam),
                                       ("adamw", torch.optim.AdamW)])
def test_optimisers_decay_only_weights(name, cls):
    from explorer.compile import compile_graph
    model = compile_graph(tiny_graph())
    opt = build_optimizer(model, TrainConfig(optimizer=name, weight_decay=1e-3))
    assert isinstance(opt, cls)
    decay, no_decay = opt.param_groups
    assert decay["weight_decay"] == 1e-3 and all(p.ndim > 1 for p in decay["params"])
    assert no_decay["weight_decay"] == 0.0 and all(p.ndim == 1 for p in no_decay["params"])
    assert len(decay["params"]) + len(no_decay["params"]) == len(list(model.parameters()))
    if name == "sgd":
        assert decay["nesterov"] and decay["momentum"] == 0.9


@pytest.mark.parametrize("change", [dict(batch_size=0), dict(lr=0), dict(lr=math.nan), dict(schedule="exp"),
                                    dict(amp="fp8"), dict(label_smoothing=1.0), dict(grad_clip=-1),
                                    dict(epochs=2.5), dict(log_every=0), dict(momentum=1.0), dict(stats_every=-1)])
def test_config_check_refuses_out_of_range_settings(change):
    with pytest.raises(ConfigError):
        TrainConfig(**change).check()


def test_config_round_trips_and_ignores_unknown_keys():
    cfg = TrainConfig(optimizer="adamw", betas=(0.8, 0.9), out_dir="x")
    d = cfg.to_dict()
    assert TrainConfig.from_dict({**d, "from_the_future": 1}) == cfg
