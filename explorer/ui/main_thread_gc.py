"""Python's cyclic garbage collector runs in the GUI thread only.

An automatic collection runs in whichever thread happens to allocate. One that runs in a worker thread
(training, analysis, a study) and finds a closed window's widgets deletes Qt objects there, and PySide then
deadlocks: the worker holds Qt's object lock and waits for the GIL while the GUI thread holds the GIL and
waits for that lock (seen in the suite: a study worker building graphs froze the window for good). So the
automatic collector is switched off and a timer in the GUI thread collects whenever the allocation counts
pass the collector's own thresholds: the usual remedy in PyQt and PySide programs.
"""
from __future__ import annotations

import gc

from PySide6.QtCore import QCoreApplication, QObject, QTimer

INTERVAL_MS = 200


class MainThreadCollector(QObject):
    """Owned by the application; collects the generation whose threshold the counts have passed."""

    def __init__(self, app: QCoreApplication):
        super().__init__(app)
        self.setObjectName("main-thread-gc")
        gc.disable()
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.collect_due)
        self.timer.start(INTERVAL_MS)

    def collect_due(self) -> None:
        (t0, t1, t2), (c0, c1, c2) = gc.get_threshold(), gc.get_count()
        if c0 > t0:
            gc.collect(2 if c2 > t2 else 1 if c1 > t1 else 0)


def collect_in_main_thread(app: QCoreApplication) -> MainThreadCollector:
    """Install the collector once per application (later calls return the same one)."""
    found = app.findChild(MainThreadCollector, "main-thread-gc")
    return found if found is not None else MainThreadCollector(app)
