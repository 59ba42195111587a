"""The window's one job runner (explorer.ui.jobs): a job's reports, progress, result, cancel and errors reach
the GUI thread as signals, ``ended`` last, and one job runs at a time."""
from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import QThread

from explorer.analysis.control import Cancelled
from explorer.ui.jobs import JobRunner


def test_a_job_reports_in_the_gui_thread_and_ends_last(qtbot):
    runner, seen = JobRunner(), []
    gui = QThread.currentThread()
    runner.reported.connect(lambda x: seen.append(("report", x, QThread.currentThread() is gui)))
    runner.progressed.connect(lambda what, done, total: seen.append(("progress", done, total)))
    runner.finished.connect(lambda r: seen.append(("finished", r)))
    runner.ended.connect(lambda: seen.append(("ended",)))

    def body(context):
        assert QThread.currentThread() is not gui   # the work is off the GUI thread
        context.report("a")
        context.progress("steps", 2, 2)             # the last step always gets through the throttle
        return 42

    with qtbot.waitSignal(runner.ended, timeout=10_000):
        runner.start(body, name="test", what="the test")
        assert runner.is_busy()
        with pytest.raises(RuntimeError, match="already running"):
            runner.start(body, name="test", what="the test")
    assert seen == [("report", "a", True), ("progress", 2, 2), ("finished", 42), ("ended",)]
    assert not runner.is_busy()


def test_expected_errors_are_explained_and_bugs_are_named(qtbot):
    runner, failures = JobRunner(), []
    runner.failed.connect(lambda kind, text: failures.append((kind, text)))

    def explain(e):
        return ("data", f"{e}; pick another") if isinstance(e, KeyError) else None

    for exc in (KeyError("nope"), ZeroDivisionError("boom")):
        def body(_context, exc=exc):
            raise exc
        with qtbot.waitSignal(runner.ended, timeout=10_000):
            runner.start(body, name="test", what="the test", explain=explain)
    assert failures[0] == ("data", "'nope'; pick another")
    assert failures[1][0] == "crash" and "ZeroDivisionError: boom" in failures[1][1]
    assert "the window keeps working" in failures[1][1]


def test_cancel_stops_the_job_and_shutdown_delivers_what_it_sent(qtbot):
    runner, seen = JobRunner(), []
    runner.cancelled.connect(lambda: seen.append("cancelled"))
    runner.busyChanged.connect(lambda busy: seen.append(busy))
    stop, started = threading.Event(), threading.Event()

    def body(_context):
        started.set()
        stop.wait(10)
        raise Cancelled("cancelled")

    runner.start(body, name="test", what="the test", cancel=stop.set)
    assert started.wait(10)
    assert runner.shutdown(10_000)   # cancels, waits, and delivers the job's last signals now
    assert seen == [True, "cancelled", False] and not runner.is_busy()
