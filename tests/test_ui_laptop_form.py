"""The training form on a laptop screen (1366×768) and a large one (1920×1080), through real events: the
wheel scrolls the form and never changes a field the user has not clicked into; labels stay beside their
fields and Tab never scrolls sideways; Train, Pause, Stop and Plain vs residual stay in one row in view,
also while training; the window never grows beyond the screen."""
from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QWidget

from conftest import build_tiny_graph

LAPTOP, LARGE = (1366, 768), (1920, 1080)
TIMEOUT = 60_000


def wheel(widget: QWidget, notches: int = -1) -> None:
    """One wheel turn over the middle of ``widget``."""
    centre = QPointF(widget.rect().center())
    event = QWheelEvent(centre, QPointF(widget.mapToGlobal(centre.toPoint())), QPoint(0, 0), QPoint(0, 120 * notches),
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(widget, event)


def in_view(widget: QWidget, window: QWidget) -> bool:
    """``widget`` is shown whole inside ``window`` and not scrolled out of a scroll area's viewport."""
    if not widget.isVisible():
        return False
    top_left = widget.mapTo(window, QPoint(0, 0))
    if not window.rect().contains(top_left) or not window.rect().contains(top_left + QPoint(widget.width() - 1,
                                                                                            widget.height() - 1)):
        return False
    p = widget.parentWidget()
    while p is not None and p is not window:   # a scroll area's viewport clips what scrolled away
        if p.objectName() == "qt_scrollarea_viewport":
            corner = widget.mapTo(p, QPoint(0, 0))
            if corner.y() < 0 or corner.y() + widget.height() > p.height():
                return False
        p = p.parentWidget()
    return True


def show_training(w, qtbot):
    dock = w.training_dock
    dock.show()
    dock.raise_()
    qtbot.waitUntil(dock.form.isVisible)
    return dock


@pytest.mark.parametrize("size", [LAPTOP])
def test_the_wheel_scrolls_the_form_and_changes_a_field_only_once_clicked_into(make_window, qtbot, size):
    w = make_window(size=size)
    dock = show_training(w, qtbot)
    form, bar = dock.form, dock.form_scroll.verticalScrollBar()
    assert bar.maximum() > 0   # on a laptop screen the form is taller than its place: it scrolls
    lr, schedule = form.lr.value(), form.schedule.currentText()
    # The pointer rests on the learning rate while the user scrolls (its line edit passes the wheel on to it).
    wheel(form.lr)
    assert form.lr.value() == lr and bar.value() > 0
    bar.setValue(bar.maximum() // 2)
    dock.form_scroll.ensureWidgetVisible(form.schedule)
    before = bar.value()
    wheel(form.schedule, notches=1)
    assert form.schedule.currentText() == schedule and bar.value() < before
    QTest.mouseClick(form.lr.lineEdit(), Qt.MouseButton.LeftButton)   # clicked into: now the wheel is its
    assert form.lr.hasFocus()
    wheel(form.lr)
    assert form.lr.value() < lr


@pytest.mark.parametrize("size", [LAPTOP, LARGE])
def test_labels_stay_beside_their_fields_and_tab_never_scrolls_sideways(make_window, qtbot, size):
    from PySide6.QtWidgets import QFormLayout

    w = make_window(size=size)
    dock = show_training(w, qtbot)
    form, scroll = dock.form, dock.form_scroll
    layout: QFormLayout = form.layout()
    QTest.mouseClick(form.epochs.lineEdit(), Qt.MouseButton.LeftButton)
    for _ in range(25):                        # Tab through every field, to the end of the form
        QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        assert scroll.horizontalScrollBar().value() == 0
        assert scroll.widget().width() <= scroll.viewport().width()
    for row in range(layout.rowCount()):
        label = layout.itemAt(row, QFormLayout.ItemRole.LabelRole)
        field = layout.itemAt(row, QFormLayout.ItemRole.FieldRole)
        if label is None or field is None or not label.widget().text() or not field.widget().isVisible():
            continue
        lw, fw = label.widget(), field.widget()
        assert abs(lw.geometry().center().y() - fw.geometry().center().y()) < fw.height()   # beside, not above
        assert lw.geometry().right() < fw.geometry().left()
        assert fw.mapTo(scroll.viewport(), QPoint(fw.width(), 0)).x() <= scroll.viewport().width()


@pytest.mark.parametrize("size", [LAPTOP])
def test_train_pause_stop_and_compare_stay_in_one_row_in_view_while_training(make_window, qtbot, size):
    w = make_window(build_tiny_graph(), size=size)
    dock = show_training(w, qtbot)
    form = dock.form
    buttons = (dock.train_button, dock.pause_button, dock.stop_button, dock.compare_button)
    tops = {b.mapTo(w, QPoint(0, 0)).y() for b in buttons}
    assert len(tops) == 1 and all(in_view(b, w) for b in buttons)
    form.epochs.setValue(50)
    form.batch_size.setValue(256)
    with qtbot.waitSignal(dock.runStarted, timeout=TIMEOUT):
        QTest.mouseClick(dock.train_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(dock.note.isVisible)
    assert all(in_view(b, w) for b in buttons) and dock.stop_button.isEnabled()
    with qtbot.waitSignal(dock.trainingActiveChanged, timeout=TIMEOUT, check_params_cb=lambda on: not on):
        QTest.mouseClick(dock.stop_button, Qt.MouseButton.LeftButton)
    assert all(in_view(b, w) for b in buttons)


def test_the_window_never_grows_beyond_a_laptop_screen_while_a_long_named_run_trains(make_window, qtbot):
    w = make_window(build_tiny_graph("basic", "a_network_with_a_rather_long_name_for_a_laptop"), size=(1366, 728))
    dock = show_training(w, qtbot)
    form = dock.form
    form.epochs.setValue(1)
    form.batch_size.setValue(256)
    form.set_start_from("/a/very/long/folder/of/weights/that/would/widen/every/combo/box/last.pt",
                        "file: /a/very/long/folder/of/weights/that/would/widen/every/combo/box/last.pt")
    form.start_from.setCurrentIndex(0)
    with qtbot.waitSignal(dock.runFinished, timeout=TIMEOUT):
        QTest.mouseClick(dock.train_button, Qt.MouseButton.LeftButton)
    rid = dock.controller.run_ids()[-1]
    with qtbot.waitSignal(dock.runStarted, timeout=TIMEOUT):
        ids = dock.fine_tune(rid, "shapes")
    assert ids is not None
    # the status line names the fine-tuned run (while it trains, or finished: a run this small may end
    # between two redraws of the plots the line keeps step with)
    qtbot.waitUntil(lambda: "on shapes" in dock.status.label.text(), timeout=TIMEOUT)
    assert w.minimumSizeHint().width() <= 1366 and w.width() <= 1366
    with qtbot.waitSignal(dock.trainingActiveChanged, timeout=TIMEOUT, check_params_cb=lambda on: not on):
        dock.stop()
    for tab in range(dock.tabs.count()):   # each tab, with the long run names in its bars
        dock.tabs.setCurrentIndex(tab)
        qtbot.waitUntil(dock.tabs.currentWidget().isVisible)
        assert w.minimumSizeHint().width() <= 1366 and w.width() <= 1366, dock.tabs.tabText(tab)
