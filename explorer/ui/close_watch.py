"""Shut a panel's background work down when its window closes: the window hides without being minimised
(a close that "Cancel" in the save question stopped never gets this far), and the panel's ``shutdown()``
cancels what runs and waits for its thread, so nothing outlives the window."""
from __future__ import annotations

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QWidget


class ShutdownOnClose(QObject):
    def __init__(self, panel, parent: QObject):
        super().__init__(parent)
        self.panel = panel

    def eventFilter(self, obj, event) -> bool:
        if event.type() == QEvent.Type.Hide and not event.spontaneous():
            self.panel.shutdown()
        return False


def shutdown_on_close(window: QWidget, panel, owner: QObject | None = None) -> ShutdownOnClose:
    """Call ``panel.shutdown()`` when ``window`` closes; the watcher belongs to ``owner`` (default: window)."""
    watcher = ShutdownOnClose(panel, owner or window)
    window.installEventFilter(watcher)
    return watcher
