"""Plain vs residual, told clearly (issue 10, items 4, 5, 6 and 18): the loss axis that keeps both curves
readable past a 5.5e7 spike, legends off the curves, far-apart run colours, one colour scale for compared
heatmaps, unclipped axis labels, the side-by-side comparison tab with its verdict line, a runs table that
fits, export buttons that say what they export, and no stale axes after a run that failed at once.

Runs reach the views the real way: the comparison is started on the controller, the worker thread yields
prepared reports (the stand-in engine of test_ui_training_views), queued signals carry them."""
import math

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPoint, Qt
from PySide6.QtGui import QColor, QHelpEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QToolTip

from conftest import build_tiny_graph
from explorer.runs.series import LayerSeries
from explorer.runs.store import RunRecord
from explorer.runs.verdict import PLAIN_TWIN_SUFFIX, Pair, find_pairs, first_to_last, gradient_at, ratio_text, verdict
from explorer.train import (EpochReport, FailedReport, FinishedReport, LayerStatsReport, StartedReport, StepReport,
                            TrainConfig)
from test_ui_training_views import KEYS, TIMEOUT, StandInEngine

STEPS, PER_EPOCH = 40, 20
SPIKE = 5.5e7


@pytest.fixture
def engine(monkeypatch):
    return StandInEngine(monkeypatch)


def run_reports(kind: str) -> list:
    """A plain twin that stays near 2.3 with a first validation loss of 5.5e7 and gradients that fall a
    million-fold towards the input, or a residual net whose loss falls and whose gradients stay level."""
    plain = kind == "plain"
    nodes = [k.split("[")[0] for k in KEYS]
    depth = np.arange(len(KEYS))
    out = [StartedReport("cpu", 1000, 2, PER_EPOCH, STEPS, 0, 0, 1000, 100, KEYS, nodes)]
    for s in range(1, STEPS + 1):
        loss = 2.3 - 0.001 * s if plain else 2.0 * 0.9 ** s + 0.05
        out.append(StepReport(1 + (s - 1) // PER_EPOCH, 2, s, STEPS, (s - 1) % PER_EPOCH + 1, PER_EPOCH, loss,
                              0.1 if plain else 0.9, 0.1, 500.0, s * 0.01, 1.0))
        g = 10.0 ** (-1.2 * (depth[::-1]) - 1 if plain else -0.1 * depth[::-1] + 1)
        out.append(LayerStatsReport(s, 2, KEYS, nodes, g, g, g * 1e-3, g))
        if s % PER_EPOCH == 0:
            val = (SPIKE if s == PER_EPOCH else 2.3) if plain else 0.08
            out.append(EpochReport(s // PER_EPOCH, 2, loss, 0.1 if plain else 0.97, val,
                                   0.178 if plain else 0.975, 0.1, 500.0, 1.0, True))
    acc = 0.178 if plain else 0.975
    out.append(FinishedReport("completed", 2, STEPS, 2.16 if plain else 0.0612, 0.1, 2.3, acc, acc, 2, 500.0, 1.0,
                              "cpu", None))
    return out


def compare(qtbot, dock, engine) -> tuple[str, str]:
    """Plain vs residual on the tiny net, through the controller and the worker thread, both finished."""
    c = dock.controller
    engine.runs += [run_reports("plain"), run_reports("residual")]
    ended = []
    c.runFinished.connect(ended.append)
    ids = c.start_comparison(build_tiny_graph(), "synthetic", TrainConfig(epochs=2))
    qtbot.waitUntil(lambda: len(ended) == 2, timeout=TIMEOUT)
    return ids


def click_tab(qtbot, tabs, index: int) -> None:
    bar = tabs.tabBar()
    QTest.mouseClick(bar, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, bar.tabRect(index).center())
    assert tabs.currentIndex() == index


def flush(*views) -> None:
    QApplication.processEvents()
    for v in views:
        v.throttle.flush()


# -- item 4: the loss axis, legends, colours ---------------------------------------------------------
def test_loss_axis_is_log_and_leaves_out_the_spike_which_it_marks(training_window, qtbot, engine):
    mw, dock = training_window()
    plain, res = compare(qtbot, dock, engine)
    click_tab(qtbot, dock.tabs, 0)
    loss = dock.metrics.loss
    flush(loss)
    assert loss.log_y and dock.metrics.log_y.isChecked()            # log by default, no click needed
    (_, _), (y0, y1) = loss.plot.getViewBox().viewRange()
    assert y1 < math.log10(100) and y0 < math.log10(0.08)            # 0.08 … 2.3 fill the view, not 5.5e7
    assert [(s[0], s[1]) for s in loss.spikes] == [(dock.controller.record(plain).name, "validation")]
    assert loss.spikes[0][3] == pytest.approx(SPIKE)
    assert "off the scale" in loss.spike_label.toPlainText() and "5.500e+07" in loss.spike_label.toPlainText()
    assert len(loss.spike_marks.data) == 1
    # a linear axis is robust too: the spike stays out and stays marked
    QTest.mouseClick(dock.metrics.log_y, Qt.MouseButton.LeftButton)
    assert not loss.log_y
    flush(loss)
    (_, _), (y0, y1) = loss.plot.getViewBox().viewRange()
    assert y1 < 10 and len(loss.spikes) == 1


def test_legends_name_the_series_and_sit_off_the_curves(training_window, qtbot, engine):
    mw, dock = training_window()
    plain, res = compare(qtbot, dock, engine)
    c = dock.controller
    for tab, plot in ((0, dock.metrics.loss), (0, dock.metrics.acc), (1, dock.gradients.by_depth),
                      (2, dock.comparison.by_depth)):
        click_tab(qtbot, dock.tabs, tab)
        flush(plot)
        texts = plot.legend.texts()
        assert c.record(plain).name in texts and c.record(res).name in texts
        legend_box = plot.legend.geometry()
        assert not legend_box.intersects(plot.widget.geometry())      # a row of its own, below the plot
    legend = dock.metrics.loss.legend.texts()
    assert any("training" in t for t in legend) and any("validation" in t for t in legend)


def lab(color: QColor) -> np.ndarray:
    rgb = np.array([color.redF(), color.greenF(), color.blueF()])
    rgb = np.where(rgb > 0.04045, ((rgb + 0.055) / 1.055) ** 2.4, rgb / 12.92)
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]) @ rgb
    f = np.cbrt(xyz / np.array([0.95047, 1.0, 1.08883]))
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def test_compared_runs_get_far_apart_colours(qtbot):
    from explorer.ui.training.plots.style import RUN_COLORS, run_color

    # a comparison's two runs are neighbours in the run list, wherever the pair starts
    for i in range(len(RUN_COLORS)):
        assert np.linalg.norm(lab(run_color(i)) - lab(run_color(i + 1))) > 50


# -- item 5: one colour scale, labels that fit -------------------------------------------------------
def test_compared_heatmaps_share_one_colour_scale_unless_freed(training_window, qtbot, engine):
    mw, dock = training_window()
    plain, res = compare(qtbot, dock, engine)
    c = dock.controller
    view = dock.comparison
    click_tab(qtbot, dock.tabs, 2)
    a, b = view.heatmaps
    flush(view)
    assert a.run() == plain and b.run() == res
    assert a.levels == b.levels and tuple(a.image.levels) == tuple(b.image.levels) == a.levels
    assert a.levels[0] <= -7 and a.levels[1] >= 1                   # covers both runs' values
    QTest.mouseClick(view.one_scale, Qt.MouseButton.LeftButton)      # free it
    flush(view)
    assert a.levels != b.levels and tuple(b.image.levels) == b.levels
    # the Gradients tab: switching between the two compared runs keeps one scale ...
    click_tab(qtbot, dock.tabs, 1)
    h = dock.gradients.heatmap
    c.set_focus(plain)
    flush(dock.gradients)
    seen = h.levels
    c.set_focus(res)
    flush(dock.gradients)
    assert h.levels == seen
    # ... and "own colour scale" fits the shown run alone
    QTest.mouseClick(dock.gradients.own_scale, Qt.MouseButton.LeftButton)
    flush(dock.gradients)
    assert h.levels != seen and h.levels[0] >= -5


def test_axis_labels_fit_their_axes(training_window, qtbot, engine):
    mw, dock = training_window()
    compare(qtbot, dock, engine)
    dock.gradients.quantity.setCurrentIndex(dock.gradients.quantity.findData("output_grad_norm"))
    for tab, views in ((0, (dock.metrics.loss, dock.metrics.acc)),
                       (1, (dock.gradients.by_depth, dock.gradients.curves)),
                       (2, (dock.comparison.by_depth,))):
        click_tab(qtbot, dock.tabs, tab)
        for v in views:
            flush(v)
            fit = v.label_fit
            assert fit.text_width() + 8 <= v.plot.getViewBox().height()
    for h in (dock.gradients.heatmap, *dock.comparison.heatmaps):
        fit = h.bar_label
        assert fit.text_width() + 8 <= h.bar.getViewBox().height()


# -- item 6: the comparison tab and the runs table ---------------------------------------------------
def test_comparison_view_shows_both_runs_and_the_verdict_with_numbers(training_window, qtbot, engine):
    mw, dock = training_window()
    plain, res = compare(qtbot, dock, engine)
    view = dock.comparison
    click_tab(qtbot, dock.tabs, 2)
    flush(view)
    assert view.pair == Pair(plain, res) and view.pair_box.count() == 1
    assert set(view.loss.curves) == set(view.acc.curves) == set(view.by_depth.curves) == {plain, res}
    line = view.verdict.text()
    assert line.startswith("plain twin: train loss 2.16, val acc 17.8 %; residual: 0.0612, 97.5 %")
    assert "at step 40 the plain twin's weight gradient at the first layer is 1/1,000,000 of the last's" in line
    assert "(residual: 1/3.2 of the last's)" in line
    assert view.by_depth.step == STEPS and "step 40" in view.by_depth.plot.titleLabel.text
    # selecting a run of another comparison in the run list shows that one
    p2, r2 = compare(qtbot, dock, engine)
    assert view.pair == Pair(p2, r2) and view.pair_box.count() == 2
    dock.runs.selectRow(dock.runs.model_.row_of(plain))
    assert view.pair == Pair(plain, res)


def test_the_comparison_tab_is_built_when_first_shown_with_the_pair_in_focus_and_the_selection(
        training_window, qtbot, engine):
    """Built late, the tab looks as if it had followed along: the pair of the run in focus (not the newest),
    and the node selected on the canvas marked."""
    mw, dock = training_window()
    first = compare(qtbot, dock, engine)
    compare(qtbot, dock, engine)                      # a newer pair, which a fresh view would show first
    dock.runs.selectRow(dock.runs.model_.row_of(first[0]))
    dock.highlightNode("stage1")
    assert not dock.comparison_tab.is_built
    click_tab(qtbot, dock.tabs, 2)
    assert dock.comparison_tab.is_built
    view = dock.comparison
    flush(view)
    assert view.pair == Pair(*first) and view.pair_box.count() == 2
    assert all(h.band.isVisible() for h in view.heatmaps)   # the stage's rows marked on both heatmaps


def test_runs_table_fits_without_sideways_scrolling_and_names_show_in_full_on_hover(make_window, qtbot, engine):
    from explorer.ui.training import install_training
    from explorer.ui.training.run_list import NAME, STATUS, TRAIN_LOSS, VAL_ACC

    w = make_window(build_tiny_graph(), size=(1500, 940))         # the window's default size
    dock = install_training(w)
    plain, res = compare(qtbot, dock, engine)
    table = dock.runs
    QApplication.processEvents()
    for col in (NAME, STATUS, VAL_ACC, TRAIN_LOSS):
        assert not table.isColumnHidden(col) and table.columnWidth(col) > 20
    assert table.horizontalScrollBar().maximum() == 0 and not table.horizontalScrollBar().isVisible()
    assert table.columnWidth(NAME) >= 60
    model = table.model_
    row = model.row_of(plain)
    assert model.index(row, VAL_ACC).data() == "17.8%" and model.index(row, TRAIN_LOSS).data() == "2.16"
    at = table.visualRect(model.index(row, NAME)).center()
    QApplication.sendEvent(table.viewport(), QHelpEvent(QEvent.Type.ToolTip, at, table.viewport().mapToGlobal(at)))
    assert dock.controller.record(plain).name in QToolTip.text()
    assert dock.controller.record(plain).name.endswith(PLAIN_TWIN_SUFFIX + " #1")


# -- item 18 and stale axes ---------------------------------------------------------------------------
def test_export_buttons_say_what_they_export(training_window, qtbot):
    mw, dock = training_window()
    buttons = dock.metrics.exports + dock.gradients.exports
    texts = [b.text() for b in buttons]
    assert len(set(texts)) == len(texts) == 5
    assert texts == ["Export loss", "Export accuracy", "Export heatmap", "Export by depth", "Export layer curves"]
    for b in buttons:
        assert b.png_action.text().endswith("plot (PNG)…") and b.csv_action.text().endswith("data (CSV)…")
    assert dock.comparison.export.text() == "Export plot…"


def test_a_run_that_fails_at_once_leaves_no_stale_axes(training_window, qtbot, engine):
    from explorer.ui.training.plots.ranges import EMPTY

    mw, dock = training_window()
    c = dock.controller
    compare(qtbot, dock, engine)
    c.set_overlay(c.run_ids()[0], False)
    c.set_overlay(c.run_ids()[1], False)
    engine.runs.append([FailedReport("data", "the data set could not be read", "choose another")])
    with qtbot.waitSignal(c.runFinished, timeout=TIMEOUT):
        failed = c.start(build_tiny_graph(), "synthetic", TrainConfig(epochs=1), auto_log=False, auto_stats=False)
    assert c.record(failed).status == "failed" and c.visible_ids() == [failed]
    for tab, views in ((0, (dock.metrics.loss, dock.metrics.acc)),
                       (1, (dock.gradients.heatmap, dock.gradients.by_depth, dock.gradients.curves))):
        click_tab(qtbot, dock.tabs, tab)
        for v in views:
            flush(v)
            height = [0.0, 100.0] if v is dock.metrics.acc else list(EMPTY[1])  # accuracy: 0-100 under "%"
            assert v.plot.getViewBox().viewRange() == [list(EMPTY[0]), height]
    assert dock.gradients.by_depth.plot.getAxis("bottom")._tickLevels is None
    assert dock.gradients.heatmap.plot.getAxis("left")._tickLevels is None


# -- below the UI: the verdict and its parts -----------------------------------------------------------
def record(name: str, arch: str, loss=None, acc=None, created=0.0, **config) -> RunRecord:
    rec = RunRecord(name=name, arch=arch, dataset="digits", config={"seed": 0, **config}, graph_json="{}",
                    created=created, status="finished")
    if loss is not None:
        rec.final.update(final_train_loss=loss, final_val_acc=acc)
    return rec


def layers(first_over_last: float, steps=(10, 20, 30)) -> LayerSeries:
    s = LayerSeries(["stem", "mid", "classifier"])
    for step in steps:
        s.append(step, np.array([first_over_last, math.sqrt(first_over_last), 1.0]) * step)
    return s


def test_verdict_line_has_the_numbers():
    plain = record("resnet56 (plain twin) #1", "resnet56 (plain twin)", 2.16, 0.178)
    res = record("resnet56 #1", "resnet56", 0.06, 0.975)
    line = verdict(plain, res, layers(1 / 160), layers(0.5))
    assert line == ("plain twin: train loss 2.16, val acc 17.8 %; residual: 0.06, 97.5 %; at step 30 the plain "
                    "twin's gradient at the first layer is 1/160 of the last's (residual: 1/2 of the last's)")
    # a run stopped early: both are read at the last step both reached; missing numbers are dashes
    res.final.clear()
    res.status = "stopped"
    line = verdict(plain, res, layers(1 / 160), layers(0.5, steps=(10, 20)))
    assert "residual (stopped): —, —" in line and "at step 20" in line
    assert verdict(plain, res) .endswith("—, —")


def test_ratios_read_as_fractions_or_multiples():
    assert ratio_text(1 / 160) == "1/160" and ratio_text(1 / 1234.5) == "1/1,200" and ratio_text(0.4) == "1/2.5"
    assert ratio_text(3.0) == "3×" and ratio_text(float("nan")) == "—" and ratio_text(None) == "—"
    assert first_to_last(np.array([np.nan, 1e-30, 2.0, 4.0])) == 0.5    # layers without a gradient are skipped
    assert gradient_at(layers(0.5), 25)[0] == 20 and gradient_at(None, 10) is None


def test_pairs_are_a_twin_and_its_network_with_the_same_settings():
    p1 = record("a", "net (plain twin)", created=1)
    r1 = record("b", "net", created=2)
    p2 = record("c", "net (plain twin)", created=3, lr=0.5)          # other settings: no partner
    r2 = record("d", "net", created=4)
    lone = record("e", "other", created=5)
    assert find_pairs([r2, lone, p1, r1, p2]) == [Pair(p1.id, r1.id)]
    p3 = record("f", "net (plain twin)", created=6, out_dir="x/plain")
    r3 = record("g", "net", created=7, out_dir="x/residual")          # out_dir differs by role on purpose
    assert find_pairs([p1, r1, p3, r3]) == [Pair(p3.id, r3.id), Pair(p1.id, r1.id)]


def test_spike_limit_leaves_out_isolated_spikes_only():
    from explorer.ui.training.plots.ranges import spike_limit

    curve = np.log10(np.r_[np.linspace(2.3, 0.02, 100), 2.3, 2.2])
    assert spike_limit(np.r_[curve, math.log10(SPIKE)]) == pytest.approx(math.log10(2.3))
    assert spike_limit(curve) == pytest.approx(curve.max())
    climbing = np.r_[np.linspace(1, 2, 50), np.linspace(2, 1e6, 50)]   # a run that really diverges: kept
    assert spike_limit(climbing) == pytest.approx(1e6)
