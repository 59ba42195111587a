"""Issue 19 item 8: the training status line keeps step with the plots: each time the loss plot draws,
the line names the step of the plot's last point; with the plots out of view it keeps its own pace."""
from __future__ import annotations

import re

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from conftest import build_tiny_graph

TIMEOUT = 120_000


def _status_step(dock) -> int | None:
    m = re.search(r"step ([\d,]+)/", dock.status.label.text())
    return int(m.group(1).replace(",", "")) if m else None


def _plotted_step(dock, run_id) -> int | None:
    curves = dock.metrics.loss.curves.get(run_id)
    xs = curves.raw.getData()[0] if curves is not None else None
    return int(xs[-1]) if xs is not None and len(xs) else None


def test_the_status_line_names_the_step_of_the_plots_last_point(make_window, qtbot):
    w = make_window(build_tiny_graph(), size=(1366, 768))
    dock = w.training_dock
    dock.form.epochs.setValue(200)
    dock.form.batch_size.setValue(32)
    dock.form.train_samples.setValue(256)
    seen: list[tuple[int | None, int | None]] = []
    run = []

    def after_plots_drew():   # runs in the plots' own redraw pass, after the plots and the line
        if run and _plotted_step(dock, run[0]) is not None:
            seen.append((_status_step(dock), _plotted_step(dock, run[0])))

    dock.metrics.throttle.add(after_plots_drew)
    with qtbot.waitSignal(dock.runStarted, timeout=TIMEOUT) as started:
        QTest.mouseClick(dock.train_button, Qt.MouseButton.LeftButton)
    run.append(started.args[0])
    qtbot.waitUntil(lambda: len({p for _, p in seen}) >= 4, timeout=TIMEOUT)   # the plots moved on 4 times
    assert all(s == p for s, p in seen), seen

    bar = dock.tabs.tabBar()
    QTest.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(1).center())   # Gradients: plots hidden
    assert not dock.metrics.isVisible()
    hidden_at = _status_step(dock)
    qtbot.waitUntil(lambda: (_status_step(dock) or 0) > hidden_at, timeout=TIMEOUT)   # the line goes on alone
    with qtbot.waitSignal(dock.trainingActiveChanged, timeout=TIMEOUT, check_params_cb=lambda on: not on):
        QTest.mouseClick(dock.stop_button, Qt.MouseButton.LeftButton)
