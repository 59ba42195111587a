"""Fine-tuning from the window: Freeze for Training from the canvas menu and the inspector (a lock on the
node, the node in the run's config), Start From a run's weights, and Fine-tune on another data set."""
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QContextMenuEvent, QImage, QPainter
from PySide6.QtWidgets import QApplication, QInputDialog, QToolButton
from PySide6.QtTest import QTest

from conftest import build_tiny_graph

TIMEOUT = 60_000


def pick_from_menu(text: str):
    """When the next popup menu opens, trigger its action ``text`` as a click would, and close it."""
    def pick():
        menu = QApplication.activePopupWidget()
        if menu is None:
            QTimer.singleShot(10, pick)
            return
        action = next(a for a in menu.actions() if a.text() == text)
        menu.close()
        action.trigger()
    QTimer.singleShot(0, pick)


def right_click_node(w, node_id: str) -> None:
    item = w.scene.nodes[node_id]
    at = w.view.mapFromScene(item.sceneBoundingRect().center())
    event = QContextMenuEvent(QContextMenuEvent.Reason.Mouse, at, w.view.viewport().mapToGlobal(at))
    QApplication.sendEvent(w.view.viewport(), event)


def strip_pixel(item):
    """The colour in the middle of the node's top strip, rendered alone."""
    rect = item.boundingRect()
    img = QImage(int(rect.width()), int(rect.height()), QImage.Format.Format_ARGB32)
    img.fill(0)
    p = QPainter(img)
    p.translate(-rect.left(), -rect.top())
    item.paint(p, _Option(), None)
    p.end()
    body = item.body_rect()
    return img.pixelColor(int(body.center().x() - rect.left()), int(body.top() + 2 - rect.top()))


class _Option:
    @staticmethod
    def levelOfDetailFromTransform(_t):
        return 1.0


def test_freezing_a_node_from_the_canvas_menu_draws_a_lock_and_goes_into_the_run(make_window, qtbot):
    w = make_window(build_tiny_graph())
    dock, item = w.training_dock, w.scene.nodes["stage1"]
    before = strip_pixel(item)
    pick_from_menu("Freeze for Training")
    right_click_node(w, "stage1")
    assert dock.form.freeze_set.ids() == ["stage1"] and dock.form.frozen.text() == "stage1"
    assert item.frozen and strip_pixel(item) != before and strip_pixel(item).red() == 128
    assert dock.form.config().freeze == ["stage1"]
    pick_from_menu("Freeze for Training")   # ticked now: the same entry unfreezes
    right_click_node(w, "stage1")
    assert dock.form.config().freeze == [] and not item.frozen


def test_the_inspector_toggle_follows_and_sets_the_frozen_set(make_window, qtbot):
    w = make_window(build_tiny_graph())
    w.scene.select_node("stem_conv")
    button = next(b for b in w.inspector.findChildren(QToolButton)
                  if b.defaultAction() and b.defaultAction().text() == "Freeze for Training")
    QTest.mouseClick(button, Qt.MouseButton.LeftButton)
    assert w.training_dock.form.config().freeze == ["stem_conv"] and w.scene.nodes["stem_conv"].frozen
    w.training_dock.form.freeze_set.set_ids([])
    assert not button.defaultAction().isChecked()


def test_start_from_a_run_and_fine_tune_on_another_data_set(make_window, qtbot, monkeypatch):
    w = make_window(build_tiny_graph())
    dock = w.training_dock
    form = dock.form
    form.epochs.setValue(1)
    form.batch_size.setValue(256)
    form.device.setCurrentIndex(form.device.findData("cpu"))
    with qtbot.waitSignal(dock.runFinished, timeout=TIMEOUT):
        QTest.mouseClick(dock.train_button, Qt.MouseButton.LeftButton)
    rid = dock.controller.run_ids()[-1]
    rec = dock.controller.record(rid)
    assert rec.status == "finished", rec.message

    row = dock.runs.model_.row_of(rid)
    at = dock.runs.visualRect(dock.runs.model_.index(row, 1)).center()
    pick_from_menu("Start From This Run's Weights")
    dock.runs.customContextMenuRequested.emit(at)
    assert form.config().init_from == rec.config["out_dir"]
    form.start_from.setCurrentIndex(0)

    monkeypatch.setattr(QInputDialog, "getItem", staticmethod(lambda *a, **k: ("digits", True)))
    form.train_samples.setValue(100)
    pick_from_menu("Fine-tune This Run on Another Data Set…")
    with qtbot.waitSignal(dock.trainingActiveChanged, timeout=TIMEOUT, check_params_cb=lambda on: not on):
        dock.runs.customContextMenuRequested.emit(at)
    tuned, scratch = (dock.controller.record(i) for i in dock.controller.run_ids()[-2:])
    assert tuned.config["init_from"] == rec.config["out_dir"] and tuned.config["freeze"] == ["until:stem_relu"]
    assert scratch.config["init_from"] is None and scratch.config["freeze"] == []
    assert tuned.config["train_samples"] == scratch.config["train_samples"] == 100
    assert tuned.status == scratch.status == "finished", (tuned.message, scratch.message)
