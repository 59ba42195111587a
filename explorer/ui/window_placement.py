"""Where the main window sits and how its docks share it: sized to the screen, the saved geometry and dock
state restored (and saved again on close), and, on the first show without a saved state, the bottom docks
given a third of the height before the canvas fits its graph."""
from __future__ import annotations

from PySide6.QtCore import QByteArray, QSettings, Qt, QTimer
from PySide6.QtWidgets import QMainWindow


MAX_W, MAX_H = 1920, 1040   # a 1920×1080 screen, less a panel: the startup network fits one row of the canvas there


def opening_size(screen_w: int, screen_h: int) -> tuple[int, int]:
    """The window's first size on a screen whose free area is ``screen_w``×``screen_h``: never beyond it
    (40 px left for a panel's height), at most ``MAX_W``×``MAX_H``."""
    return min(MAX_W, screen_w), min(MAX_H, screen_h - 40)


class WindowPlacement:
    def __init__(self, window: QMainWindow, settings: QSettings):
        self.window, self.settings = window, settings
        self.shown_once = False
        self.restored = False

    def restore(self) -> None:
        """The screen's free area up to 1920×1040 (``opening_size``); then the saved size and docks, if any."""
        w = self.window
        screen = w.screen().availableGeometry() if w.screen() is not None else None
        w.resize(*((1500, 940) if screen is None else opening_size(screen.width(), screen.height())))
        geometry, state = self.settings.value("window/geometry"), self.settings.value("window/state")
        if isinstance(geometry, QByteArray):
            w.restoreGeometry(geometry)   # size, position and whether it was maximised
        self.restored = isinstance(state, QByteArray) and w.restoreState(state)   # docks and their sizes

    def save(self) -> None:
        self.settings.setValue("window/geometry", self.window.saveGeometry())
        self.settings.setValue("window/state", self.window.saveState())

    def shown(self) -> None:
        """The window is shown: the first time, lay it out once it has its real size."""
        if not self.shown_once:
            self.shown_once = True
            QTimer.singleShot(0, self._first_layout)

    def _first_layout(self) -> None:
        if not self.restored:
            self.share_height()
        self.window.edit.arrange_startup()   # the startup network laid out for the canvas it really has
        self.window.view.fit_or_start()

    def share_height(self) -> None:
        """The bottom docks get a third of the window (until the user sizes them: then the saved state). With
        that share the canvas keeps more than half of a 1366×768 screen."""
        w = self.window
        tabbed = w.tabifiedDockWidgets(w.training_dock)   # one of a tab group is sized for all
        bottom = [d for d in (w.training_dock, w.problems_dock)
                  if w.dockWidgetArea(d) == Qt.BottomDockWidgetArea and d not in tabbed]
        w.resizeDocks(bottom, [max(150, w.height() // 3)] * len(bottom), Qt.Vertical)
