"""The window's Compile checkbox: a click puts --compile in the run's settings, and a compiler that fails
shows its warning while the run trains on uncompiled."""
import torch
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

TIMEOUT = 60_000


def test_compile_checkbox_runs_with_compile_and_a_failure_is_shown(training_window, qtbot, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("no C++ compiler found")
    monkeypatch.setattr(torch, "compile", broken)
    mw, dock = training_window()
    form = dock.form
    assert not form.config().compile
    form.compile.setFocus()
    QTest.keyClick(form.compile, Qt.Key.Key_Space)  # a real key event toggles it, as a click does
    assert form.compile.isChecked() and form.config().compile
    form.epochs.setValue(1)
    form.batch_size.setValue(256)
    form.stats_every.setValue(2)
    notices = []
    dock.controller.notice.connect(lambda text, level: notices.append(text))
    with qtbot.waitSignal(dock.runFinished, timeout=TIMEOUT):
        rid = dock.train()
    rec = dock.controller.record(rid)
    assert rec.status == "finished", rec.message
    assert any(n.startswith("compiling, ~") for n in notices)
    assert sum("--compile failed (RuntimeError: no C++ compiler found)" in n for n in notices) == 1
    form.compile.setChecked(False)
    assert rec.config["compile"] is True
    form.apply(rec.config, "digits")
    assert form.compile.isChecked()  # "train again with these settings" keeps it
