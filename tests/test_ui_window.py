"""The window as a whole: default network, inspector edits, summary, problems, presets, blocks inside,
theme, export, screenshot."""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QImage, QPalette
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QSpinBox

from explorer.network.inference import analyze
from explorer.presets import list_presets

from conftest import open_inside

ROOT = Path(__file__).resolve().parents[1]


def test_opens_on_a_valid_default_network(make_window):
    w = make_window()
    a = w.analysis.result
    assert a.valid and a.input_shape == (1, 8, 8) and a.output_shape == (10,)
    assert set(w.scene.nodes) == set(w.document.graph.nodes)
    assert len(w.scene.edges) == len(w.document.graph.edges)
    assert "valid" in w.summary.text("status") and "20" in w.summary.text("depth")
    assert "digits" in w.summary.text("data")
    assert not w.document.dirty and "resnet20" in w.windowTitle()
    assert w.palette.find("block", "dual_path") is not None and w.palette.find("preset", "resnet1202") is not None


def test_inspector_edit_changes_the_shape_labels(make_window):
    w = make_window()
    w.scene.select_node("stem_conv")
    assert w.inspector.node_id == "stem_conv"
    spin = w.inspector.findChild(QSpinBox, "param_out_channels")
    assert spin is not None and spin.value() == 16
    edge = w.scene.edges[("stem_conv", "stem_bn")]
    assert edge.text == "16×8×8"
    spin.lineEdit().selectAll()
    QTest.keyClicks(spin.lineEdit(), "24")
    QTest.keyClick(spin.lineEdit(), Qt.Key_Return)
    assert w.document.graph.node("stem_conv").params["out_channels"] == 24
    w.analysis.refresh()
    assert edge.text == "24×8×8"
    assert w.scene.edges[("stem_bn", "stem_relu")].text == "24×8×8"
    assert w.document.dirty and w.windowTitle().startswith("resnet20_digits")
    # the arrows are one undo step per run of edits on the same field
    spin.stepUp()
    spin.stepUp()
    assert w.document.graph.node("stem_conv").params["out_channels"] == 26
    w.edit.undo.trigger()
    assert w.document.graph.node("stem_conv").params["out_channels"] == 16
    assert spin.value() == 16  # the editor follows the model back
    w.analysis.refresh()
    assert edge.text == "16×8×8"


def test_invalid_graph_turns_red_and_lists_the_problem(make_window):
    w = make_window()
    w.scene.select_node("stage2")
    w.inspector.findChild(QSpinBox, "param_stride")  # exists
    combo = [c for c in w.inspector.findChildren(object) if getattr(c, "objectName", lambda: "")() == "param_shortcut"][0]
    combo.setCurrentText("identity")  # 16 → 32 channels cannot be an identity
    a = w.analysis.result
    assert not a.valid
    item = w.scene.nodes["stage2"]
    assert item.severity == "error" and "identity" in item.tooltip_text()
    assert w.problems.problem_count() >= 1
    assert "invalid" in w.summary.text("status")
    first = w.problems.item(0)
    assert "stage2" in first.text()
    w.scene.clearSelection()
    w.problems.itemClicked.emit(first)
    assert w.scene.selected_node_ids() == ["stage2"]
    w.edit.undo.trigger()
    assert w.analysis.result.valid and item.severity == ""


def test_repeat_editor_and_split_collapse(make_window):
    w = make_window()
    g = w.document.graph
    w.scene.select_node("stage3")
    rep = w.inspector.findChild(QSpinBox, "param_repeat")
    rep.setValue(5)
    assert g.node("stage3").repeat == 5
    params = w.analysis.result.total.params
    w.edit.split.trigger()
    assert g.node("stage3").repeat == 1 and "stage3_5" in g
    assert w.analysis.result.total.params == params
    w.scene.select_nodes(["stage3", "stage3_2", "stage3_3", "stage3_4", "stage3_5"])
    w.edit.collapse.trigger()
    assert g.node("stage3").repeat == 5 and "stage3_2" not in g
    w.edit.undo.trigger()
    assert "stage3_5" in g and "stage3_5" in w.scene.nodes


def test_expand_in_place_and_undo(make_window):
    w = make_window()
    g = w.document.graph
    before = analyze(g).total
    w.scene.select_node("stage1")
    w.edit.expand.trigger()
    assert "stage1" not in g and "stage1_1_conv1" in g
    assert set(w.scene.nodes) == set(g.nodes)
    assert w.analysis.result.total == before
    w.edit.undo.trigger()
    assert "stage1" in g and "stage1_1_conv1" not in g and set(w.scene.nodes) == set(g.nodes)


def test_open_inside_shows_the_primitives(make_window, qtbot):
    dialog = open_inside(qtbot, make_window(), "stage2")
    types = {n.type for n in dialog.scene.graph.nodes.values()}
    assert {"conv2d", "batchnorm", "add"} <= types
    assert not dialog.scene.editable
    assert "3" in dialog.rep.suffix()
    dialog.rep.setValue(2)  # the second repetition: no stride, identity shortcut
    assert "zeropad_shortcut" not in {n.type for n in dialog.scene.graph.nodes.values()}
    dialog.close()


def test_every_preset_opens_without_error(make_window):
    w = make_window()
    for info in list_presets():
        assert w.files.open_preset(info.name), info.name
        a = w.analysis.result
        assert a.valid, (info.name, [p.text for p in a.problems])
        assert len(w.scene.nodes) == len(w.document.graph) and len(w.scene.edges) == len(w.document.graph.edges)
    assert not [q for q in w.dialogs.asked if q[0] == "error"]


def test_fully_expanded_thousand_layer_net_draws_an_overview(make_window):
    w = make_window()
    w.files.open_preset("preact_resnet1001")
    w.edit.expand_all.trigger()
    g = w.document.graph
    assert len(g) > 3000 and len(w.scene.nodes) == len(g)
    assert w.analysis.result.total.weight_layers == 1004
    w.view.fit()
    assert w.scene.overview
    canvas, drawn = common_colours(w.view.viewport())
    assert canvas == w.scene.style.theme.canvas and drawn != canvas   # the overview paints the network
    # far out, a click still selects the node under it (the overview answers, not the items)
    target = next(n for n in g.nodes.values() if n.type == "add")
    at = w.view.mapFromScene(QPointF(*target.pos))
    QTest.mouseClick(w.view.viewport(), Qt.LeftButton, Qt.NoModifier, at)
    assert w.scene.selected_node_ids() == [target.id] and w.inspector.node_id == target.id
    w.view.set_zoom(0.8)
    assert not w.scene.overview
    w.edit.undo.trigger()
    assert len(g) < 30


def common_colours(widget, n=2) -> list[QColor]:
    """The ``n`` colours that cover most of what ``widget`` shows, most common first."""
    img = widget.grab().toImage().convertToFormat(QImage.Format.Format_RGBX8888)
    rgb = np.frombuffer(img.constBits(), np.uint8).reshape(img.height(), img.bytesPerLine() // 4, 4)
    values, counts = np.unique(rgb[:, :img.width(), :3].reshape(-1, 3), axis=0, return_counts=True)
    return [QColor(*(int(v) for v in values[i])) for i in np.argsort(-counts)[:n]]


def test_the_canvas_follows_the_system_colour_scheme(make_window, monkeypatch):
    from explorer.ui.theme import DARK, LIGHT

    def system_switches_to(name, scheme):
        monkeypatch.setenv("RESIDUAL_EXPLORER_THEME", name)   # what the platform reports, as the app reads it
        QApplication.styleHints().colorSchemeChanged.emit(scheme)

    monkeypatch.setenv("RESIDUAL_EXPLORER_THEME", "light")
    w = make_window()
    assert common_colours(w.view.viewport()) == [LIGHT.canvas, LIGHT.node]   # the canvas, then node faces
    try:
        system_switches_to("dark", Qt.ColorScheme.Dark)
        assert w.scene.style.theme is DARK
        assert common_colours(w.view.viewport()) == [DARK.canvas, DARK.node]
        assert QApplication.palette().color(QPalette.ColorRole.Window) == QColor("#232428")
    finally:
        system_switches_to("light", Qt.ColorScheme.Light)        # the app palette is shared by later tests
    assert common_colours(w.view.viewport()) == [LIGHT.canvas, LIGHT.node]
    assert QApplication.palette().color(QPalette.ColorRole.Window) != QColor("#232428")


def test_export_png_and_svg(make_window, tmp_path):
    w = make_window()
    w.scene.select_node("stage1")
    w.dialogs.paths = [str(tmp_path / "net.png"), str(tmp_path / "net.svg")]
    assert w.files.export("png") and w.files.export("svg")
    img = QImage(str(tmp_path / "net.png"))
    assert img.width() > 1000 and img.height() > 50
    svg = (tmp_path / "net.svg").read_text()
    assert svg.startswith("<?xml") and "Basic residual" in svg
    assert w.scene.selected_node_ids() == ["stage1"]  # the export did not lose the selection


@pytest.mark.parametrize("arch", [None, "resnet1202"])
def test_screenshot_command(tmp_path, arch):
    out = tmp_path / "shot.png"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_CONFIG_HOME=str(tmp_path), XDG_DATA_HOME=str(tmp_path))
    cmd = [sys.executable, "main.py", "--screenshot", str(out)] + ([arch] if arch else [])
    r = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    img = QImage(str(out))
    assert img.width() >= 1000 and img.height() >= 600


def test_screenshot_of_unknown_arch_is_an_error(tmp_path, capsys):
    from explorer.ui.app import run_app

    assert run_app(["--screenshot", str(tmp_path / "x.png"), "resnet_nope"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: unknown preset") and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "x.png").exists()


def test_keyboard_shortcuts_are_wired(make_window):
    w = make_window()
    shortcuts = {a.shortcut().toString() for a in w.findChildren(type(w.fit_action)) if not a.shortcut().isEmpty()}
    for keys in ("Ctrl+Z", "Ctrl+Shift+Z", "Del", "Ctrl+S", "Ctrl+O", "Ctrl+N", "Ctrl+F"):
        assert keys in shortcuts, keys
    QApplication.processEvents()
