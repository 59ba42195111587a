"""The Degeneracy tool in the Analyze panel through real events: Analyze ▸ Degeneracy, Run on the current
graph (the network and its plain twin at initialisation, no heat map) and on a compare-style run folder
(init, best and last: the heat map of effective rank, layers × checkpoints, on one colour scale), clicks on
a point and on a heat-map cell select the layer's node on the canvas, the canvas's selection marks it, and
saved results with bad values inside are drawn or refused cleanly.

A tiny compare-style folder (DIR/residual and DIR/plain, one full epoch on the digits, so each has best.pt
and last.pt) is trained once for the module."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PySide6.QtCore import Qt

from explorer.ui.analysis.degeneracy import DegeneracyView
from explorer.util.untrusted import UntrustedInputError

from conftest import canvas_graph, junk_values, planted

WAIT_MS = 60_000   # a generous upper bound for a result; the tests never sleep

pytestmark = pytest.mark.usefixtures("one_thread")   # conftest: torch on one thread for the module


@pytest.fixture(scope="module")
def runs(train_comparison):
    return train_comparison(canvas_graph(), epochs=1, stats_every=0, device="cpu")


@pytest.fixture
def window(make_window):
    w = make_window(canvas_graph(), size=(1400, 900))
    yield w
    assert w.analysis_dock.panel.runner.shutdown()


def pick_degeneracy(w):
    next(a for a in w.analyze_menu.actions() if a.text() == "Degeneracy…").trigger()
    panel = w.analysis_dock.panel
    assert panel.tool.title == "Degeneracy" and w.analysis_dock.isVisible()
    return panel


def run_and_wait(qtbot, panel):
    with qtbot.waitSignal(panel.resultShown, timeout=WAIT_MS) as blocker:
        qtbot.mouseClick(panel.run_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not panel.runner.is_busy(), timeout=WAIT_MS)
    return blocker.args[0]


def click(qtbot, view: DegeneracyView, widget, x, y):
    clicks = next(c for c in view.clicks if c.widget is widget)
    qtbot.mouseClick(widget.viewport(), Qt.MouseButton.LeftButton, pos=clicks.position(x, y))


def test_the_current_graph_is_measured_with_its_plain_twin_and_points_select_nodes_both_ways(qtbot, window):
    panel = pick_degeneracy(window)
    assert panel.tool.twin.isEnabled() and panel.tool.twin.isChecked()   # the twin is built from the graph
    panel.tool.batch.setValue(16)
    assert run_and_wait(qtbot, panel) == "degeneracy"
    view: DegeneracyView = panel.view
    units = ["stem_conv", "stem_bn", "stage1[0]", "stage1[1]", "classifier"]
    assert view.parts["residual"]["units"] == units and view.parts["plain"]["units"] == units
    for net in ("residual", "plain"):
        x, y = view.curves[(net, "rank")].getData()
        assert list(x) == list(range(5)) and np.all((y >= 1) & (y <= 15))   # at most batch − 1
    assert not any(m.isVisible() for m in view.maps.values())                # one checkpoint: no heat map
    assert "plain twin" in panel.verdict.text() and "effective rank" in panel.verdict.text()

    scene = window.scene
    rank = view.parts["residual"]["grid"][3, -1]
    click(qtbot, view, view.rank_plot, 3, rank)
    assert scene.selected_node_ids() == ["stage1"]
    assert view.marked() == [2, 3]                                            # both repetitions of the stage
    scene.select_node("classifier")
    assert view.marked() == [4]


def test_a_run_folder_shows_init_best_and_last_as_a_heat_map_on_one_scale(qtbot, window, runs, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    panel = pick_degeneracy(window)
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(runs / "residual"))
    qtbot.mouseClick(panel.picker.browse, Qt.MouseButton.LeftButton)
    assert panel.tool.twin.isEnabled() and panel.tool.twin.isChecked()   # compare --out wrote the twin
    panel.tool.batch.setValue(24)
    run_and_wait(qtbot, panel)
    view: DegeneracyView = panel.view
    for net in ("residual", "plain"):
        assert view.parts[net]["checkpoints"] == ["init", "best", "last"]
        assert view.maps[net].isVisible() and view.images[net].array.shape == (5, 3)
        _, init = view.curves[(net, "init")].getData()
        assert np.allclose(init, view.parts[net]["grid"][:, 0])
    assert view.levels[1] == pytest.approx(max(float(p["grid"].max()) for p in view.parts.values()))
    header, rows = view.table()
    assert header[:4] == ["network", "label", "checkpoint", "unit"] and len(rows) == 2 * 3 * 5

    click(qtbot, view, view.maps["plain"], 0, 1)                             # the stem conv at "best"
    assert window.scene.selected_node_ids() == ["stem_conv"]


def valid_result():
    layer = {"node": "stage1", "unit": "stage1[0]", "depth": 3, "effective_rank": 4.0, "dead_fraction": 0.0,
             "max_corr": 0.5}
    return {"label": "net", "layers": [layer], "checkpoints": [{"checkpoint": "init", "layers": [layer]},
                                                               {"checkpoint": "last", "layers": [dict(layer)]}],
            "plain": None, "verdict": "v"}


JUNK = junk_values()
PLACES = [("checkpoints",), ("checkpoints", 0), ("checkpoints", 0, "layers"), ("checkpoints", 1, "checkpoint"),
          ("checkpoints", 1, "layers", 0, "effective_rank"), ("checkpoints", 1, "layers", 0, "node"),
          ("checkpoints", 1, "layers", 0, "max_corr"), ("label",), ("plain",)]
_views: dict = {}


@settings(max_examples=30, deadline=None)
@given(place=st.sampled_from(PLACES), junk=JUNK)
def test_a_saved_result_with_bad_nested_values_is_drawn_or_refused_cleanly(qapp, place, junk):
    result = planted(valid_result(), place, junk)
    view = _views.setdefault("view", DegeneracyView())   # one view for all examples: redrawn each time
    try:
        view.show_result(result)
    except UntrustedInputError:
        return
    for (_, kind), curve in view.curves.items():
        x, _ = curve.getData()
        assert x is None or len(x) <= 1
