"""The window's Study view (issue 20) through real clicks and keys, with a fast fake executor standing in
for the trainer: a study runs end to end and its figure fills in, Pause lets the running trial finish and
starts no other, Cancel leaves a study that Resume finishes, a point's tooltip lists its trials and a click
on it opens the trial's graph and run."""
from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtTest import QTest

from explorer.studies.task import DONE, STOPPED, TrialOutcome


class FakeExecutor:
    """Finishes each trial when released (``hold``), writing a run folder's graph.json and steps.csv and
    reporting a few falling losses; deeper plain twins end with a higher training error."""
    name, remote, threads = "fake", False, 1

    def __init__(self, slots=2, hold=False):
        self.slots, self.running, self.stopped = slots, [], False
        self.release = threading.Event()
        if not hold:
            self.release.set()

    def describe(self):
        return "fake"

    def open(self, events):
        self.events = events

    def submit(self, task):
        self.running.append(task)

    def poll(self, timeout):
        if not self.running:
            return []
        if not self.release.wait(timeout) and not self.stopped:
            return []
        task = self.running.pop(0)
        if self.stopped:
            return [TrialOutcome(task.trial_id, STOPPED)]
        from pathlib import Path
        out = Path(task.out_dir)
        out.mkdir(parents=True, exist_ok=True)
        (out / "graph.json").write_text(task.graph_json)
        plain = "-plain-" in task.trial_id
        depth = 14 if task.trial_id.startswith("resnet14") else 8
        rows = ["epoch,step,loss,acc,lr,samples_per_s"]
        for step in (1, 2, 3):
            loss = 2.0 / step + (0.1 * depth if plain else 0)
            self.events(task.trial_id, "step", {"step": step, "total_steps": 3, "loss": loss, "eta_s": 1.0})
            rows.append(f"1,{step},{loss},0.5,0.05,100")
        (out / "steps.csv").write_text("\n".join(rows) + "\n")
        acc = 0.9 - (0.02 * depth if plain else 0)
        return [TrialOutcome(task.trial_id, DONE, summary={"final_train_loss": 1 - acc, "final_train_acc": acc,
                                                           "final_val_acc": acc, "best_val_acc": acc,
                                                           "epochs": 3, "seconds": 0.1})]

    def stop_running(self):
        self.stopped = True

    def close(self):
        pass


@pytest.fixture
def study_view(make_window, tmp_path):
    w = make_window(size=(1366, 768))
    panel = w.study_dock.panel
    fakes = []

    def factory(kind, workers, address, device):
        fakes.append(panel.next_fake)
        return panel.next_fake

    panel.executor_factory = factory
    panel.next_fake = FakeExecutor()
    w.study_dock.action.trigger()  # Study ▸ New Study…
    panel.folder.clear()
    QTest.keyClicks(panel.folder, str(tmp_path / "study"))
    panel.depths.selectAll()
    QTest.keyClicks(panel.depths, "8,14")
    return w, panel, fakes


def _finished(qtbot, panel, state):
    qtbot.waitUntil(lambda: panel.state == state and not panel.worker.running, timeout=20_000)


def test_a_study_runs_end_to_end_and_its_point_opens_the_trial(study_view, qtbot):
    w, panel, _ = study_view
    assert w.study_dock.isVisible()
    QTest.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
    _finished(qtbot, panel, "finished")
    assert "4 of 4 trials done" in panel.status.text()
    assert "plain: training error rises" in panel.verdict.text()
    assert len(panel.figure.points[True].points()) == 2 and len(panel.figure.points[False].points()) == 2
    assert len(panel.losses.curves) == 4
    colors = {tid: c.opts["pen"].color().name() for tid, c in panel.losses.curves.items()}
    assert colors["resnet8-plain-s0"] != colors["resnet14-plain-s0"] != colors["resnet14-s0"]
    # The two plots share their row's height, so neither loses its axis title to the other's minimum.
    assert panel.figure.height() == panel.losses.height()
    # The key is the title, each depth in its curves' colour: nothing inside the plot covers a curve.
    key = panel.losses.key()
    assert panel.losses.getPlotItem().legend is None and key in panel.losses.getPlotItem().titleLabel.text
    for tid, color in colors.items():
        depth = tid.split("-")[0].removeprefix("resnet")
        assert f"<span style='color:{color}'>━━</span>{depth}" in key, tid

    deep_plain = next(p for p in panel.figure.points[True].points() if p.data() == (14, True))
    tip = panel.figure.tip(x=14, y=deep_plain.pos().y(), data=(14, True))
    assert "resnet14-plain-s0: done" in tip

    vb = panel.figure.getPlotItem().getViewBox()
    scene_pos = vb.mapViewToScene(deep_plain.pos())
    view_pos = panel.figure.mapFromScene(scene_pos)
    QTest.mouseClick(panel.figure.viewport(), Qt.MouseButton.LeftButton, pos=view_pos)
    qtbot.waitUntil(lambda: any("resnet14" in f.record.name and "plain" in f.record.name
                                for f in w.training_dock.controller.feeds.values()), timeout=5000)
    assert w.document.graph.name.startswith("resnet14")


def test_pause_cancel_and_resume(study_view, qtbot):
    w, panel, fakes = study_view
    panel.next_fake = FakeExecutor(slots=1, hold=True)
    QTest.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "1 running" in panel.status.text(), timeout=10_000)
    QTest.mouseClick(panel.pause_button, Qt.MouseButton.LeftButton)
    assert panel.state == "pausing" and not panel.pause_button.isEnabled()
    fakes[-1].release.set()
    _finished(qtbot, panel, "stopped")
    assert "1 of 4 trials done" in panel.status.text() and panel.start_button.text() == "&Resume"

    panel.next_fake = FakeExecutor(slots=1, hold=True)
    QTest.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "1 running" in panel.status.text(), timeout=10_000)
    QTest.mouseClick(panel.cancel_button, Qt.MouseButton.LeftButton)
    _finished(qtbot, panel, "stopped")
    assert "1 of 4 trials done" in panel.status.text()

    folder = panel.folder.text()   # after a restart: Study ▸ Open Study Folder… shows it, ready to resume
    panel.folder.clear()
    assert panel.open_folder(folder) and panel.start_button.text() == "&Resume"
    assert len(panel.losses.curves) == 1 and "1 of 4 trials done" in panel.status.text()

    panel.next_fake = FakeExecutor()
    QTest.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
    _finished(qtbot, panel, "finished")
    assert "4 of 4 trials done" in panel.status.text()


def test_a_bad_setting_is_said_in_the_view_and_nothing_starts(study_view, qtbot, tmp_path):
    w, panel, fakes = study_view
    panel.folder.clear()
    QTest.keyClicks(panel.folder, str(tmp_path / "other"))
    panel.depths.selectAll()
    QTest.keyClicks(panel.depths, "8,9")
    QTest.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
    _finished(qtbot, panel, "stopped")
    assert "cannot be built with 9" in panel.status.text()
    panel.depths.selectAll()
    QTest.keyClicks(panel.depths, "eight")
    QTest.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
    assert "whole numbers" in panel.status.text() and panel.state != "running"


def test_an_opened_study_shows_its_own_settings_in_the_form(study_view, qtbot):
    w, panel, _ = study_view
    QTest.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
    _finished(qtbot, panel, "finished")
    folder = panel.folder.text()
    panel.depths.selectAll()
    QTest.keyClicks(panel.depths, "20,56")
    panel.twin.click()
    QTest.keyClick(panel.seeds, Qt.Key.Key_Up)
    assert panel.seeds.value() == 2 and not panel.twin.isChecked()
    assert panel.open_folder(folder)   # as Open… or a lesson's "Open the runs in their view" does
    assert panel.depths.text() == "8,14" and panel.twin.isChecked() and panel.seeds.value() == 1


def _frame(panel):
    (x0, x1), (y0, y1) = panel.figure.getPlotItem().getViewBox().viewRange()
    return -5 < x0 < 1 and 40 < x1 < 100 and -10 < y0 < 1 and 90 < y1 < 110


def test_new_study_after_a_finished_one_starts_from_an_empty_figure_and_a_fresh_folder(study_view, qtbot):
    w, panel, _ = study_view
    assert _frame(panel)   # an empty figure frames depths and percentages, not -0.4..0.4 "(x0.001)"
    QTest.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
    _finished(qtbot, panel, "finished")
    old = panel.folder.text()
    w.activateWindow()
    QTest.keyClick(w, Qt.Key.Key_Y, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert panel.folder.text() != old and panel.verdict.text() == "" and panel.status.text() == ""
    assert len(panel.figure.points[True].points()) == 0 and not panel.losses.curves and _frame(panel)
    assert panel.start_button.text() == "&Start" and panel.depths.text() == "8,14"   # the form is kept
    assert "analyze" not in panel.family.toolTip()   # the window names no command to run


def test_start_on_a_finished_study_runs_the_form_in_a_fresh_folder(study_view, qtbot, tmp_path):
    w, panel, _ = study_view
    panel.home = tmp_path / "studies"
    QTest.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
    _finished(qtbot, panel, "finished")
    old = panel.folder.text()
    panel.depths.selectAll()
    QTest.keyClicks(panel.depths, "8")
    QTest.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)   # not a silent no-op "resume"
    _finished(qtbot, panel, "finished")
    assert panel.folder.text() != old and "2 of 2 trials done" in panel.status.text()


def test_the_study_form_has_no_fine_tuning_rows_but_the_training_form_keeps_them(study_view):
    """Every trial of a study starts from scratch: Start from, Frozen, Unfreeze at and LR multipliers are not
    offered there (they were, and did nothing), while the training settings still offer them."""
    from PySide6.QtWidgets import QFormLayout

    w, panel, _ = study_view

    def shown_labels(form):
        layout: QFormLayout = form.layout()
        shown = set()
        for row in range(layout.rowCount()):
            label = layout.itemAt(row, QFormLayout.ItemRole.LabelRole)
            field = layout.itemAt(row, QFormLayout.ItemRole.FieldRole)
            if label and field and field.widget() and field.widget().isVisibleTo(form):
                shown.add(label.widget().text())
        return shown

    fine_tuning = {"Start from", "Frozen", "Unfreeze at", "LR multipliers"}
    assert not fine_tuning & shown_labels(panel.settings)
    assert "Train samples" in shown_labels(panel.settings)
    assert fine_tuning <= shown_labels(w.training_dock.form)
    cfg = panel.settings.config()
    assert cfg.init_from is None and not cfg.freeze and not cfg.lr_mult
