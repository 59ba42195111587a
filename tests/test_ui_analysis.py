"""The analysis panel through real events: the Analyze menu picks a tool, Run computes in the worker thread
(the result arrives by signal and is drawn), Cancel stops a running tool, lesion bars and the canvas select
each other, results are saved beside the run and reappear after reopening the document, exports write
what they say, and bad saved results are refused with a message.

A tiny compare-style folder (DIR/residual and DIR/plain, each a `train --out` run folder, one epoch on
the digits) is trained once for the module."""
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from PySide6.QtCore import Qt

from explorer.ui.analysis.lesion import LesionView
from explorer.ui.analysis.results_file import load_results
from explorer.util.untrusted import UntrustedInputError

from conftest import canvas_graph, junk_values, planted

WAIT_MS = 60_000   # a generous upper bound for a result; the tests never sleep

pytestmark = pytest.mark.usefixtures("one_thread")   # conftest: torch on one thread for the module


@pytest.fixture(scope="module")
def runs(train_comparison):
    return train_comparison(canvas_graph(), epochs=1, max_steps=12, stats_every=0, device="cpu")


@pytest.fixture
def window(make_window):
    w = make_window(canvas_graph(), size=(1400, 900))
    yield w
    assert w.analysis_dock.panel.runner.shutdown()


def menu_action(w, title):
    return next(a for a in w.analyze_menu.actions() if a.text() == f"{title}…")


def pick(w, title):
    """Analyze ▸ <tool>: the panel shows that tool."""
    menu_action(w, title).trigger()
    panel = w.analysis_dock.panel
    assert panel.tool.title == title and w.analysis_dock.isVisible()
    return panel


def choose_folder(qtbot, panel, folder, monkeypatch):
    """"Run folder…" answered with ``folder``."""
    from PySide6.QtWidgets import QFileDialog

    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(folder))
    qtbot.mouseClick(panel.picker.browse, Qt.MouseButton.LeftButton)
    assert panel.picker.key() == f"folder:{folder}"


def run_and_wait(qtbot, panel):
    with qtbot.waitSignal(panel.resultShown, timeout=WAIT_MS) as blocker:
        qtbot.mouseClick(panel.run_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not panel.runner.is_busy(), timeout=WAIT_MS)
    return blocker.args[0]


# -- running a tool -------------------------------------------------------------------------------------
def test_the_analyze_menu_lists_every_tool_and_refuses_what_a_target_cannot_do(qtbot, window):
    titles = [a.text() for a in window.analyze_menu.actions() if a.text().endswith("…")]
    assert titles == ["Gradient flow…", "Depth sweep…", "Lesion study…", "Path lengths…", "Loss landscape…",
                      "Block anatomy…", "Degeneracy…"]
    panel = pick(window, "Loss landscape")
    assert panel.png_button.text() == "Save loss landscape picture (PNG)…"
    assert panel.csv_button.text() == "Save loss landscape data (CSV)…"
    # What to do in the window, never a command line to run.
    assert "needs a trained run" in panel.verdict.text() and "Train" in panel.verdict.text()
    assert "--out" not in panel.verdict.text() and "main.py" not in panel.verdict.text()
    assert not panel.stack.isVisible()                     # no empty axes before a result
    panel = pick(window, "Lesion study")                   # the current graph has no trained weights
    qtbot.mouseClick(panel.run_button, Qt.MouseButton.LeftButton)
    assert not panel.runner.is_busy()
    assert "Train" in panel.status.text() and "--out" not in panel.status.text()


def test_gradient_flow_runs_on_the_current_graph_and_draws_both_networks_in_both_regimes(qtbot, window):
    panel = pick(window, "Gradient flow")
    panel.tool.batch.setValue(16)
    assert run_and_wait(qtbot, panel) == "gradflow"
    view = panel.view
    for regime in ("with_bn", "without_bn"):
        for net in ("residual", "plain"):
            x, y = view.curves[(regime, net)].getData()
            assert list(x) == list(range(len(view.rows[(regime, net)]))) and np.all(np.isfinite(y))
    assert len(view.rows[("with_bn", "residual")]) == 5       # stem conv, BN, two blocks, classifier
    assert len(view.rows[("without_bn", "residual")]) == 4    # the BN bypassed
    verdict = panel.verdict.text().splitlines()
    assert verdict[0].startswith("with normalisation") and verdict[1].startswith("without normalisation")
    assert "plain twin" in verdict[0]
    assert window.analysis_dock.panel.png_button.isEnabled()


def test_cancel_stops_a_running_landscape_and_keeps_nothing(qtbot, window, runs, monkeypatch):
    panel = pick(window, "Loss landscape")
    choose_folder(qtbot, panel, runs / "residual", monkeypatch)
    panel.tool.grid.setValue(101)
    panel.tool.two_d.setChecked(True)               # 10,201 points: far longer than the test waits
    with qtbot.waitSignal(panel.runner.progress, timeout=WAIT_MS):
        qtbot.mouseClick(panel.run_button, Qt.MouseButton.LeftButton)
    assert panel.cancel_button.isEnabled()
    with qtbot.waitSignal(panel.runner.cancelled, timeout=WAIT_MS):
        qtbot.mouseClick(panel.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not panel.runner.is_busy(), timeout=WAIT_MS)
    assert "cancelled" in panel.status.text()
    assert panel.run_button.isEnabled() and not panel.cancel_button.isEnabled()
    assert not (runs / "residual" / "analysis.json").exists() or \
        "landscape" not in load_results(runs / "residual" / "analysis.json").by_tool


# -- lesion, the twin and the canvas ------------------------------------------------------------------------
def test_lesion_shows_the_run_and_its_plain_twin_and_bars_select_nodes_both_ways(qtbot, window, runs, monkeypatch):
    panel = pick(window, "Lesion study")
    choose_folder(qtbot, panel, runs / "residual", monkeypatch)
    tool = panel.tool
    assert tool.twin.isEnabled() and tool.twin.isChecked()   # compare --out wrote the twin beside it
    tool.draws.setValue(2)
    assert run_and_wait(qtbot, panel) == "lesion"
    view: LesionView = panel.view
    assert list(view.keys["residual"]) == ["stage1[0]", "stage1[1]"]
    assert view.block_plots["plain"].isVisible() and len(view.bars["plain"].heights) == 2
    assert np.all((view.bars["residual"].heights >= 0) & (view.bars["residual"].heights <= 1))
    assert "plain twin" in panel.verdict.text() and "deleting one block costs" in panel.verdict.text()
    saved = load_results(runs / "residual" / "analysis.json").by_tool["lesion"]
    assert saved["verdict"] == panel.verdict.text()

    scene = window.scene
    scene.select_node("classifier")
    qtbot.mouseClick(view.block_plots["residual"].viewport(), Qt.MouseButton.LeftButton,
                     pos=view.bars["residual"].centre(1))
    assert scene.selected_node_ids() == ["stage1"]
    assert view.bars["residual"].marked == {0, 1}            # both repetitions of the stage
    scene.select_node("classifier")
    assert view.bars["residual"].marked == frozenset()


def test_a_view_is_built_when_its_tool_is_first_shown_and_knows_the_selection_made_before(qtbot, window, runs,
                                                                                          monkeypatch):
    panel = window.analysis_dock.panel
    first = panel.tool.name
    assert panel.stack.count() == 1 and panel.stack.currentWidget() is panel.views[first]
    window.scene.select_node("stage1")            # before the lesion view exists
    lesion = pick(window, "Lesion study")
    assert panel.stack.count() == 2 and panel.stack.currentWidget() is lesion.view
    choose_folder(qtbot, panel, runs / "residual", monkeypatch)
    lesion.tool.draws.setValue(2)
    assert run_and_wait(qtbot, panel) == "lesion"
    assert panel.view.bars["residual"].marked == {0, 1}   # the earlier selection, marked on the late view
    clicked = []
    panel.nodeClicked.connect(clicked.append)
    qtbot.mouseClick(panel.view.block_plots["residual"].viewport(), Qt.MouseButton.LeftButton,
                     pos=panel.view.bars["residual"].centre(0))
    assert clicked == ["stage1"]                  # the late view's clicks reach the panel
    pick(window, panel.tools[0].title)
    assert panel.stack.count() == 2               # shown before: not built again


def test_results_reappear_after_reopening_the_document(qtbot, window, runs, monkeypatch, tmp_path):
    path = tmp_path / "net.json"
    window.document.save(path)
    panel = pick(window, "Gradient flow")
    panel.tool.batch.setValue(8)
    run_and_wait(qtbot, panel)
    assert (tmp_path / "net.runs" / "graph.analysis.json").is_file()
    panel = pick(window, "Path lengths")
    choose_folder(qtbot, panel, runs / "residual", monkeypatch)
    panel.tool.samples.setValue(2)
    run_and_wait(qtbot, panel)
    shown = panel.view.table()

    window.document.new()
    assert panel.picker.key() == "graph" and "has not run" in panel.verdict.text()
    with qtbot.waitSignal(panel.resultShown, timeout=WAIT_MS):
        window.document.open(path)
    assert panel.picker.key() == f"folder:{runs / 'residual'}"   # the folder last analysed, with its result
    assert panel.view.table() == shown
    pick(window, "Gradient flow")
    panel.picker.select("graph")
    x, _ = panel.view.curves[("with_bn", "residual")].getData()
    assert len(x) > 0 and "with normalisation" in panel.verdict.text()


def test_exports_write_the_picture_and_the_data(qtbot, window, tmp_path, monkeypatch):
    from PySide6.QtGui import QImage
    from PySide6.QtWidgets import QFileDialog

    panel = pick(window, "Block anatomy")
    run_and_wait(qtbot, panel)
    answers = iter([str(tmp_path / "anatomy.png"), str(tmp_path / "anatomy.csv")])
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (next(answers), ""))
    qtbot.mouseClick(panel.png_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(panel.csv_button, Qt.MouseButton.LeftButton)
    assert not QImage(str(tmp_path / "anatomy.png")).isNull()
    lines = (tmp_path / "anatomy.csv").read_text().splitlines()
    assert lines[0] == "node,block,repeat,params,macs,params_share,macs_share"
    assert [ln.split(",")[0] for ln in lines[1:]] == panel.view.nodes
    shares = [float(ln.split(",")[5]) for ln in lines[1:]]
    assert math.isclose(sum(shares), 1.0, rel_tol=1e-6)


# -- saved results are untrusted input ------------------------------------------------------------------------
def test_a_damaged_results_file_is_reported_and_replaced(qtbot, window, runs, monkeypatch, tmp_path):
    import shutil

    folder = tmp_path / "run"
    shutil.copytree(runs / "residual", folder)
    (folder / "analysis.json").write_text('{"format": "residual-explorer-analysis", "version": 1, '
                                          '"results": {"lesion": {"residual": {"blocks": "many"}}}}')
    panel = pick(window, "Lesion study")
    choose_folder(qtbot, panel, folder, monkeypatch)
    assert "could not be shown" in panel.verdict.text() and "'blocks' must be a list" in panel.verdict.text()
    (folder / "analysis.json").write_text("{not json")
    window.document.new()
    panel.picker.add_folder(str(folder))
    assert "could not be read" in panel.status.text()


def valid_lesion():
    return {"residual": {"label": "net", "baseline_acc": 0.9, "blocks": [{"node": "stage1", "unit": "stage1[0]",
                                                                          "acc": 0.8}],
                         "skipped": [{"node": "s2", "unit": "s2[0]", "reason": "shape"}],
                         "random": [{"k": 1, "mean_acc": 0.8, "std": 0.0}]},
            "plain": None, "verdict": "v"}


JUNK = junk_values()
PLACES = [("residual", "baseline_acc"), ("residual", "blocks"), ("residual", "blocks", 0, "acc"),
          ("residual", "blocks", 0, "node"), ("residual", "random", 0, "k"), ("residual", "random", 0, "std"),
          ("residual", "skipped", 0, "reason"), ("residual", "label"), ("plain",), ("residual",)]


_views: dict = {}


@given(place=st.sampled_from(PLACES), junk=JUNK)
def test_a_lesion_result_with_bad_nested_values_is_drawn_or_refused_cleanly(qapp, place, junk):
    result = planted(valid_lesion(), place, junk)
    if "lesion" not in _views:
        _views["lesion"] = LesionView()   # one view for all examples: it is redrawn each time
    view = _views["lesion"]
    try:
        view.show_result(result)
    except UntrustedInputError:
        return
    assert all(np.all(np.isfinite(b.heights)) for b in view.bars.values())


def test_the_graph_target_is_copied_only_for_the_worker(window):
    """Showing a target reads the document's graph; Run hands the worker a copy taken then, so an edit made
    while the tool runs does not reach it."""
    from explorer.ui import commands

    panel = window.analysis_dock.panel
    target = panel.picker.current()
    assert target.key == "graph" and target.graph is window.document.graph
    snap = target.snapshot()
    commands.execute(window.document.stack, commands.SetParam(window.document.graph, "stem_conv", "out_channels", 20))
    assert snap.graph is not window.document.graph
    assert snap.graph.node("stem_conv").params["out_channels"] != 20 and snap.key == target.key
