"""No stale views, through real events: the plots' hover readouts and every "Inside …" window go when their
document goes; Escape closes an Inside window; the Runs list's overlay ticks come back on reopen."""
from __future__ import annotations

from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QStyle
from PySide6.QtTest import QTest

from conftest import build_tiny_graph, open_inside

TIMEOUT = 60_000


def test_escape_closes_an_inside_window_and_another_document_closes_them_all(make_window, qtbot):
    w = make_window()
    first = open_inside(qtbot, w, "stage2")
    first.view.setFocus()                       # the person clicked into the inside's canvas
    with qtbot.waitSignal(first.finished, timeout=TIMEOUT):
        QTest.keyClick(first.view.viewport(), Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not first.isVisible())
    second = open_inside(qtbot, w, "stage2")
    with qtbot.waitSignal(second.finished, timeout=TIMEOUT):
        w.files.new.trigger()                   # its document goes: so does the window onto its inside
    assert not second.isVisible()


def test_hover_readouts_go_with_their_document(make_window, qtbot):
    w = make_window(build_tiny_graph())
    dock = w.training_dock
    dock.form.epochs.setValue(1)
    dock.form.batch_size.setValue(128)
    dock.form.train_samples.setValue(256)
    with qtbot.waitSignal(dock.runFinished, timeout=TIMEOUT):
        QTest.mouseClick(dock.train_button, Qt.MouseButton.LeftButton)
    views = (dock.metrics.loss, dock.gradients.heatmap, dock.gradients.by_depth, dock.gradients.curves)
    for v in views:
        v.readout.setText("untitled #2 step 12: train 17.19")   # as a hover over the plot left it
    w.files.new.trigger()
    assert all(v.readout.text().strip() == "" for v in views)


def test_overlay_ticks_come_back_when_the_document_reopens(make_window, qtbot, tmp_path):
    w = make_window(build_tiny_graph())
    path = tmp_path / "net.json"
    w.document.save(path)
    dock = w.training_dock
    dock.form.epochs.setValue(1)
    dock.form.batch_size.setValue(128)
    dock.form.train_samples.setValue(256)
    for _ in range(2):
        with qtbot.waitSignal(dock.runFinished, timeout=TIMEOUT):
            QTest.mouseClick(dock.train_button, Qt.MouseButton.LeftButton)
    first, second = dock.controller.run_ids()
    runs = dock.runs
    index = runs.model_.index(runs.model_.row_of(first), 0)
    cell = runs.visualRect(index)
    box = cell.topLeft() + QPoint(runs.style().pixelMetric(QStyle.PixelMetric.PM_IndicatorWidth) // 2 + 4,
                                  cell.height() // 2)   # the check box at the cell's left, before the swatch
    QTest.mouseClick(runs.viewport(), Qt.MouseButton.LeftButton, pos=box)
    qtbot.waitUntil(lambda: first in dock.controller.overlay)
    ticked = set(dock.controller.overlay)
    w.files.new.trigger()
    assert dock.controller.run_ids() == []
    w.document.open(path)
    qtbot.waitUntil(lambda: len(dock.controller.run_ids()) == 2, timeout=TIMEOUT)
    assert set(dock.controller.overlay) == ticked
    row = runs.model_.row_of(first)
    assert runs.model_.index(row, 0).data(Qt.ItemDataRole.CheckStateRole) in (Qt.CheckState.Checked,
                                                                              Qt.CheckState.Checked.value)
