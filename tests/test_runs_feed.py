"""Qt-free run bookkeeping: reports -> RunRecord, smoothing, CSV, the layer sidecar, intervals, folders."""
import csv
import math

import numpy as np
import pytest

from explorer.runs import RunRecord, RunStore
from explorer.runs.csv_io import write_curves_csv, write_matrix_csv
from explorer.runs.feed import LAYER_QUANTITIES, RunFeed, layer_capacity, node_of_key
from explorer.runs.layer_extras import delete_extra_layers, load_extra_layers, save_extra_layers
from explorer.runs.project import auto_intervals, runs_folder_for
from explorer.runs.smoothing import ema
from explorer.train import (EpochReport, FailedReport, FinishedReport, LayerStatsReport, StartedReport, StatusReport,
                            StepReport, TrainConfig)

KEYS = ["stem_conv", "stage1[0]", "stage1[1]", "classifier"]


def started(keys=KEYS, spe=5, total=10):
    return StartedReport("cpu", 123, 2, spe, total, 0, 0, 320, 80, keys, [node_of_key(k) for k in keys], ["adapted"])


def step(s, loss=1.0, spe=5):
    return StepReport((s - 1) // spe + 1, 2, s, 10, (s - 1) % spe + 1, spe, loss, 0.5, 0.1, 100.0, s * 0.1, 1.0)


def layers(s, values):
    v = np.asarray(values, dtype=float)
    return LayerStatsReport(s, 1, KEYS, [node_of_key(k) for k in KEYS], v, v * 2, v / 10, np.r_[v[:-1], np.nan])


def test_feed_turns_reports_into_series_and_status():
    rec = RunRecord("r", "resnet", "digits", {}, "{}")
    feed = RunFeed(rec)
    feed.apply(started())
    assert rec.status == "running" and feed.notices == ["adapted"] and rec.final["steps_per_epoch"] == 5
    assert set(feed.layers) == set(LAYER_QUANTITIES) and rec.layers is feed.layers["grad_norm"]
    for s in range(1, 6):
        feed.apply(step(s, loss=1.0 / s))
        feed.apply(layers(s, [1e-3, 1e-2, 1e-1, 1.0]))
    feed.apply(EpochReport(1, 2, 0.4, 0.6, 0.5, 0.7, 0.1, 100.0, 1.0, True))
    feed.apply(StatusReport("paused", 5))
    assert rec.status == "paused"
    feed.apply(StatusReport("running", 5))
    assert list(rec.series["train_loss"].x) == [1, 2, 3, 4, 5]
    assert list(rec.series["val_acc"].x) == [5] and rec.series["val_acc"].y[0] == 0.7
    assert rec.final["final_val_acc"] == 0.7
    assert np.allclose(feed.latest_values("grad_norm"), [1e-3, 1e-2, 1e-1, 1.0])
    assert np.allclose(rec.layers.log10[-1], [-3, -2, -1, 0])
    out = feed.latest_values("output_grad_norm")
    assert np.isnan(out[-1]) and out[0] == pytest.approx(1e-3)   # a layer no gradient reached stays NaN
    feed.apply(FinishedReport("stopped", 1, 5, 0.4, 0.6, 0.5, 0.7, 0.7, 1, 100.0, 1.0, "cpu", None))
    assert rec.status == "stopped" and rec.final["steps"] == 5 and "stopped after 5 steps" in rec.message
    assert not feed.active


def test_failed_report_keeps_reason_and_kind():
    rec = RunRecord("r", "a", "digits", {}, "{}")
    feed = RunFeed(rec)
    feed.apply(FailedReport("nan", "the loss became NaN", "lower the learning rate"))
    assert rec.status == "failed" and rec.message == "the loss became NaN; lower the learning rate"
    assert rec.final["failure"] == "nan"


def test_node_of_key_and_layer_capacity():
    assert node_of_key("stage2[3]") == "stage2" and node_of_key("stem_conv") == "stem_conv"
    assert layer_capacity(20) == 2048 and layer_capacity(1000) == 512 and layer_capacity(100_000) == 256
    assert all(layer_capacity(n) * n <= 1 << 19 for n in (256, 300, 1000, 2000))


@pytest.mark.parametrize("w", [0.05, 0.6, 0.9, 0.99])
def test_ema_matches_the_recursion(w):
    y = np.random.default_rng(0).normal(size=3000).cumsum()
    s, ref = 0.0, []
    for t, v in enumerate(y):
        s = w * s + (1 - w) * v
        ref.append(s / (1 - w ** (t + 1)))
    assert np.allclose(ema(y, w), ref, rtol=1e-9, atol=1e-9)


def test_ema_edge_cases():
    assert list(ema(np.array([1.0, 2.0]), 0.0)) == [1.0, 2.0]
    assert ema(np.array([]), 0.5).shape == (0,)
    s = ema(np.array([1.0, np.nan, 1.0, np.inf, 1.0]), 0.5)
    assert np.allclose(s, 1.0)                            # bad samples do not poison the curve


def test_csv_writers(tmp_path):
    n = write_curves_csv(tmp_path / "c.csv", [("a", "loss", [1, 2], [0.5, float("nan")]), ("b", "loss", [1], [0.25])])
    rows = list(csv.reader(open(tmp_path / "c.csv")))
    assert n == 3 and rows[0] == ["run", "series", "x", "y"] and rows[2] == ["a", "loss", "2", ""]
    n = write_matrix_csv(tmp_path / "m.csv", "step", ["l0", "l1"], [10, 20], [[1, 2], [3, 4]])
    rows = list(csv.reader(open(tmp_path / "m.csv")))
    assert n == 2 and rows == [["step", "l0", "l1"], ["10", "1", "2"], ["20", "3", "4"]]


def test_extra_layers_sidecar_round_trip(tmp_path):
    feed = RunFeed(RunRecord("r", "a", "digits", {}, "{}"))
    feed.apply(started())
    for s in (1, 2, 3):
        feed.apply(layers(s, [1e-3, 1e-2, 1e-1, 1.0]))
    extras = {k: v for k, v in feed.layers.items() if k != "grad_norm"}
    save_extra_layers(tmp_path, "abc", extras)
    back = load_extra_layers(tmp_path, "abc")
    assert set(back) == {"output_grad_norm", "update_ratio"}
    assert np.allclose(back["update_ratio"].log10, extras["update_ratio"].log10, atol=1e-4)
    assert np.isnan(back["output_grad_norm"].log10[:, -1]).all()
    (tmp_path / "bad.layers.json").write_text("{oops")
    assert load_extra_layers(tmp_path, "bad") == {} and load_extra_layers(tmp_path, "missing") == {}
    delete_extra_layers(tmp_path, "abc")
    assert load_extra_layers(tmp_path, "abc") == {}


def test_record_of_a_feed_round_trips_through_the_store(tmp_path):
    rec = RunRecord("r", "a", "digits", {"lr": 0.1}, "{}")
    feed = RunFeed(rec)
    feed.apply(started())
    for s in range(1, 4):
        feed.apply(step(s))
        feed.apply(layers(s, [1e-3, 1e-2, 1e-1, 1.0]))
    feed.apply(FinishedReport("completed", 0, 3, 0.4, 0.6, None, None, None, None, 100.0, 1.0, "cpu", None))
    RunStore(tmp_path).save(rec)
    (back,), problems = RunStore(tmp_path).load_all()
    assert not problems and back.status == "finished" and back.layers.keys == KEYS
    fed = RunFeed(back)
    assert fed.keys == KEYS and fed.steps_per_epoch == 5 and fed.step == 3
    assert np.allclose(fed.latest_values("grad_norm"), [1e-3, 1e-2, 1e-1, 1.0], rtol=1e-3)


def test_auto_intervals_and_runs_folder(tmp_path):
    cfg = TrainConfig(epochs=3, batch_size=64, log_every=7, stats_every=9)
    assert auto_intervals(cfg, 1438, log=False, stats=False) is cfg
    short = auto_intervals(cfg, 1438)                        # 69 steps: a loss point every step
    assert short.log_every == 1 and short.stats_every == 4   # gradients: the cheapest interval allowed
    long = auto_intervals(cfg.replace(epochs=200), 50_000)   # 156,400 steps
    assert long.log_every == 50 and long.stats_every == 200
    assert math.ceil(156_400 / long.stats_every) <= 1000
    assert runs_folder_for(tmp_path / "net.json") == tmp_path / "net.runs"
