"""Layout fixes from a new user's first session, measured on real widgets at the window sizes they used
(1500×940 and 1366×768): every plot readable, no clipped controls, names that can be told apart."""
from __future__ import annotations

import pytest
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

SIZES = [(1500, 940), (1366, 768)]


def _show_tab(dock, widget, qtbot):
    dock.show()
    dock.raise_()
    dock.tabs.setCurrentWidget(widget)
    qtbot.waitUntil(lambda: widget.isVisible())
    qtbot.wait(1)


@pytest.mark.parametrize("size", SIZES)
def test_gradients_tab_gives_every_plot_a_readable_height(make_window, qtbot, size):
    from explorer.ui.training.plots.gradient_panel import HEATMAP_MIN_HEIGHT, PLOT_MIN_HEIGHT

    w = make_window(size=size)
    dock = w.training_dock
    panel = dock.gradients
    _show_tab(dock, panel, qtbot)
    view = panel.body.viewport()
    assert panel.heatmap.height() >= HEATMAP_MIN_HEIGHT
    for plot in (panel.by_depth, panel.curves):
        assert plot.height() >= PLOT_MIN_HEIGHT
    # Too short for all three together: each pane gets the tab's whole height (a page) and it scrolls.
    assert panel.body.paged()
    assert panel.heatmap.height() == max(HEATMAP_MIN_HEIGHT, view.height())
    assert panel.by_depth.height() == max(PLOT_MIN_HEIGHT, view.height())
    assert panel.body.verticalScrollBar().maximum() > 0


def test_paged_plots_share_a_tall_area_and_page_a_short_one(qtbot):
    from explorer.ui.training.plots.paged import PagedPlots

    holder = QWidget()
    panes = [QLabel("a"), QLabel("b")]
    body = PagedPlots([(panes[0], 150), (panes[1], 150)])
    QVBoxLayout(holder).addWidget(body)
    qtbot.addWidget(holder)
    holder.resize(400, 600)
    holder.show()
    qtbot.waitExposed(holder)
    assert not body.paged()
    assert panes[0].height() + panes[1].height() <= body.viewport().height()
    holder.resize(400, 200)
    qtbot.waitUntil(lambda: body.paged())
    qtbot.waitUntil(lambda: panes[0].height() == body.viewport().height())
    assert panes[1].height() == body.viewport().height()   # the x axis of each is on its page
    assert body.verticalScrollBar().maximum() > 0


def test_comparison_plots_page_instead_of_clipping_their_x_axis(make_window, qtbot):
    from explorer.ui.training.comparison_view import PLOT_MIN_HEIGHT

    w = make_window(size=(1366, 768))
    view = w.training_dock.comparison
    assert view.body.minimums == [PLOT_MIN_HEIGHT, PLOT_MIN_HEIGHT]
