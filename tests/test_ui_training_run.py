"""Training from the window: a real run on the digits in a worker thread, observed through signals."""
import numpy as np
import pytest
from PySide6.QtCore import QThread

from explorer.train import StepReport, TrainConfig

TIMEOUT = 60_000


def quick(**kw) -> TrainConfig:
    """A few steps of the tiny network: each run takes well under a second on an idle CPU."""
    base = dict(epochs=1, batch_size=256, log_every=1, stats_every=1, device="cpu")
    base.update(kw)
    return TrainConfig(**base)


def count_steps(controller):
    """Collect every StepReport the GUI thread receives."""
    seen = []
    controller.session.reportsReady.connect(
        lambda _rid, batch: seen.extend(r for r in batch if isinstance(r, StepReport)))
    return seen


def test_train_button_runs_and_every_plot_gets_the_data(training_window, qtbot, tmp_path):
    mw, dock = training_window()
    c = dock.controller
    steps = count_steps(c)
    dock.form.epochs.setValue(1)
    dock.form.batch_size.setValue(256)   # 1,438 digits -> 6 steps
    dock.form.log_every.setValue(1)
    dock.form.stats_every.setValue(2)
    with qtbot.waitSignal(dock.runFinished, timeout=TIMEOUT) as done:
        rid = dock.train()
        assert rid and not dock.train_button.isEnabled() and dock.stop_button.isEnabled()
    assert done.args == [rid]
    rec = c.record(rid)
    assert rec.status == "finished", rec.message
    assert rec.final["steps"] == 6 and 0 <= rec.final["final_val_acc"] <= 1
    assert [r.step for r in steps] == list(range(1, 7))
    # the loss curve holds one point per StepReport, at the reported steps
    loss = dock.metrics.loss
    loss.throttle.flush()
    x, y = loss.curves[rid].raw.xData, loss.curves[rid].raw.yData   # as given (the axis is log)
    assert list(x) == [r.step for r in steps]
    assert np.allclose(y, [r.loss for r in steps])
    xv, _ = loss.curves[rid].val.getData()
    assert list(xv) == [6]                                     # validation once, at the epoch's end
    # gradients: a heatmap column per sampled step (every 2nd), a row per layer unit
    dock.tabs.setCurrentIndex(1)
    feed = c.feed(rid)
    image = dock.gradients.heatmap.image_array()
    assert image.shape == (3, len(feed.keys)) and feed.keys[0] == "stem_conv" and "stage1[1]" in feed.keys
    dock.gradients.by_depth.throttle.flush()
    curve = dock.gradients.by_depth.curves[rid]
    assert len(curve.xData) == len(feed.keys) and np.all(curve.yData > 0)   # raw values (the axis is log)
    assert np.allclose(curve.yData, feed.latest["grad_norm"])
    assert dock.train_button.isEnabled() and not dock.stop_button.isEnabled()
    assert "finished" in dock.status.label.text()
    assert mw.grab().save(str(tmp_path / "finished.png"))


def test_stop_takes_effect_within_one_step(training_window, qtbot, monkeypatch):
    """After stop() at most the one optimiser step already under way runs; the run ends 'stopped'."""
    import explorer.train.engine as engine

    state = {"stopped": False, "after": 0, "total": 0}
    real_build = engine.build_optimizer

    def counting_optimizer(model, cfg, *more):
        opt = real_build(model, cfg, *more)
        real_step = opt.step

        def step(*a, **k):
            state["total"] += 1
            state["after"] += state["stopped"]
            return real_step(*a, **k)
        opt.step = step
        return opt
    monkeypatch.setattr(engine, "build_optimizer", counting_optimizer)

    mw, dock = training_window()
    c = dock.controller
    rid = c.start(dock.graph_provider(), "digits", quick(batch_size=16, epochs=20), auto_log=False, auto_stats=False)
    qtbot.waitUntil(lambda: c.feed(rid).step >= 3, timeout=TIMEOUT)
    real_stop = c.session.control.stop

    def stop():
        state["stopped"] = True
        real_stop()
    monkeypatch.setattr(c.session.control, "stop", stop)
    with qtbot.waitSignal(dock.runFinished, timeout=TIMEOUT):
        dock.stop_button.click()
    rec = c.record(rid)
    assert rec.status == "stopped"
    assert state["after"] <= 1, f"{state['after']} steps ran after stop"
    assert rec.final["steps"] == state["total"] < 20 * 90
    assert c.record(rid).series["train_loss"].x[-1] == rec.final["steps"]
    assert not c.session.is_active()


def test_pause_then_stop_runs_no_further_step(training_window, qtbot, monkeypatch):
    import threading

    from explorer.train import TrainControl

    waiting, real_wait = threading.Event(), TrainControl.wait_while_paused

    def wait_while_paused(control, *args, **kwargs):
        waiting.set()
        return real_wait(control, *args, **kwargs)
    monkeypatch.setattr(TrainControl, "wait_while_paused", wait_while_paused)
    mw, dock = training_window()
    c = dock.controller
    rid = c.start(dock.graph_provider(), "digits", quick(batch_size=16, epochs=20), auto_log=False, auto_stats=False)
    qtbot.waitUntil(lambda: c.feed(rid).step >= 2, timeout=TIMEOUT)
    dock.pause_button.click()
    qtbot.waitUntil(lambda: c.record(rid).status == "paused", timeout=TIMEOUT)
    assert dock.pause_button.text() == "Resume"
    paused_at = c.feed(rid).step
    qtbot.waitUntil(waiting.is_set, timeout=TIMEOUT)     # the engine blocks until resumed or stopped
    assert c.feed(rid).step == paused_at
    with qtbot.waitSignal(dock.runFinished, timeout=TIMEOUT):
        dock.stop_button.click()
    assert c.record(rid).status == "stopped" and c.record(rid).final["steps"] == paused_at
    assert dock.pause_button.text() == "Pause" and not dock.pause_button.isChecked()


def test_closing_the_window_mid_run_stops_the_thread(training_window, qtbot, monkeypatch):
    import explorer.ui.training.worker as worker

    threads, real_training = [], worker.run_training

    def recording(*args, **kwargs):  # runs in the thread that trains
        threads.append(QThread.currentThread())
        yield from real_training(*args, **kwargs)
    monkeypatch.setattr(worker, "run_training", recording)
    mw, dock = training_window()
    c = dock.controller
    rid = c.start(dock.graph_provider(), "digits", quick(batch_size=16, epochs=50), auto_log=False, auto_stats=False)
    qtbot.waitUntil(lambda: c.feed(rid).step >= 2, timeout=TIMEOUT)
    (thread,) = threads
    assert isinstance(thread, QThread) and thread.isRunning()
    ended = []
    thread.finished.connect(lambda: ended.append(True))
    mw.close()                                           # no shutdown() call: the dock notices the window going
    assert not c.session.is_active()
    assert not thread.isRunning()
    assert c.record(rid).status == "stopped"            # the worker's last reports were delivered before it went
    assert c.record(rid).final["steps"] >= 2


def test_errors_in_the_worker_are_shown_and_the_window_keeps_working(training_window, qtbot, monkeypatch, tmp_path):
    mw, dock = training_window()
    c = dock.controller
    # 1) a data set that is not there: the message names it and says what to do
    i = dock.form.dataset.findData("cifar10")
    dock.form.dataset.setCurrentIndex(i)
    dock.form.path.setText(str(tmp_path / "no-cifar-here"))
    with qtbot.waitSignal(dock.runFinished, timeout=TIMEOUT):
        rid = dock.train()
    assert c.record(rid).status == "failed"
    text = dock.banner.text()
    assert dock.banner.level == "error" and "cifar10" in text and "Pick another data set" in text
    assert dock.train_button.isEnabled()
    # 2) the loss goes to NaN (here: NaN in the data): the engine's advice reaches the banner
    import dataclasses

    import explorer.ui.training.worker as worker

    real_load = worker.cached_dataset

    def poisoned(spec, seed):
        ds = real_load(spec, seed)
        return dataclasses.replace(ds, x_train=ds.x_train.clone().fill_(float("nan")))
    monkeypatch.setattr(worker, "cached_dataset", poisoned)
    with qtbot.waitSignal(dock.runFinished, timeout=TIMEOUT):
        rid = c.start(dock.graph_provider(), "digits", quick())
    assert c.record(rid).status == "failed" and c.record(rid).final["failure"] == "nan"
    assert "learning rate" in dock.banner.text()
    monkeypatch.setattr(worker, "cached_dataset", real_load)
    # 3) a bug in the engine: reported as an internal error, the window survives

    def broken(*a, **k):
        raise RuntimeError("boom")
        yield  # pragma: no cover
    monkeypatch.setattr(worker, "run_training", broken)
    with qtbot.waitSignal(dock.runFinished, timeout=TIMEOUT):
        rid = c.start(dock.graph_provider(), "digits", quick())
    assert c.record(rid).status == "failed" and "internal error" in dock.banner.text() and "boom" in dock.banner.text()
    assert not c.session.is_active() and dock.train_button.isEnabled()


def test_form_problems_refuse_to_start(training_window):
    mw, dock = training_window()
    dock.form.dataset.setCurrentIndex(dock.form.dataset.findData("mnist"))
    dock.form.path.setText("")
    assert dock.train() is None
    assert "Browse" in dock.banner.text()
    assert not dock.controller.run_ids()


@pytest.mark.parametrize("block, ok", [("basic", True), ("plain", False)])
def test_plain_vs_residual_trains_both_overlaid(training_window, qtbot, block, ok):
    from conftest import build_tiny_graph

    mw, dock = training_window(build_tiny_graph(block))
    c = dock.controller
    dock.form.batch_size.setValue(512)                   # 3 steps each
    dock.form.epochs.setValue(1)
    if not ok:
        assert dock.compare() is None and "no shortcuts" in dock.banner.text()
        return
    finished = []
    dock.runFinished.connect(finished.append)
    twin_id, res_id = dock.compare()
    qtbot.waitUntil(lambda: len(finished) == 2, timeout=TIMEOUT)
    assert finished == [twin_id, res_id]                 # the plain twin first, then the network itself
    twin, res = c.record(twin_id), c.record(res_id)
    assert twin.status == res.status == "finished"
    assert "plain twin" in twin.name and "plain twin" not in res.name
    same = lambda cfg: {k: v for k, v in cfg.items() if k != "out_dir"}   # each run has its own folder
    assert same(twin.config) == same(res.config) and twin.config["seed"] == res.config["seed"]
    assert twin.config["out_dir"] != res.config["out_dir"]
    assert '"shortcut": "none"' in twin.graph_json and '"shortcut": "none"' not in res.graph_json
    assert c.overlay == {twin_id, res_id}
    dock.metrics.loss.throttle.flush()
    assert set(dock.metrics.loss.curves) == {twin_id, res_id}
    assert all(len(dock.metrics.loss.curves[r].raw.getData()[0]) == 3 for r in (twin_id, res_id))


def test_report_batcher_sends_control_reports_at_once_and_batches_steps():
    from explorer.train import EpochReport, StatusReport
    from explorer.ui.training.worker import ReportBatcher

    b = ReportBatcher(interval_s=10.0)
    assert b.add(StatusReport("running", 0)) is not None      # control reports never wait
    steps = [StepReport(1, 1, s, 100, s, 100, 1.0, 0.5, 0.1, 1.0, 1.0, 1.0) for s in range(1, 6)]
    assert all(b.add(r) is None for r in steps)                 # steps wait for the interval...
    batch = b.add(EpochReport(1, 1, 1.0, 0.5, 1.0, 0.5, 0.1, 1.0, 1.0, True))
    assert batch[:5] == steps and len(batch) == 6               # ...and go, in order, with the next urgent one
    end_of_epoch = StepReport(1, 1, 100, 100, 100, 100, 1.0, 0.5, 0.1, 1.0, 1.0, 1.0)
    assert b.add(end_of_epoch) == [end_of_epoch]                # validation follows: do not hold it back
    assert b.take() is None
