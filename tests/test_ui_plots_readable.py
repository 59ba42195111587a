"""Plots a person can read: a log loss axis always names at least two values, the "off the scale" label
fits inside its plot, empty plots have no labels piled on each other, and the canvas selection's outline
leaves the heatmap row it marks readable. Runs reach the views through the worker thread (the stand-in
engine of test_ui_training_views)."""
from __future__ import annotations

from PySide6.QtCore import QPointF
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QApplication

from conftest import build_tiny_graph
from explorer.train import EpochReport, TrainConfig
from test_ui_comparison import engine, flush, run_reports as comparison_reports  # noqa: F401 (fixture)
from test_ui_training_views import TIMEOUT, run_reports, synthetic_reports


def labelled_ticks(plot) -> tuple[list[str], float]:
    """(the left axis's non-empty tick labels as drawn now, the axis's height in pixels)."""
    axis = plot.getAxis("left")
    (_, _), (y0, y1) = plot.getViewBox().viewRange()
    size = axis.height()
    labels = []
    for spacing, values in axis.tickValues(y0, y1, size):
        labels += [s for s in axis.tickStrings(values, axis.autoSIPrefixScale, spacing) if s]
    return labels, size


def test_a_log_loss_axis_names_two_values_when_the_loss_stays_within_one_decade(training_window, qtbot, engine):
    mw, dock = training_window()
    reports = [r for r in synthetic_reports(steps=40, decay=0.997) if not isinstance(r, EpochReport)]
    run_reports(qtbot, dock.controller, engine, reports)     # training loss 2.09 … 1.88
    loss = dock.metrics.loss
    flush(loss)
    assert loss.log_y
    labels, _ = labelled_ticks(loss.plot)
    assert len(labels) >= 2 and all(1.5 <= float(t) <= 2.5 for t in labels), labels


def test_empty_plots_have_no_labels_on_top_of_each_other(make_window, qtbot):
    w = make_window(size=(1366, 768))
    dock = w.training_dock
    dock.show()
    dock.raise_()
    qtbot.waitUntil(dock.metrics.loss.isVisible)
    for plot in (dock.metrics.loss.plot, dock.metrics.acc.plot):
        labels, size = labelled_ticks(plot)
        height = QFontMetrics(plot.getAxis("left").font()).height()
        assert 2 <= len(labels) and len(labels) * 1.6 * height <= size, (labels, size)   # room between them


def test_the_off_the_scale_label_fits_inside_its_plot(training_window, qtbot, engine):
    mw, dock = training_window(size=(1000, 700))
    c = dock.controller
    engine.runs += [comparison_reports("plain"), comparison_reports("residual")]
    ended = []
    c.runFinished.connect(ended.append)
    c.start_comparison(build_tiny_graph(name="a_residual_network_with_a_long_name_56"), "synthetic",
                       TrainConfig(epochs=2))
    qtbot.waitUntil(lambda: len(ended) == 2, timeout=TIMEOUT)
    loss = dock.metrics.loss
    flush(loss)
    label = loss.spike_label
    assert loss.spikes and "5.500e+07" in label.toPlainText()   # the value always shows
    assert loss.plot.getViewBox().sceneBoundingRect().contains(label.sceneBoundingRect())
    assert "a_residual_network_with_a_long_name_56" in label.toolTip()


def test_the_selection_outline_leaves_the_marked_heatmap_row_readable(training_window, qtbot, engine):
    mw, dock = training_window()
    run_reports(qtbot, dock.controller, engine, synthetic_reports(steps=20))
    dock.tabs.setCurrentWidget(dock.gradients)
    heatmap = dock.gradients.heatmap
    qtbot.waitUntil(heatmap.isVisible)
    flush(heatmap)

    def row_pixel():
        QApplication.processEvents()
        vb = heatmap.plot.getViewBox()
        (x0, x1), _ = vb.viewRange()
        at = heatmap.widget.mapFromScene(vb.mapViewToScene(QPointF((x0 + x1) / 2, 0.5)))   # stem_conv's middle
        return heatmap.widget.grab().toImage().pixelColor(at).name()

    before = row_pixel()
    heatmap.highlight_node("stem_conv")
    assert heatmap.band.isVisible()
    assert row_pixel() == before
