"""Issue 19, plots a person can read at 1366×768: lesion plots side by side cut a long title with "…" (whole
in the tooltip) and keep their x-axis label inside the axis; an empty accuracy plot's axis runs 0-100 under
its "%" label, with no more labels than fit."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontMetrics
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

LONG = "a_long_user_named_network_with_every_option_spelled_out_v2 (plain twin) #3"


def _study(label: str, base: float) -> dict:
    units = [f"stage{s}[{i}]" for s in (1, 2, 3) for i in range(3)]
    return {"label": label, "baseline_acc": base, "skipped": [], "random": [{"k": 1, "mean_acc": 0.5, "std": 0.1}],
            "blocks": [{"node": u[:6], "unit": u, "acc": base - 0.05 * k, "downsampling": u.endswith("[0]")}
                       for k, u in enumerate(units)]}


def test_lesion_plots_side_by_side_at_1366_cut_a_long_title_and_fit_the_axis_label(make_window, qtbot):
    w = make_window(size=(1366, 728))
    next(a for a in w.analyze_menu.actions() if a.text() == "Lesion study…").trigger()
    panel = w.analysis_dock.panel
    view = panel.view
    view.show_result({"residual": _study("resnet20_digits", 0.9), "plain": _study(LONG, 0.8),
                      "split": "validation", "verdict": "v"})
    panel.stack.setVisible(True)
    qtbot.waitUntil(lambda: view.titles["plain"].shown.endswith("…"))
    for net in ("residual", "plain"):
        item = view.block_plots[net].getPlotItem()
        room = view.block_plots[net].width() - item.getAxis("left").width()
        assert QFontMetrics(item.titleLabel.item.font()).horizontalAdvance(item.titleLabel.text) <= room
        axis = item.getAxis("bottom")
        assert QFontMetrics(axis.label.font()).horizontalAdvance(axis.labelText) <= item.getViewBox().width()
    assert view.titles["residual"].shown == "resnet20_digits"   # a short name stays whole
    assert LONG in view.block_plots["plain"].toolTip()          # the whole name, on hover


def test_an_empty_accuracy_plot_runs_0_to_100_under_its_percent_label(make_window, qtbot):
    w = make_window(size=(1366, 728))
    acc = w.training_dock.metrics.acc
    bar = w.training_dock.tabs.tabBar()
    QTest.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(0).center())
    QApplication.processEvents()
    (_, _), (y0, y1) = acc.plot.getViewBox().viewRange()
    assert (y0, y1) == (0.0, 100.0)
    assert acc.label_fit.shown in ("accuracy (%)", "%")
    axis = acc.plot.getAxis("left")
    height = acc.plot.getViewBox().height()
    values = [v for _, vs in axis.tickValues(y0, y1, height) for v in vs]
    labels = [v for v in values if y0 < v < y1 or v in (y0, y1)]
    assert 2 <= len(labels) <= max(2, height // QFontMetrics(axis.font()).height())   # none on top of another


def test_degeneracy_heat_maps_side_by_side_at_1366_cut_a_long_title(make_window, qtbot):
    """The plain twin's heat map was pushed past the window's edge: a title's text is its plot's minimum width."""
    layer = {"node": "stage1", "unit": "stage1[0]", "depth": 3, "effective_rank": 4.0, "dead_fraction": 0.0,
             "max_corr": 0.5}

    def part(label):
        return {"label": label, "layers": [layer], "checkpoints": [{"checkpoint": "init", "layers": [layer]},
                                                                   {"checkpoint": "last", "layers": [dict(layer)]}]}
    w = make_window(size=(1366, 728))
    next(a for a in w.analyze_menu.actions() if a.text() == "Degeneracy…").trigger()
    panel = w.analysis_dock.panel
    view = panel.view
    view.show_result(dict(part("resnet20_digits"), plain=part(LONG), verdict="v"))
    panel.stack.setVisible(True)
    qtbot.waitUntil(lambda: view.map_titles["plain"].shown.endswith("…"))
    row = view.row
    for net in ("residual", "plain"):
        plot = view.maps[net]
        assert plot.isVisible() and plot.geometry().right() <= row.width()   # in view, not past the edge
        qtbot.waitUntil(lambda: plot.getPlotItem().geometry().width() <= plot.width())  # and its content too
    assert LONG in view.maps["plain"].toolTip()
