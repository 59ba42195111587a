"""The analysis tools know the window's own runs, through real events: after Plain vs residual in the window
the Lesion study and Degeneracy start on the latest finished run, offer the plain twin's run for either run
of the pair and show both side by side with one verdict; a run is picked in the Analysis panel itself or
follows the run list; the current graph is offered only to tools that can use it; no message names a
command line; the lesion verdict says what it measures."""
from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from conftest import build_tiny_graph

TIMEOUT = 120_000


@pytest.fixture
def trained(make_window, qtbot):
    """A window that trained its tiny network with Plain vs residual (one epoch on the digits)."""
    w = make_window(build_tiny_graph(), size=(1366, 768))
    dock = w.training_dock
    dock.form.epochs.setValue(1)
    dock.form.batch_size.setValue(128)
    dock.form.train_samples.setValue(256)   # two steps a run: the weights are what matters here
    with qtbot.waitSignal(dock.trainingActiveChanged, timeout=TIMEOUT, check_params_cb=lambda on: not on):
        QTest.mouseClick(dock.compare_button, Qt.MouseButton.LeftButton)
    plain, residual = dock.controller.run_ids()[-2:]
    assert dock.controller.record(residual).status == "finished"
    yield w, plain, residual
    assert w.analysis_dock.panel.runner.shutdown()


def pick_tool(w, title):
    next(a for a in w.analyze_menu.actions() if a.text() == f"{title}…").trigger()
    panel = w.analysis_dock.panel
    assert panel.tool.title == title
    return panel


def run_and_wait(qtbot, panel):
    with qtbot.waitSignal(panel.resultShown, timeout=TIMEOUT):
        QTest.mouseClick(panel.run_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not panel.runner.is_busy(), timeout=TIMEOUT)


def keys(picker):
    return [picker.combo.itemData(i) for i in range(picker.combo.count())]


def test_lesion_starts_on_the_latest_run_and_shows_the_pair_side_by_side_with_one_verdict(trained, qtbot):
    w, plain, residual = trained
    panel = pick_tool(w, "Lesion study")
    assert "graph" not in keys(panel.picker)                    # no weights there: not offered to this tool
    assert panel.picker.key() == f"run:{residual}"              # the latest finished run of this document
    tool = panel.tool
    assert tool.twin.isEnabled() and tool.twin.isChecked()      # the pair trained in this window
    tool.random_k.setChecked(False)
    run_and_wait(qtbot, panel)
    view = panel.view
    assert view.block_plots["residual"].isVisible() and view.block_plots["plain"].isVisible()
    verdict = panel.verdict.text()
    assert "plain twin" in verdict and "no plain twin run" not in verdict
    assert "the worst block" in verdict and "drops accuracy by" in verdict and "stage1[" in verdict
    assert "main.py" not in verdict and "--out" not in verdict


def test_either_run_of_the_pair_is_picked_in_the_panel_or_the_run_list_and_brings_its_partner(trained, qtbot):
    w, plain, residual = trained
    panel = pick_tool(w, "Degeneracy")
    assert "graph" in keys(panel.picker)                        # degeneracy can measure the current graph
    assert panel.picker.key() == f"run:{residual}"
    # Selecting the plain twin's run in the run list makes it the target, with its partner.
    runs = w.training_dock.runs
    w.training_dock.show()
    w.training_dock.raise_()
    qtbot.waitUntil(runs.isVisible)
    at = runs.visualRect(runs.model_.index(runs.model_.row_of(plain), 1)).center()
    QTest.mouseClick(runs.viewport(), Qt.MouseButton.LeftButton, pos=at)
    qtbot.waitUntil(lambda: panel.picker.key() == f"run:{plain}")
    target = panel.picker.current()
    assert target.key == f"run:{residual}" and target.twin_folder() is not None
    assert panel.tool.twin.isEnabled() and panel.tool.twin.isChecked()
    panel.tool.batch.setValue(32)
    run_and_wait(qtbot, panel)
    assert set(panel.view.parts) == {"residual", "plain"}      # both measured, drawn side by side
    assert "plain twin" in panel.verdict.text()
    # The user steps up the panel's own list to the network's run: the same pair, the same result.
    combo = panel.picker.combo
    combo.setFocus()
    QTest.keyClick(combo, Qt.Key.Key_Up)
    assert panel.picker.key() == f"run:{residual}" and panel.stack.isVisible()


def test_a_tool_that_needs_weights_says_what_to_do_in_the_window(make_window, qtbot):
    w = make_window(build_tiny_graph(), size=(1366, 768))
    panel = pick_tool(w, "Lesion study")
    assert panel.picker.current() is None
    text = panel.verdict.text()
    assert "Train" in text and "main.py" not in text and "--" not in text
    QTest.mouseClick(panel.run_button, Qt.MouseButton.LeftButton)
    assert "Train" in panel.status.text() and "main.py" not in panel.status.text()
    assert "compare" not in panel.tool.twin.toolTip() and "Plain vs residual" in panel.tool.twin.toolTip()


def test_paths_put_the_plain_twins_one_path_beside_the_networks_paths(trained, qtbot):
    w, plain, residual = trained
    panel = pick_tool(w, "Path lengths")
    panel.picker.select(f"run:{residual}")
    assert panel.tool.twin.isEnabled() and panel.tool.twin.isChecked()
    panel.tool.samples.setValue(2)
    run_and_wait(qtbot, panel)
    x, y = panel.view.twin_mark.getData()
    assert list(x) == [2] and len(y) == 1                        # two blocks: its one path has length 2
    assert "has one path only, of length 2" in panel.verdict.text()
