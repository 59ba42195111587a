"""Training views tell the truth, through real events: the Gradients tab switches between the two runs of
a comparison in one click; frozen layers are drawn as frozen; the status bar names the network that
trains (after adapting); the comparison banner goes when both runs finish; the fine-tune form shows the
data set the run uses."""
from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from conftest import build_tiny_graph

TIMEOUT = 120_000


def small_runs(form):
    form.epochs.setValue(1)
    form.batch_size.setValue(128)
    form.train_samples.setValue(256)


@pytest.fixture
def compared(make_window, qtbot):
    w = make_window(build_tiny_graph(), size=(1366, 768))
    dock = w.training_dock
    small_runs(dock.form)
    with qtbot.waitSignal(dock.trainingActiveChanged, timeout=TIMEOUT, check_params_cb=lambda on: not on):
        QTest.mouseClick(dock.compare_button, Qt.MouseButton.LeftButton)
    plain, residual = dock.controller.run_ids()[-2:]
    return w, plain, residual


def test_the_gradients_tab_switches_between_the_two_runs_of_a_comparison_in_one_click(compared, qtbot):
    w, plain, residual = compared
    dock = w.training_dock
    dock.tabs.setCurrentWidget(dock.gradients)
    switch = dock.gradients.run_switch
    qtbot.waitUntil(switch.isVisible)
    assert dock.controller.focus == residual and switch.box.currentData() == residual
    assert switch.other.isVisible() and "plain twin" in switch.other.text()
    assert w.minimumSizeHint().width() <= 1366   # the switch and its button fit a laptop screen
    QTest.mouseClick(switch.other, Qt.MouseButton.LeftButton)
    assert dock.controller.focus == plain and switch.box.currentData() == plain
    assert "network" in switch.other.text()
    QTest.mouseClick(switch.other, Qt.MouseButton.LeftButton)
    assert dock.controller.focus == residual
    # The comparison's notice goes once both runs have finished.
    assert not dock.banner.isVisible()


def test_fine_tuning_shows_its_data_set_in_the_form_and_draws_frozen_layers_as_frozen(make_window, qtbot,
                                                                                       monkeypatch):
    from PySide6.QtWidgets import QInputDialog

    w = make_window(build_tiny_graph(), size=(1366, 768))
    dock = w.training_dock
    small_runs(dock.form)
    with qtbot.waitSignal(dock.runFinished, timeout=TIMEOUT):
        QTest.mouseClick(dock.train_button, Qt.MouseButton.LeftButton)
    rid = dock.controller.run_ids()[-1]
    monkeypatch.setattr(QInputDialog, "getItem", staticmethod(lambda *a, **k: ("shapes", True)))
    with qtbot.waitSignal(dock.trainingActiveChanged, timeout=TIMEOUT, check_params_cb=lambda on: not on):
        dock.ask_fine_tune(rid)
        assert dock.form.dataset.currentData() == "shapes"      # while the shapes run trains
    tuned = dock.controller.run_ids()[-2]
    assert dock.form.dataset.currentData() == "shapes"
    dock.controller.set_focus(tuned)
    dock.tabs.setCurrentWidget(dock.gradients)
    heatmap = dock.gradients.heatmap
    qtbot.waitUntil(heatmap.isVisible)
    qtbot.waitUntil(lambda: "stem_conv" in heatmap.frozen_rows())
    assert "classifier" not in heatmap.frozen_rows() and heatmap.frozen.label.isVisible()
    by_depth = dock.gradients.by_depth
    qtbot.waitUntil(lambda: by_depth.frozen.shown != [])
    heatmap.click_row(0)                                     # the stem's curves: labelled frozen too
    curves = dock.gradients.curves
    qtbot.waitUntil(lambda: any("(frozen)" in n for n in curves.legend.texts()))


def test_the_status_bar_names_the_network_that_trains_after_adapting_it(make_window, qtbot):
    from explorer.train.testing import tiny_graph

    w = make_window(tiny_graph(blocks=1, classes=10, input_shape=(3, 32, 32), name="cifar_shaped"), size=(1366, 768))
    dock = w.training_dock
    small_runs(dock.form)
    dock.form.epochs.setValue(200)
    with qtbot.waitSignal(dock.runStarted, timeout=TIMEOUT):
        QTest.mouseClick(dock.train_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "epoch" in dock.status.label.text(), timeout=TIMEOUT)
    text = dock.status.label.text()
    assert "in 1×8×8" in text and "MACs" in text and "3×32×32" not in text   # the digits-sized network
    with qtbot.waitSignal(dock.trainingActiveChanged, timeout=TIMEOUT, check_params_cb=lambda on: not on):
        QTest.mouseClick(dock.stop_button, Qt.MouseButton.LeftButton)
