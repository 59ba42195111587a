"""Export Picture leaves out the selection: a node clicked on the canvas (and the edges it lights up) is not
highlighted in the PNG, and is still selected afterwards."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from PySide6.QtTest import QTest


def click_node(w, node_id: str) -> None:
    item = w.scene.nodes[node_id]
    at = w.view.mapFromScene(item.sceneBoundingRect().center())
    QTest.mouseClick(w.view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, at)


def test_export_picture_leaves_out_the_selection_highlight(make_window, qtbot, tmp_path):
    w = make_window()
    qtbot.waitUntil(lambda: w.view.viewport().isVisible())
    w.dialogs.paths = [str(tmp_path / "plain.png"), str(tmp_path / "selected.png")]
    w.files.export_png.trigger()                          # nothing selected
    click_node(w, "stage2")
    assert w.scene.selected_node_ids() == ["stage2"]
    w.files.export_png.trigger()
    plain, selected = QImage(str(tmp_path / "plain.png")), QImage(str(tmp_path / "selected.png"))
    assert not plain.isNull() and plain == selected       # pixel for pixel: no outline, no lit edges
    assert w.scene.selected_node_ids() == ["stage2"]
