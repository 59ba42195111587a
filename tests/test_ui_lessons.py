"""The lessons in the window, through real clicks with a fast fake experiment: two clicks from the start
screen to lesson 1's verdict, the lessons document remembers the run, Try next runs a variation, Cancel
stops a run, and a lesson's runs open in the training view."""
from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QToolBar

from explorer.lessons.book import LessonBook
from explorer.lessons.runner import run_lesson
from explorer.lessons.tools import ToolResult
from explorer.lessons.training import TrainedNetwork
from explorer.runs.feed import RunFeed
from explorer.runs.store import RunRecord

GOOD = {"plain.shallowest.train_err": 0.01, "plain.deepest.train_err": 0.40,
        "residual.shallowest.train_err": 0.02, "residual.deepest.train_err": 0.01}


class FakeExperiment:
    """run_lesson with a tool that trains nothing: the numbers above, one run record per network; ``gate``
    (when set up) holds the run until the test opens it, so Cancel can be clicked while it runs."""

    def __init__(self):
        self.calls, self.gate = [], None

    def tool(self, networks, settings, out, control):
        if self.gate is not None:
            self.gate.wait(10)
        control.progress("networks trained", 1, 2)
        names = ["resnet20", "resnet20 (plain twin)", "resnet56", "resnet56 (plain twin)"]
        runs = [TrainedNetwork(name, RunFeed(RunRecord(name, name, "digits", {}, "{}", status="finished")), None,
                               None, str(out / name)) for name in names]
        return ToolResult(measured=dict(GOOD), trained=runs)

    def __call__(self, lesson, folder, full=False, variation=None, control=None):
        self.calls.append((lesson.number, variation.label if variation else None, full))
        return run_lesson(lesson, folder, full, variation, control, tools={"study": self.tool})


@pytest.fixture
def lessons_window(make_window, tmp_path):
    def factory():
        mw = make_window()
        mw.settings.setValue("lessons/folder", str(tmp_path / "lessons"))
        fake = FakeExperiment()
        mw.lessons.run_fn = fake
        return mw, fake
    yield factory


def _click_toolbar(mw, text):
    bar = mw.findChild(QToolBar, "toolbar_main")
    action = next(a for a in bar.actions() if a.text().replace("&", "") == text)
    QTest.mouseClick(bar.widgetForAction(action), Qt.MouseButton.LeftButton)


def test_two_clicks_from_the_start_screen_to_lesson_1s_verdict(lessons_window, qtbot, tmp_path):
    mw, fake = lessons_window()
    _click_toolbar(mw, "Lessons")                                          # click 1
    win = mw.lessons.window
    qtbot.waitExposed(win)
    assert win.page.title.text().startswith("Lesson 1 ·") and win.list.count() == 9
    with qtbot.waitSignal(win.resultShown, timeout=10_000) as shown:
        QTest.mouseClick(win.page.run_button, Qt.MouseButton.LeftButton)   # click 2
    assert shown.args == [1, "reproduced"] and fake.calls == [(1, None, False)]
    assert win.page.result.isVisible() and win.page.verdict.text() == "Reproduced"
    assert "✔" in win.page.got.text() and "plain.deepest.train_err" in win.page.got.text()
    assert win.list.item(0).text().endswith("✔") and win.page.history.text().startswith("Run once; the last on")
    # the lessons document remembers it: a new book over the same folder has the run and its result
    book = LessonBook(tmp_path / "lessons")
    assert [e.verdict for e in book.runs_of(1)] == ["reproduced"]
    assert book.result(book.latest(1))["measured"]["plain.deepest.train_err"] == 0.40


def test_try_next_runs_a_variation_and_the_runs_open_in_the_training_view(lessons_window, qtbot):
    mw, fake = lessons_window()
    mw.lessons.action.trigger()                                            # Help ▸ Lessons
    win = mw.lessons.window
    qtbot.waitExposed(win)
    with qtbot.waitSignal(win.resultShown, timeout=10_000):
        QTest.mouseClick(win.page.try_buttons[0], Qt.MouseButton.LeftButton)
    assert fake.calls == [(1, "Deeper: up to 110 layers", False)]
    assert "Deeper: up to 110 layers" in win.page.verdict.text()
    before = len(mw.training_dock.controller.run_ids())
    QTest.mouseClick(win.page.open_runs, Qt.MouseButton.LeftButton)
    controller = mw.training_dock.controller
    assert len(controller.run_ids()) == before + 4 and controller.focus in controller.run_ids()
    assert not win.isVisible() and mw.training_dock.isVisible()   # the view is not left behind the lessons
    _click_toolbar(mw, "Lessons")
    assert win.isVisible() and win.page.verdict.text().startswith("Reproduced")


def test_cancel_stops_a_running_lesson(lessons_window, qtbot):
    mw, fake = lessons_window()
    fake.gate = threading.Event()
    mw.lessons.show(3)
    win = mw.lessons.window
    win.select(1)
    QTest.mouseClick(win.page.run_button, Qt.MouseButton.LeftButton)
    assert win.page.cancel_button.isEnabled() and not win.page.run_button.isEnabled()
    with qtbot.waitSignal(win.runner.cancelled, timeout=10_000):
        QTest.mouseClick(win.page.cancel_button, Qt.MouseButton.LeftButton)
        assert "cancelling" in win.page.status.text() and not win.page.cancel_button.isEnabled()
        fake.gate.set()
    qtbot.waitUntil(lambda: win.page.run_button.isEnabled(), timeout=10_000)
    assert "cancelled" in win.page.status.text() and not win.book.runs_of(1)


def test_the_family_lesson_plots_accuracy_against_cost(lessons_window, qtbot):
    mw, fake = lessons_window()

    def family_tool(networks, settings, out, control):
        rows = [{"name": name, "params": 1000 * (i + 1), "macs": 5000 * (i + 1), "final_val_err": 0.01 * i}
                for i, (name, _) in enumerate(networks)]
        return ToolResult(measured={f"{r['name']}.final_val_err": r["final_val_err"] for r in rows},
                          details={"networks": rows})

    mw.lessons.run_fn = lambda lesson, folder, **kw: run_lesson(lesson, folder, tools={"train": family_tool}, **kw)
    win = mw.lessons.show(8)
    qtbot.waitExposed(win)
    with qtbot.waitSignal(win.resultShown, timeout=10_000):
        QTest.mouseClick(win.page.run_button, Qt.MouseButton.LeftButton)
    assert win.page.family.isVisible() and len(win.page.family.points) == 8
    assert win.page.family.points[0][:2] == ("basic", 1000.0)


def test_a_long_lesson_shows_how_long_is_left(lessons_window, qtbot):
    mw, _ = lessons_window()
    mw.lessons.show(1)
    win = mw.lessons.window
    now = [100.0]
    win.page.clock = lambda: now[0]
    win.page.set_running(True)
    win.runner.progress.emit("study trials done", 0, 4)
    assert win.page.progress.format() == "study trials done: 0/4"      # no pace yet, no guess
    now[0] += 30
    win.runner.progress.emit("study trials done", 1, 4)
    assert win.page.progress.format() == "study trials done: 1/4, about 1:30 left"
    now[0] += 30
    win.runner.progress.emit("study trials done", 4, 4)
    assert win.page.progress.format() == "study trials done: 4/4"
