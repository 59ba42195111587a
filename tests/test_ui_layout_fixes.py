"""Layout fixes from a new user's first session, measured on real widgets at the window sizes they used
(1500×940 and 1366×768): every plot readable, no clipped controls, names that can be told apart."""
from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
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


# -- the analysis panel ------------------------------------------------------------------------------------
LONG_ERROR = "the run folder has no weights (last.pt is missing); train it with --out first " * 3


@pytest.mark.parametrize("size", SIZES)
def test_analysis_controls_fit_their_column_and_the_status_line_shows_whole(make_window, qtbot, size):
    from PySide6.QtWidgets import QAbstractButton, QAbstractSpinBox, QComboBox, QScrollArea

    w = make_window(size=size)
    dock = w.analysis_dock
    dock.show()
    dock.raise_()
    panel = dock.panel
    qtbot.waitUntil(panel.isVisible)
    scroll = panel.findChild(QScrollArea)
    for i in range(panel.tool_box.count()):
        panel.tool_box.setCurrentIndex(i)
        qtbot.wait(1)
        column = scroll.widget()   # as tall as its wrapped labels need: what does not fit scrolls
        assert column.height() >= column.layout().heightForWidth(scroll.viewport().width())
        for c in scroll.widget().findChildren(QWidget):
            if c.isVisible() and isinstance(c, (QLabel, QAbstractButton, QAbstractSpinBox, QComboBox)):
                right = c.mapTo(scroll.widget(), c.rect().topRight()).x()
                assert right <= scroll.viewport().width(), (panel.tool_box.itemText(i), c)
                assert c.width() >= c.minimumSizeHint().width(), (panel.tool_box.itemText(i), c)
    with qtbot.waitSignal(panel.message):
        qtbot.mouseClick(panel.run_button, Qt.MouseButton.LeftButton)   # some tool refuses: a status line
    panel.status.setText(f"error: {LONG_ERROR}")   # the longest kind of line it shows
    qtbot.waitUntil(lambda: panel.status.height() >= panel.status.heightForWidth(panel.status.width()))
    bottom = panel.status.mapTo(panel, panel.status.rect().bottomLeft()).y()
    assert bottom <= panel.height()


def test_the_header_says_running_while_an_analysis_runs(make_window, qtbot):
    import threading

    from explorer.ui.analysis.panel import AnalysisPanel
    from explorer.ui.analysis.tool import Tool, ToolView

    release = threading.Event()

    class View(ToolView):
        def show_result(self, result): pass
        def clear(self): pass
        def table(self): return [], []

    class Waits(Tool):
        name, title, summary = "waits", "Waits", "returns when the test lets it"

        def job(self, target):
            return lambda control: (release.wait(30), {"verdict": "done"})[1]

        def make_view(self):
            return View()

    w = make_window()
    panel = AnalysisPanel(w.document, tools=[Waits])
    qtbot.addWidget(panel)
    panel.show()
    with qtbot.waitSignal(panel.runner.busyChanged):
        qtbot.mouseClick(panel.run_button, Qt.MouseButton.LeftButton)
    panel.picker.targetChanged.emit()   # the picker re-announces its target mid-run (e.g. a run list refresh)
    assert "running" in panel.verdict.text() and "has not run" not in panel.verdict.text()
    with qtbot.waitSignal(panel.resultShown, timeout=30_000):
        release.set()
    assert panel.verdict.text() == "done"
    assert panel.runner.shutdown()


# -- the run list -------------------------------------------------------------------------------------------
def test_run_names_keep_their_suffix_and_stay_apart_when_shortened(qapp):
    from PySide6.QtGui import QFontMetrics

    from explorer.ui.training.run_name import fit_run_name

    fm = QFontMetrics(qapp.font())
    names = ["resnet20_digits #1", "resnet20_digits (plain twin) #1", "resnet20_digits #2"]
    width = fm.horizontalAdvance("resnet20_digits (plain) #1")
    shown = [fit_run_name(n, fm, width) for n in names]
    assert shown[0] == names[0] and shown[2] == names[2]   # they fit: shown whole
    assert shown[1] == "resnet20_digits (plain) #1"
    narrow = fm.horizontalAdvance("resnet2… (plain) #1")
    shown = [fit_run_name(n, fm, narrow) for n in names]
    assert len(set(shown)) == 3, shown
    assert shown[0].endswith(" #1") and shown[1].endswith("(plain) #1") and shown[2].endswith(" #2")
    assert all(fm.horizontalAdvance(s) <= narrow for s in shown)


@pytest.mark.parametrize("size", SIZES)
def test_the_run_list_keeps_three_rows_in_view(make_window, qtbot, size):
    w = make_window(size=size)
    runs = w.training_dock.runs
    w.training_dock.show()
    w.training_dock.raise_()
    qtbot.waitUntil(runs.isVisible)
    header = runs.horizontalHeader().height()
    assert runs.viewport().height() >= 3 * runs.verticalHeader().defaultSectionSize()
    assert header > 0


# -- the inspector ------------------------------------------------------------------------------------------
def test_the_inspector_shows_a_clicked_connection_and_forgets_it_when_it_goes(make_window, qtbot):
    from PySide6.QtTest import QTest

    from explorer.train.testing import tiny_graph

    w = make_window(tiny_graph(channels=8, blocks=2, classes=10, name="tiny_res"))
    src, dst = next(iter(w.scene.edges))
    edge = w.scene.edges[(src, dst)]
    w.view.centerOn(edge.path().pointAtPercent(0.5))
    mid = w.view.mapFromScene(edge.path().pointAtPercent(0.5))
    QTest.mouseClick(w.view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, mid)
    assert edge.isSelected()
    ins = w.inspector
    assert ins.title.text() == "Connection"
    assert f"{src} → {dst}" in ins.subtitle.text()
    info = w.analysis.result.nodes[src]
    from explorer.graph import fmt_shape
    assert fmt_shape(info.out_shape) in ins.shapes.text()
    w.scene.clearSelection()
    assert ins.title.text() == "Nothing selected"


@pytest.mark.parametrize("size", SIZES)
def test_the_quantity_choice_shows_its_entry_whole_where_the_bar_has_room(make_window, qtbot, size):
    """The Gradients and Plain vs residual bars: the choice of statistic no longer cuts its entry short
    ("weight gradient ‖∂L/∂w" lost its last bar) when the window has room for the whole entry."""
    w = make_window(size=size)
    dock = w.training_dock
    dock.show()
    dock.raise_()
    for title in ("Gradients", "Plain vs residual"):   # the second is built when first shown
        dock.tabs.setCurrentIndex(next(i for i in range(dock.tabs.count()) if dock.tabs.tabText(i) == title))
        view = dock.gradients if title == "Gradients" else dock.comparison
        qtbot.waitUntil(view.isVisible)
        box = view.quantity
        for i in range(box.count()):
            box.setCurrentIndex(i)
            text_width = box.fontMetrics().horizontalAdvance(box.currentText())
            assert box.width() >= text_width + 20, (box.currentText(), box.width(), size)
