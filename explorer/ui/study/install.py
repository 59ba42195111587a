"""Wiring the Study view into a main window: a bottom dock beside training and analysis, a Study menu (New
Study…, Ctrl+Shift+Y; Open Study Folder…), a clicked point opening its trial's graph on the canvas and its run in the
Runs list, and a running study cancelled (trials keep last.pt) when the window closes."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDockWidget, QMainWindow

from explorer.ui.close_watch import shutdown_on_close
from explorer.ui.study.panel import StudyPanel


def install_study(mw: QMainWindow, panel: StudyPanel | None = None) -> QDockWidget:
    panel = panel or StudyPanel()
    dock = mw.add_panel(panel, "Study", Qt.DockWidgetArea.BottomDockWidgetArea)
    dock.setObjectName("dock_study")
    neighbour = getattr(mw, "analysis_dock", None) or getattr(mw, "training_dock", None)
    if neighbour is not None and mw.dockWidgetArea(neighbour) == Qt.DockWidgetArea.BottomDockWidgetArea:
        mw.tabifyDockWidget(neighbour, dock)
        getattr(mw, "training_dock", neighbour).raise_()
    dock.panel = panel

    def show() -> None:
        dock.show()
        dock.raise_()
        panel.start_button.setFocus()

    action = QAction("&New Study…", mw)
    action.setShortcut(QKeySequence("Ctrl+Shift+Y"))
    action.setStatusTip("Train many networks as one study: depth over a family with plain twins, or a grid")
    action.triggered.connect(lambda: (panel.new_study(), show()))
    open_action = QAction("&Open Study Folder…", mw)
    open_action.setStatusTip("See a study's results, or resume it after a restart")
    open_action.triggered.connect(lambda: (show(), panel.browse()))
    menu = mw.menuBar().addMenu("&Study")
    help_menu = next((a for a in mw.menuBar().actions() if a.text().replace("&", "") == "Help"), None)
    if help_menu is not None:
        mw.menuBar().insertMenu(help_menu, menu)   # before Help, beside Analyze
    menu.addAction(action)
    menu.addAction(open_action)
    dock.action = action

    def open_trial(record, graph_path: str) -> None:
        files = getattr(mw, "files", None)
        if files is not None and Path(graph_path).is_file():
            if files.open_path(graph_path) is False:
                return  # the person kept their document
        training = getattr(mw, "training_dock", None)
        if training is not None:
            from explorer.runs.feed import RunFeed
            training.controller.show_runs([RunFeed(record)])
            training.show()
            training.raise_()

    panel.openTrial.connect(open_trial)
    shutdown_on_close(mw, panel)
    return dock
