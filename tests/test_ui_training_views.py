"""The training views fed with synthetic reports (no engine): overlays, linking with the canvas, hover,
export, throttling, bounded memory on a 1,000-layer × 10,000-step run, saving and reopening runs."""
import csv
import time

import numpy as np
import pytest

from explorer.runs import RunRecord
from explorer.runs.feed import RunFeed
from explorer.train import EpochReport, FinishedReport, LayerStatsReport, StartedReport, StepReport

KEYS = ["stem_conv", "stem_bn", "stage1[0]", "stage1[1]", "stage1[2]", "classifier"]


def synthetic_run(controller, name="run", steps=50, keys=KEYS, total=None, finish=True, decay=1.0):
    """Add a run to ``controller`` and feed it reports as the worker would (in batches)."""
    rec = RunRecord(name, "synthetic", "digits", {"epochs": 1, "lr": 0.1}, "{}")
    controller._add(RunFeed(rec))
    total = total or steps
    nodes = [k.split("[")[0] for k in keys]
    batch = [StartedReport("cpu", 1000, 1, total, total, 0, 0, 1000, 100, keys, nodes)]
    depth = np.arange(len(keys))
    for s in range(1, steps + 1):
        batch.append(StepReport(1, 1, s, total, s, total, 2.0 * decay ** s + 0.1, s / steps, 0.1, 500.0, s * 0.01, 1.0))
        g = 10.0 ** (-0.5 * depth[::-1] - 0.001 * s)
        batch.append(LayerStatsReport(s, 1, keys, nodes, g, g * 10, g * 1e-3, g * 2))
    if finish:
        batch.append(EpochReport(1, 1, 0.5, 0.8, 0.6, 0.75, 0.1, 500.0, 1.0, True))
        batch.append(FinishedReport("completed", 1, steps, 0.5, 0.8, 0.6, 0.75, 0.75, 1, 500.0, 1.0, "cpu", None))
    for i in range(0, len(batch), 40):
        controller._on_reports(rec.id, batch[i:i + 40])
    return rec.id


def test_ticked_runs_overlay_and_unticking_removes_their_curves(training_window, qtbot):
    mw, dock = training_window()
    c = dock.controller
    a = synthetic_run(c, "plain56", decay=0.999)
    b = synthetic_run(c, "resnet56", decay=0.9)
    c.set_focus(b)
    model = dock.runs.model_
    from PySide6.QtCore import Qt
    model.setData(model.index(model.row_of(a), 0), Qt.CheckState.Checked.value, Qt.ItemDataRole.CheckStateRole)
    model.setData(model.index(model.row_of(b), 0), Qt.CheckState.Checked.value, Qt.ItemDataRole.CheckStateRole)
    assert c.overlay == {a, b}
    loss = dock.metrics.loss
    loss.throttle.flush()
    assert set(loss.curves) == {a, b}
    for rid in (a, b):
        x, y = loss.curves[rid].raw.getData()
        assert len(x) == 50 and np.allclose(y, c.record(rid).series["train_loss"].y)
    assert loss.curves[a].smooth.opts["pen"].color() != loss.curves[b].smooth.opts["pen"].color()
    # the depth profile overlays them too: the picture of plain against residual
    dock.gradients.by_depth._sync()
    assert set(dock.gradients.by_depth.curves) == {a, b}
    model.setData(model.index(model.row_of(a), 0), Qt.CheckState.Unchecked.value, Qt.ItemDataRole.CheckStateRole)
    loss.throttle.flush()
    assert set(loss.curves) == {b}                       # b stays: it is the selected run
    # epoch axis and log axis
    dock.metrics.x_axis.setCurrentIndex(1)
    dock.metrics.log_y.setChecked(True)
    loss.throttle.flush()
    x, _ = loss.curves[b].raw.getData()
    assert x[-1] == pytest.approx(1.0)                   # 50 steps of a 50-step epoch
    qtbot.wait(50)
    mw.grab().save("/tmp/test_ui_training_overlay.png")


def test_canvas_selection_and_heatmap_clicks_are_linked(training_window, qtbot):
    mw, dock = training_window()
    c = dock.controller
    rid = synthetic_run(c)
    c.set_focus(rid)
    dock.tabs.setCurrentIndex(1)
    qtbot.wait(50)
    g = dock.gradients
    for view in (g.heatmap, g.by_depth, g.curves):
        view.throttle.flush()
    # canvas -> plots
    dock.highlightNode("stage1")
    assert g.heatmap.band.isVisible() and tuple(g.heatmap.band.getRegion()) == (2, 5)
    g.curves.throttle.flush()
    assert g.curves.rows == [2, 3, 4] and sum(cv.isVisible() for cv in g.curves.pool) == 3
    g.by_depth.throttle.flush()
    assert len(g.by_depth.marks.data) == 3
    dock.highlightNode("")
    assert not g.heatmap.band.isVisible()
    g.curves.throttle.flush()
    assert g.curves.rows == [0, 3, 5]                    # nothing selected: first, middle, last layer
    # heatmap -> canvas: a click on a row names the node behind it
    with qtbot.waitSignal(dock.layerClicked) as clicked:
        g.heatmap.click_row(5)
    assert clicked.args == ["classifier"]
    # a real mouse click on the image
    vb = g.heatmap.plot.getViewBox()
    scene_pos = vb.mapViewToScene(__import__("PySide6.QtCore", fromlist=["QPointF"]).QPointF(25.0, 1.5))
    cell = g.heatmap._cell(scene_pos)
    assert cell is not None and cell[0] == 1
    g.heatmap._hover(scene_pos)
    assert "stem_bn" in g.heatmap.readout.text() and "step 2" in g.heatmap.readout.text()


def test_hover_shows_values(training_window, qtbot):
    mw, dock = training_window()
    c = dock.controller
    rid = synthetic_run(c)
    c.set_focus(rid)
    loss = dock.metrics.loss
    loss.throttle.flush()
    qtbot.wait(20)
    pos = loss.plot.getViewBox().mapViewToScene(__import__("PySide6.QtCore", fromlist=["QPointF"]).QPointF(10.0, 1.0))
    loss._hover(pos)
    text = loss.readout.text()
    assert "step 10" in text and "train" in text and "smoothed" in text


def test_export_png_and_csv(training_window, tmp_path, qtbot):
    from explorer.ui.training.plots.export import export_csv, export_png

    mw, dock = training_window()
    c = dock.controller
    rid = synthetic_run(c, steps=30)
    c.set_focus(rid)
    qtbot.wait(20)
    png = export_png(dock.metrics.loss, tmp_path / "loss")
    assert png.suffix == ".png" and png.stat().st_size > 1000
    n = export_csv(dock.metrics.loss, tmp_path / "loss.csv")
    rows = list(csv.DictReader(open(tmp_path / "loss.csv")))
    assert n == len(rows) == 30 + 30 + 1                 # raw, smoothed, one validation point
    assert {r["series"] for r in rows} == {"train_loss", "train_loss_smoothed", "val_loss"}
    dock.tabs.setCurrentIndex(1)
    qtbot.wait(20)
    n = export_csv(dock.gradients.heatmap, tmp_path / "heat.csv")
    table = list(csv.reader(open(tmp_path / "heat.csv")))
    assert n == 30 and table[0][1:] == KEYS and len(table) == 31
    assert float(table[1][0]) == 1.0
    assert export_csv(dock.gradients.by_depth, tmp_path / "depth.csv") == len(KEYS)
    assert export_png(dock.gradients.heatmap, tmp_path / "heat.png").stat().st_size > 1000


def test_throttle_caps_the_redraw_rate(qtbot):
    from explorer.ui.training.throttle import Throttle

    calls = []
    t = Throttle(lambda: calls.append(time.perf_counter()), max_hz=30)
    start = time.perf_counter()
    while time.perf_counter() - start < 0.5:
        t.request()
        qtbot.wait(1)
    qtbot.wait(60)
    assert 3 <= len(calls) <= 0.5 * 30 + 2
    assert min(np.diff(calls)) >= 1 / 30 - 0.005
    # an expensive view slows itself down: 10 ms frames at a 3 % budget -> 3 frames a second at most
    for _ in range(6):
        t.note_paint(0.004)
        t.note_paint(0.006)                                  # two views of one panel: one 10 ms frame
        t._close_frame()
    assert t.period == pytest.approx(0.010 / 0.03, rel=0.1)


def test_deep_long_run_stays_bounded_and_cheap_to_redraw(training_window, qtbot):
    """1,000 layers × 10,000 steps: buffers stay bounded and no redraw takes long."""
    from explorer.runs.feed import layer_capacity

    mw, dock = training_window()
    c = dock.controller
    keys = [f"stage{i // 100}[{i % 100}]" for i in range(1000)]
    rec = RunRecord("deep", "synthetic", "none", {}, "{}")
    c._add(RunFeed(rec))
    c.set_focus(rec.id)
    steps = 10_000
    c._on_reports(rec.id, [StartedReport("cpu", 0, 1, steps, steps, 0, 0, 1, 1, keys, [k[:6] for k in keys])])
    g = 10.0 ** np.linspace(-5, 0, 1000)
    dock.tabs.setCurrentIndex(1)
    qtbot.wait(20)
    for start in range(0, steps, 1000):
        batch = []
        for s in range(start + 1, start + 1001):
            batch.append(StepReport(1, 1, s, steps, s, steps, 1.0 / s, 0.5, 0.1, 1e3, 1.0, 1.0))
            if s % 5 == 0:
                batch.append(LayerStatsReport(s, 1, keys, keys, g, g, g, g))
        c._on_reports(rec.id, batch)
    feed = c.feed(rec.id)
    assert len(rec.series["train_loss"]) <= 8193 and len(feed.layers["grad_norm"]) <= layer_capacity(1000) + 1
    assert layer_capacity(1000) == 512
    h = dock.gradients.heatmap
    t = time.perf_counter()
    for _ in range(5):
        h.redraw()
        dock.gradients.by_depth.redraw()
        dock.gradients.curves.redraw()
    assert (time.perf_counter() - t) / 5 < 0.1        # the update itself; painting is budgeted by the throttle
    assert h.image_array().shape == (len(feed.layers["grad_norm"]), 1000)


def test_runs_are_saved_with_the_project_and_reopen(training_window, qtbot, tmp_path, tiny_graph):
    from explorer.train import TrainConfig
    from explorer.ui.training.run_controller import RunController

    mw, dock = training_window()
    c = dock.controller
    c.set_folder(tmp_path / "net.runs", carry_over=True)
    with qtbot.waitSignal(c.runFinished, timeout=60_000):
        rid = c.start(tiny_graph, "digits", TrainConfig(epochs=1, batch_size=512, log_every=1, stats_every=1),
                      auto_log=False, auto_stats=False)
    c.rename(rid, "my first run")
    assert c.shutdown()                                  # waits for the background saves
    other = RunController()
    other.set_folder(tmp_path / "net.runs", carry_over=False)
    assert other.run_ids() == [rid]
    rec, live = other.record(rid), c.record(rid)
    assert rec.name == "my first run" and rec.status == "finished" and rec.graph_json == live.graph_json
    assert list(rec.series["train_loss"].y) == pytest.approx(list(live.series["train_loss"].y))
    feed = other.feed(rid)
    assert set(feed.layers) == {"grad_norm", "output_grad_norm", "update_ratio"}
    assert feed.layers["update_ratio"].log10.shape == (3, len(feed.keys))
    other.delete(rid)
    other.shutdown()
    assert not list((tmp_path / "net.runs").glob(f"{rid}*"))


def test_install_in_the_main_window_links_canvas_and_stops_on_close(make_window, qtbot, tmp_path, tiny_graph):
    from explorer.train import TrainConfig
    from explorer.ui.training import install_training

    w = make_window(tiny_graph, size=(1500, 1000))
    dock = install_training(w)
    assert w.training_dock is dock and dock.parent() is w
    c = dock.controller
    # the canvas drives the plots, and a heatmap row selects its node on the canvas
    rid = synthetic_run(c, keys=["stem_conv", "stage1[0]", "stage1[1]", "classifier"])
    c.set_focus(rid)
    dock.tabs.setCurrentIndex(1)
    qtbot.wait(20)
    dock.gradients.heatmap.throttle.flush()
    w.scene.select_node("stage1")
    assert dock.gradients.heatmap._highlight == "stage1"
    dock.gradients.heatmap.click_row(3)
    assert w.scene.selected_node_ids() == ["classifier"]
    # saving the project puts its runs next to it; training a copy leaves the document editable
    w.document.save(tmp_path / "net.json")
    qtbot.waitUntil(lambda: c.store is not None, timeout=2000)
    assert c.store.folder == tmp_path / "net.runs"
    c.shutdown()
    assert (tmp_path / "net.runs" / f"{rid}.run.json").exists()
    rid = c.start(w.document.graph, "digits", TrainConfig(epochs=5, batch_size=16, log_every=1, stats_every=5),
                  auto_log=False, auto_stats=False)
    qtbot.waitUntil(lambda: c.feed(rid).step >= 1, timeout=60_000)
    thread = c.session._thread
    assert "training" in dock.status.label.text() or "epoch" in dock.status.label.text()
    w.close()
    assert not thread.isRunning() and not c.session.is_active()
    assert c.record(rid).status == "stopped"
