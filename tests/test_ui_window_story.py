"""The window as a student meets it (issue 10): results survive opening other documents, the title names the
open one, Train waits for a valid graph, Ctrl+Z right after a field, the view refits on resize, the status
follows pause, resume and stop, closing asks while training, counts agree, the startup preset has a name,
saved files keep their mode. Everything goes through real key and mouse events where a person would act."""
import os
import stat
import threading
from types import SimpleNamespace

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt, QTimer
from PySide6.QtGui import QWheelEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QComboBox, QMessageBox, QSpinBox

from conftest import build_tiny_graph
from explorer.graph.fileio import save_graph
from explorer.presets import build_preset
from explorer.train import FinishedReport, StatusReport, StepReport, TrainConfig
from test_ui_training_views import StandInEngine, synthetic_reports

TIMEOUT = 60_000


@pytest.fixture
def engine(monkeypatch):
    return StandInEngine(monkeypatch)


class PacedEngine:
    """A run on "synthetic" that lasts until it is stopped and takes one step per token the test releases;
    it pauses, resumes and stops between steps as the real loop does, through the worker's TrainControl."""

    def __init__(self, monkeypatch):
        import explorer.ui.training.worker as worker

        self.tokens = threading.Semaphore(0)
        monkeypatch.setattr(worker, "run_training", self.run)
        monkeypatch.setattr(worker, "cached_dataset", lambda spec, seed: SimpleNamespace(x_train=np.zeros((1000, 1))))

    def run(self, graph, dataset, config, control):
        started, *_ = synthetic_reports(steps=1)
        yield started
        step = 0
        while True:
            if control.paused and not control.stop_requested:
                yield StatusReport("paused", step)
                control.wait_while_paused(0.01)
                yield StatusReport("running", step)
            if control.stop_requested:
                yield FinishedReport("stopped", 1, step, 0.5, 0.8, 0.6, 0.75, 0.75, 1, 500.0, 1.0, "cpu", None)
                return
            if self.tokens.acquire(timeout=0.02):
                step += 1
                yield StepReport(1, 1, step, 100, step, 100, 1.0, 0.5, 0.1, 500.0, step * 0.01, 1.0)
                yield StatusReport("running", step)   # a control report: the batcher sends the steps at once

    def steps(self, n: int) -> None:
        self.tokens.release(n)


@pytest.fixture
def paced(monkeypatch):
    return PacedEngine(monkeypatch)


def keys(w, key, modifier=Qt.KeyboardModifier.ControlModifier):
    """Press a shortcut the way a person does: to whatever widget has the keyboard focus."""
    QTest.keyClick(QApplication.focusWidget() or w.view, key, modifier)


def focus_canvas(w, qtbot):
    w.activateWindow()
    qtbot.waitActive(w)
    w.view.setFocus()
    qtbot.waitUntil(w.view.hasFocus)


def open_from_palette(w, qtbot, name):
    """Search the palette for ``name`` and double-click it."""
    search = w.palette.search
    search.selectAll()
    QTest.keyClicks(search, name)
    item = w.palette.find("preset", name)
    double_click_item(w.palette.tree, item)


def double_click_item(tree, item):
    """A press, a release and a double-click, as a mouse sends them (a view acts on a double-click only on the
    item that was pressed)."""
    tree.scrollToItem(item)
    at = tree.visualItemRect(item).center()
    QTest.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, at)
    QTest.mouseDClick(tree.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, at)


def click_node(w, node_id):
    item = w.scene.nodes[node_id]
    at = w.view.mapFromScene(item.sceneBoundingRect().center())
    QTest.mouseClick(w.view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, at)


def compare_synthetic(qtbot, w, engine):
    """Plain vs residual on the stand-in engine: two finished runs of the open graph, overlaid."""
    c = w.training_dock.controller
    engine.runs += [synthetic_reports(steps=20, decay=0.999), synthetic_reports(steps=20, decay=0.9)]
    finished = []
    c.runFinished.connect(finished.append)
    ids = c.start_comparison(w.document.graph, "synthetic", TrainConfig(epochs=1), auto_log=False, auto_stats=False)
    qtbot.waitUntil(lambda: len(finished) == 2, timeout=TIMEOUT)
    return ids


# -- 1. results are never lost ------------------------------------------------------------------------
def test_opening_a_file_after_a_comparison_asks_then_keeps_the_runs_with_their_project(make_window, qtbot, tmp_path,
                                                                                       engine):
    w = make_window(build_tiny_graph())
    dock, c = w.training_dock, w.training_dock.controller
    twin, res = compare_synthetic(qtbot, w, engine)
    dock.tabs.setCurrentWidget(dock.gradients)
    other = tmp_path / "other.json"
    save_graph(build_tiny_graph(name="other"), other)
    focus_canvas(w, qtbot)
    # the graph has no file: its runs live only in memory, so opening another asks as for unsaved edits
    w.dialogs.save_answer, w.dialogs.paths = "cancel", [str(other)]
    keys(w, Qt.Key.Key_O)
    assert ("unsaved_runs", "tiny_res", 2) in w.dialogs.asked
    assert w.document.path is None and c.run_ids() == [twin, res]
    # Save: the runs move into the folder beside the file, then the other graph opens without them
    w.dialogs.save_answer, w.dialogs.paths = "save", [str(tmp_path / "net.json"), str(other)]
    keys(w, Qt.Key.Key_O)
    assert w.document.path == other.resolve() and c.run_ids() == [] and c.focus == ""
    for view in (dock.metrics.loss, dock.gradients.by_depth):     # no view keeps a run of the last document
        view.throttle.flush()
        assert view.curves == {}
    assert not dock.banner.isVisible() and not dock.status.isVisible()
    # reopening the project brings its runs back
    w.dialogs.paths = [str(tmp_path / "net.json")]
    keys(w, Qt.Key.Key_O)
    assert sorted(c.run_ids()) == sorted([twin, res])
    assert {c.record(r).status for r in (twin, res)} == {"finished"}


def test_discarding_drops_the_runs_of_an_unsaved_graph_only_when_the_user_agrees(make_window, qtbot, engine):
    w = make_window(build_tiny_graph())
    c = w.training_dock.controller
    compare_synthetic(qtbot, w, engine)
    focus_canvas(w, qtbot)
    w.dialogs.save_answer = "discard"
    keys(w, Qt.Key.Key_N)
    assert ("unsaved_runs", "tiny_res", 2) in w.dialogs.asked and c.run_ids() == []
    assert w.document.graph.name == "untitled"


# -- 2. the title ---------------------------------------------------------------------------------------
def test_the_title_names_each_document_opened_one_after_another(make_window, qtbot):
    w = make_window()
    assert w.windowTitle().startswith("resnet20_digits") and not w.isWindowModified()
    for name in ("plain20", "highway20", "resnet20"):
        open_from_palette(w, qtbot, name)
        assert w.windowTitle().startswith(f"{name}[*]"), w.windowTitle()
        assert not w.isWindowModified()
    focus_canvas(w, qtbot)
    keys(w, Qt.Key.Key_N)
    assert w.windowTitle().startswith("untitled[*]")
    click_node(w, "input")
    keys(w, Qt.Key.Key_D)                                     # duplicate: an edit
    assert w.isWindowModified()


# -- 3. Train waits for a valid graph; banners belong to their document -----------------------------------
def test_train_is_disabled_on_an_invalid_graph_and_says_why(make_window, qtbot):
    w = make_window()
    dock = w.training_dock
    assert dock.train_button.isEnabled()
    click_node(w, "stage2")
    combo = w.inspector.findChild(QComboBox, "param_shortcut")
    combo.setFocus()
    QTest.keyClicks(combo, "identity")                        # 16 -> 32 channels cannot be an identity
    assert combo.currentText() == "identity"
    qtbot.waitUntil(lambda: not dock.train_button.isEnabled())
    assert not dock.compare_button.isEnabled()
    assert "stage2" in dock.train_button.toolTip() and "identity" in dock.train_button.toolTip()
    focus_canvas(w, qtbot)
    keys(w, Qt.Key.Key_Z)
    qtbot.waitUntil(dock.train_button.isEnabled)
    assert "Fix" not in dock.train_button.toolTip()
    # a notice about this document goes when another is opened
    dock.form.dataset.setCurrentIndex(dock.form.dataset.findData("mnist"))
    dock.form.path.setText("")
    QTest.mouseClick(dock.train_button, Qt.MouseButton.LeftButton)
    assert dock.banner.isVisible() and "Browse" in dock.banner.text()
    open_from_palette(w, qtbot, "plain20")
    assert not dock.banner.isVisible()


# -- 10. undo right after a field ------------------------------------------------------------------------
def test_ctrl_z_right_after_enter_in_a_field_undoes_that_edit(make_window, qtbot):
    w = make_window()
    focus_canvas(w, qtbot)
    click_node(w, "stem_conv")
    spin = w.inspector.findChild(QSpinBox, "param_out_channels")
    QTest.mouseClick(spin.lineEdit(), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(spin.hasFocus)
    keys(w, Qt.Key.Key_A)                                     # select the field's text
    QTest.keyClicks(QApplication.focusWidget(), "24")
    QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_Return)
    assert w.document.graph.node("stem_conv").params["out_channels"] == 24
    assert w.view.hasFocus()                                  # the keys are the canvas's again
    keys(w, Qt.Key.Key_Z)
    assert w.document.graph.node("stem_conv").params["out_channels"] == 16 and spin.value() == 16


# -- 13. fit on resize, maximised state, a small screen -------------------------------------------------
def content_in_view(w) -> bool:
    shown = w.view.mapFromScene(w.scene.content_rect()).boundingRect()
    return w.view.viewport().rect().adjusted(-2, -2, 2, 2).contains(shown)


def test_a_fitted_view_fits_again_when_the_window_grows_but_not_after_zooming(make_window, qtbot):
    w = make_window(size=(900, 700))
    qtbot.waitUntil(lambda: content_in_view(w))
    small = w.view.scale_factor
    w.resize(1800, 1100)
    qtbot.waitUntil(lambda: w.view.scale_factor > small * 1.2)
    assert content_in_view(w)
    vp = w.view.viewport()
    centre = QPointF(vp.rect().center())
    wheel = QWheelEvent(centre, QPointF(vp.mapToGlobal(centre.toPoint())), QPoint(0, 0), QPoint(0, 240),
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(vp, wheel)                         # the user zooms in: the view is theirs now
    zoomed = w.view.scale_factor
    w.resize(1000, 800)
    QApplication.processEvents()
    assert w.view.scale_factor == pytest.approx(zoomed)


def test_the_maximised_state_comes_back_with_the_docks(make_window, qtbot):
    w = make_window()
    w.showMaximized()
    qtbot.waitUntil(w.isMaximized)
    w.close()
    again = make_window()
    assert again.isMaximized()


def test_on_a_1366_by_768_screen_the_canvas_keeps_half_the_window(make_window, qtbot):
    w = make_window(size=(1366, 728))                         # the screen less a panel
    QApplication.processEvents()
    assert w.view.width() >= w.width() / 2 and w.view.height() >= w.height() / 2, (w.view.size(), w.size())


# -- 14. the status follows pause, resume and stop -------------------------------------------------------
def test_after_resume_the_status_says_running_and_after_stop_the_bar_resets(make_window, qtbot, paced):
    w = make_window(build_tiny_graph())
    dock, c = w.training_dock, w.training_dock.controller
    rid = c.start(w.document.graph, "synthetic", TrainConfig(epochs=1), auto_log=False, auto_stats=False)
    paced.steps(3)
    qtbot.waitUntil(lambda: c.feed(rid).step >= 3, timeout=TIMEOUT)
    dock.status.throttle.flush()
    assert dock.status.bar.value() > 0
    QTest.mouseClick(dock.pause_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: c.record(rid).status == "paused", timeout=TIMEOUT)
    assert dock.status.label.text().endswith("paused")
    QTest.mouseClick(dock.pause_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: c.record(rid).status == "running", timeout=TIMEOUT)
    assert "paused" not in dock.status.label.text()
    with qtbot.waitSignal(c.runFinished, timeout=TIMEOUT):
        QTest.mouseClick(dock.stop_button, Qt.MouseButton.LeftButton)
    assert c.record(rid).status == "stopped" and dock.status.bar.value() == 0
    assert "stopped" in dock.status.label.text()


# -- 15. closing while training asks first ------------------------------------------------------------------
def test_closing_the_window_while_training_asks_with_stop_and_close_first(make_window, qtbot, paced):
    w = make_window(build_tiny_graph())
    c = w.training_dock.controller
    rid = c.start(w.document.graph, "synthetic", TrainConfig(epochs=1), auto_log=False, auto_stats=False)
    paced.steps(1)
    qtbot.waitUntil(lambda: c.feed(rid).step >= 1, timeout=TIMEOUT)
    w.dialogs.stop_answer = False
    assert not w.close()                                      # cancelled: still open, still training
    assert ("stop_training", "tiny_res", "close") in w.dialogs.asked and c.is_training()
    w.dialogs.stop_answer = True
    assert w.close()
    assert not c.session.is_active() and c.record(rid).status == "stopped"


def test_the_question_offers_stop_and_close_as_the_default_button(qtbot):
    from explorer.ui.file_actions import Dialogs

    seen = {}

    def answer():
        box = QApplication.activeModalWidget()
        seen["default"] = box.defaultButton().text()
        QTest.keyClick(box, Qt.Key.Key_Return)                # Enter takes the default
    QTimer.singleShot(0, answer)
    assert Dialogs().stop_training("resnet56", "close") is True
    assert seen["default"] == "Stop and close"


# -- 16. the counts agree -----------------------------------------------------------------------------------
def test_the_status_bar_counts_what_the_problems_panel_lists(make_window, qtbot):
    from explorer.ui.problems import count_text

    w = make_window()
    focus_canvas(w, qtbot)
    click_node(w, "stage2")
    combo = w.inspector.findChild(QComboBox, "param_shortcut")
    combo.setFocus()
    QTest.keyClicks(combo, "identity")                        # an error
    item = w.palette.find("block", "relu") or w.palette.find("block", "dropout")
    double_click_item(w.palette.tree, item)                   # a block left unconnected
    a = w.analysis.result
    errors, warnings = len(a.errors), len(a.problems) - len(a.errors)
    assert errors and warnings
    qtbot.waitUntil(lambda: w.problems.problem_count() == errors + warnings)
    assert w.problems.counts() == (errors, warnings)
    assert count_text(errors, warnings) in w.summary.text("status")
    assert w.problems_dock.windowTitle() == f"Problems ({errors + warnings})"


# -- 17. the startup network is a preset --------------------------------------------------------------------
def test_the_startup_network_is_the_named_preset_resnet20_digits(make_window):
    w = make_window()
    preset = build_preset("resnet20_digits")
    assert set(w.document.graph.nodes) == set(preset.nodes) and w.document.graph.name == "resnet20_digits"
    assert w.palette.find("preset", "resnet20_digits") is not None
    menu_names = {a.text() for m in w.files.presets_menu.actions() if m.menu() for a in m.menu().actions()}
    assert "resnet20_digits" in menu_names


# -- 19. saved files keep the user's permissions ---------------------------------------------------------
def test_saving_from_the_window_uses_the_umask_and_keeps_a_files_mode(make_window, qtbot, tmp_path):
    w = make_window()
    path = tmp_path / "net.json"
    old = os.umask(0o022)
    try:
        focus_canvas(w, qtbot)
        w.dialogs.paths = [str(path)]
        keys(w, Qt.Key.Key_S)
        assert stat.S_IMODE(path.stat().st_mode) == 0o644
        path.chmod(0o640)
        click_node(w, "input")
        keys(w, Qt.Key.Key_D)                                 # an edit, then Save again
        assert w.isWindowModified()
        keys(w, Qt.Key.Key_S)
        assert not w.isWindowModified() and stat.S_IMODE(path.stat().st_mode) == 0o640
    finally:
        os.umask(old)
