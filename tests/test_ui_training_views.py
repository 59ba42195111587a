"""The training views fed with synthetic reports (a stand-in engine in the real worker thread): overlays,
linking with the canvas, hover, export, throttling, bounded memory on a 1,000-layer × 10,000-step run,
saving and reopening runs. Every report reaches the views the way a real run's do: worker thread, batcher,
queued signals, controller."""
import csv
from types import SimpleNamespace

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt, QThread
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from conftest import build_tiny_graph
from explorer.train import EpochReport, FinishedReport, LayerStatsReport, StartedReport, StepReport, TrainConfig

KEYS = ["stem_conv", "stem_bn", "stage1[0]", "stage1[1]", "stage1[2]", "classifier"]
TIMEOUT = 60_000


class StandInEngine:
    """The worker thread trains by yielding prepared report lists (one per run, in order) on the data set
    "synthetic", so the views see exactly the reports a test chose; other data sets train for real.
    ``threads`` holds the thread each run trained in."""

    def __init__(self, monkeypatch):
        import explorer.ui.training.worker as worker

        self.runs: list[list] = []
        self.threads: list = []
        real_training, real_dataset = worker.run_training, worker.cached_dataset
        stand_in = SimpleNamespace(x_train=np.zeros((1000, 1)))

        def training(graph, dataset, config, control):
            self.threads.append(QThread.currentThread())
            if dataset is stand_in:
                yield from self.runs.pop(0)
            else:
                yield from real_training(graph, dataset, config, control)
        monkeypatch.setattr(worker, "run_training", training)
        monkeypatch.setattr(worker, "cached_dataset",
                            lambda spec, seed: stand_in if spec == "synthetic" else real_dataset(spec, seed))


@pytest.fixture
def engine(monkeypatch):
    return StandInEngine(monkeypatch)


def synthetic_reports(steps=50, keys=KEYS, total=None, finish=True, decay=1.0) -> list:
    total = total or steps
    nodes = [k.split("[")[0] for k in keys]
    reports = [StartedReport("cpu", 1000, 1, total, total, 0, 0, 1000, 100, keys, nodes)]
    depth = np.arange(len(keys))
    for s in range(1, steps + 1):
        reports.append(StepReport(1, 1, s, total, s, total, 2.0 * decay ** s + 0.1, s / steps, 0.1, 500.0, s * 0.01, 1.0))
        g = 10.0 ** (-0.5 * depth[::-1] - 0.001 * s)
        reports.append(LayerStatsReport(s, 1, keys, nodes, g, g * 10, g * 1e-3, g * 2))
    if finish:
        reports.append(EpochReport(1, 1, 0.5, 0.8, 0.6, 0.75, 0.1, 500.0, 1.0, True))
        reports.append(FinishedReport("completed", 1, steps, 0.5, 0.8, 0.6, 0.75, 0.75, 1, 500.0, 1.0, "cpu", None))
    return reports


def run_reports(qtbot, controller, engine, reports, name="run") -> str:
    """Start a run whose worker yields ``reports``; return its id once it has finished."""
    engine.runs.append(reports)
    with qtbot.waitSignal(controller.runFinished, timeout=TIMEOUT):
        rid = controller.start(build_tiny_graph(), "synthetic", TrainConfig(epochs=1), name=name,
                               auto_log=False, auto_stats=False)
    return rid


def synthetic_run(qtbot, controller, engine, name="run", **kw) -> str:
    return run_reports(qtbot, controller, engine, synthetic_reports(**kw), name)


def view_point(plot_widget, plot_item, x, y):
    """Where the data point (x, y) of ``plot_item`` lies in ``plot_widget``'s viewport, for QTest."""
    scene = plot_item.getViewBox().mapViewToScene(QPointF(x, y))
    return plot_widget.mapFromScene(scene)


def test_ticked_runs_overlay_and_unticking_removes_their_curves(training_window, qtbot, engine, tmp_path):
    mw, dock = training_window()
    c = dock.controller
    a = synthetic_run(qtbot, c, engine, "plain56", decay=0.999)
    b = synthetic_run(qtbot, c, engine, "resnet56", decay=0.9)
    c.set_focus(b)
    model = dock.runs.model_
    model.setData(model.index(model.row_of(a), 0), Qt.CheckState.Checked.value, Qt.ItemDataRole.CheckStateRole)
    model.setData(model.index(model.row_of(b), 0), Qt.CheckState.Checked.value, Qt.ItemDataRole.CheckStateRole)
    assert c.overlay == {a, b}
    loss = dock.metrics.loss
    loss.throttle.flush()
    assert set(loss.curves) == {a, b}
    for rid in (a, b):
        x, y = loss.curves[rid].raw.xData, loss.curves[rid].raw.yData   # as given, not log10
        assert len(x) == 50 and np.allclose(y, c.record(rid).series["train_loss"].y)
    assert loss.curves[a].smooth.opts["pen"].color() != loss.curves[b].smooth.opts["pen"].color()
    # the depth profile overlays them too: the picture of plain against residual
    assert set(dock.gradients.by_depth.curves) == {a, b}
    model.setData(model.index(model.row_of(a), 0), Qt.CheckState.Unchecked.value, Qt.ItemDataRole.CheckStateRole)
    loss.throttle.flush()
    assert set(loss.curves) == {b}                       # b stays: it is the selected run
    assert set(dock.gradients.by_depth.curves) == {b}
    # epoch axis and log axis
    dock.metrics.x_axis.setCurrentIndex(1)
    dock.metrics.log_y.setChecked(True)
    loss.throttle.flush()
    x, _ = loss.curves[b].raw.getData()
    assert x[-1] == pytest.approx(1.0)                   # 50 steps of a 50-step epoch
    assert mw.grab().save(str(tmp_path / "overlay.png"))


def test_canvas_selection_and_heatmap_clicks_are_linked(training_window, qtbot, engine):
    mw, dock = training_window()
    c = dock.controller
    dock.tabs.setCurrentIndex(1)
    rid = synthetic_run(qtbot, c, engine)
    c.set_focus(rid)
    QApplication.processEvents()                     # lay out what was just shown
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
    # heatmap -> canvas: the keyboard's way to pick a row names the node behind it
    with qtbot.waitSignal(dock.layerClicked) as clicked:
        g.heatmap.click_row(5)
    assert clicked.args == ["classifier"]
    # a real mouse click on the image: row 3 (stage1[1]) at step 25
    h = g.heatmap
    at = view_point(h.widget, h.plot, 25.0, 3.5)
    with qtbot.waitSignal(dock.layerClicked) as clicked:
        QTest.mouseClick(h.widget.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, at)
    assert clicked.args == ["stage1"]
    assert h.band.isVisible() and tuple(h.band.getRegion()) == (2, 5)   # the clicked node is marked
    # hovering a cell names its layer and step
    QTest.mouseMove(h.widget.viewport(), view_point(h.widget, h.plot, 2.0, 1.5))
    assert "stem_bn" in h.readout.text() and "step 2" in h.readout.text()


def test_hover_shows_values(training_window, qtbot, engine):
    mw, dock = training_window()
    c = dock.controller
    rid = synthetic_run(qtbot, c, engine)
    c.set_focus(rid)
    loss = dock.metrics.loss
    loss.throttle.flush()
    QApplication.processEvents()                     # lay out what was just shown
    QTest.mouseMove(loss.widget.viewport(), view_point(loss.widget, loss.plot, 10.0, 0.0))   # log axis: 10⁰
    text = loss.readout.text()
    assert "step 10" in text and "train" in text and "smoothed" in text


def test_export_png_and_csv(training_window, tmp_path, qtbot, engine):
    from explorer.ui.training.plots.export import export_csv, export_png

    mw, dock = training_window()
    c = dock.controller
    rid = synthetic_run(qtbot, c, engine, steps=30)
    c.set_focus(rid)
    QApplication.processEvents()                     # lay out what was just shown
    png = export_png(dock.metrics.loss, tmp_path / "loss")
    assert png.suffix == ".png" and png.stat().st_size > 1000
    n = export_csv(dock.metrics.loss, tmp_path / "loss.csv")
    rows = list(csv.DictReader(open(tmp_path / "loss.csv")))
    assert n == len(rows) == 30 + 30 + 1                 # raw, smoothed, one validation point
    assert {r["series"] for r in rows} == {"train_loss", "train_loss_smoothed", "val_loss"}
    dock.tabs.setCurrentIndex(1)
    QApplication.processEvents()                     # lay out what was just shown
    n = export_csv(dock.gradients.heatmap, tmp_path / "heat.csv")
    table = list(csv.reader(open(tmp_path / "heat.csv")))
    assert n == 30 and table[0][1:] == KEYS and len(table) == 31
    assert float(table[1][0]) == 1.0
    assert export_csv(dock.gradients.by_depth, tmp_path / "depth.csv") == len(KEYS)
    assert export_png(dock.gradients.heatmap, tmp_path / "heat.png").stat().st_size > 1000


class FakeClock:
    """Seconds that pass only when the test says so."""

    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_throttle_caps_the_redraw_rate_and_coalesces_requests(qtbot):
    from explorer.ui.training.throttle import Throttle

    clock = FakeClock()
    calls = []
    t = Throttle(lambda: calls.append(clock.now), max_hz=30, clock=clock)
    # a burst of requests before the event loop runs is one redraw
    for _ in range(100):
        t.request()
    qtbot.waitUntil(lambda: len(calls) == 1)
    QTest.qWait(0)
    assert len(calls) == 1 and t.calls == 1
    # right after a redraw the next one waits a whole frame (1/30 s); as the clock moves the wait shrinks
    assert t.delay() == pytest.approx(1 / 30)
    clock.now += 0.02
    assert t.delay() == pytest.approx(1 / 30 - 0.02)
    clock.now += 0.02
    assert t.delay() == 0
    t.request()
    qtbot.waitUntil(lambda: len(calls) == 2)
    assert np.diff(calls)[0] >= 1 / 30
    # nothing changed: no redraw
    clock.now += 1.0
    QTest.qWait(0)
    assert len(calls) == 2


def test_an_expensive_view_slows_its_throttle_down(qtbot):
    """10 ms frames at a 3 % budget: at most 3 frames a second; cheap frames go back to the full rate."""
    from explorer.ui.training.throttle import DUTY, Throttle

    clock = FakeClock()
    t = Throttle(lambda: None, max_hz=30, clock=clock)
    for _ in range(6):
        t.note_paint(0.004)
        t.note_paint(0.006)                                  # two views of one panel: one 10 ms frame
        t.request()
        t.flush()
        clock.now += 1.0
    assert t.cost == pytest.approx(0.010) and t.period == pytest.approx(0.010 / DUTY)
    t.request()
    t.flush()
    assert t.delay() == pytest.approx(0.010 / DUTY)          # the next frame waits a third of a second
    for _ in range(6):
        t.note_paint(0.0001)
        t.request()
        t.flush()
    assert t.period == pytest.approx(1 / 30)


def test_deep_long_run_stays_bounded(training_window, qtbot, engine):
    """1,000 layers × 10,000 steps: the buffers and the image the heatmap draws stay bounded. What a
    redraw costs is measured by ``python -m explorer.ui.training.bench_gui --stress``, not here."""
    from explorer.runs.feed import layer_capacity

    mw, dock = training_window()
    c = dock.controller
    keys = [f"stage{i // 100}[{i % 100}]" for i in range(1000)]
    steps = 10_000
    g = 10.0 ** np.linspace(-5, 0, 1000)
    reports = [StartedReport("cpu", 0, 1, steps, steps, 0, 0, 1, 1, keys, [k[:6] for k in keys])]
    for s in range(1, steps + 1):
        reports.append(StepReport(1, 1, s, steps, s, steps, 1.0 / s, 0.5, 0.1, 1e3, 1.0, 1.0))
        if s % 5 == 0:
            reports.append(LayerStatsReport(s, 1, keys, keys, g, g, g, g))
    dock.tabs.setCurrentIndex(1)
    rid = run_reports(qtbot, c, engine, reports, "deep")
    rec, feed = c.record(rid), c.feed(rid)
    assert feed.step == steps
    assert len(rec.series["train_loss"]) <= 8193 and len(feed.layers["grad_norm"]) <= layer_capacity(1000) + 1
    assert layer_capacity(1000) == 512
    h = dock.gradients.heatmap
    h.throttle.flush()
    assert h.image_array().shape == (len(feed.layers["grad_norm"]), 1000)
    assert h.image.image.shape == h.image_array().shape    # what is drawn is the bounded buffer itself
    dock.gradients.by_depth.throttle.flush()
    assert len(dock.gradients.by_depth.curves[rid].yData) == 1000


def test_runs_are_saved_with_the_project_and_reopen(training_window, qtbot, tmp_path, tiny_graph):
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


def test_install_in_the_main_window_links_canvas_and_stops_on_close(make_window, qtbot, tmp_path, tiny_graph,
                                                                    engine):
    from explorer.ui.training import install_training

    w = make_window(tiny_graph, size=(1500, 1000))
    dock = install_training(w)
    assert w.training_dock is dock and dock.parent() is w
    c = dock.controller
    # the canvas drives the plots, and a heatmap row selects its node on the canvas
    rid = synthetic_run(qtbot, c, engine, keys=["stem_conv", "stage1[0]", "stage1[1]", "classifier"])
    c.set_focus(rid)
    dock.tabs.setCurrentIndex(1)
    QApplication.processEvents()                     # lay out what was just shown
    heatmap = dock.gradients.heatmap
    heatmap.throttle.flush()
    w.scene.select_node("stage1")
    assert heatmap.band.isVisible() and tuple(heatmap.band.getRegion()) == (1, 3)
    at = view_point(heatmap.widget, heatmap.plot, 25.0, 3.5)
    QTest.mouseClick(heatmap.widget.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, at)
    assert w.scene.selected_node_ids() == ["classifier"]
    # saving the project puts its runs next to it; training a copy leaves the document editable
    w.document.save(tmp_path / "net.json")
    qtbot.waitUntil(lambda: c.store is not None, timeout=2000)
    assert c.store.folder == tmp_path / "net.runs"
    c.shutdown()
    assert (tmp_path / "net.runs" / f"{rid}.run.json").exists()
    rid = c.start(w.document.graph, "digits", TrainConfig(epochs=5, batch_size=16, log_every=1, stats_every=5),
                  auto_log=False, auto_stats=False)
    qtbot.waitUntil(lambda: c.feed(rid).step >= 1, timeout=TIMEOUT)
    thread = engine.threads[-1]
    assert thread.isRunning()
    qtbot.waitUntil(lambda: "training" in dock.status.label.text() or "epoch" in dock.status.label.text(),
                    timeout=TIMEOUT)  # the status line follows the step reports, which may lag one report
    w.close()
    assert not thread.isRunning() and not c.session.is_active()
    assert c.record(rid).status == "stopped"
