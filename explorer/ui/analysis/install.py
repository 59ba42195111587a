"""Wiring the analysis panel into a main window: a dock (bottom, beside the training panel), the Analyze
menu (one action per tool: show the panel on that tool), and the canvas link (a click on a lesion or
anatomy bar selects the node; selecting a node marks its bars). The window keeps the returned dock."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QApplication, QDockWidget, QMainWindow, QMenu

from explorer.ui.analysis.panel import AnalysisPanel
from explorer.ui.close_watch import shutdown_on_close


def install_analysis(mw: QMainWindow) -> QDockWidget:
    training = getattr(mw, "training_dock", None)
    controller = getattr(training, "controller", None)
    panel = AnalysisPanel(mw.document, controller)
    dock = mw.add_panel(panel, "Analysis", Qt.DockWidgetArea.BottomDockWidgetArea)
    if training is not None and mw.dockWidgetArea(training) == Qt.DockWidgetArea.BottomDockWidgetArea:
        mw.tabifyDockWidget(training, dock)
        training.raise_()
    dock.panel = panel

    mw.analyze_menu = analyze_menu(mw, panel, dock)

    scene, view = getattr(mw, "scene", None), getattr(mw, "view", None)
    if scene is not None:
        scene.nodeSelected.connect(panel.highlight)

        def select(node_id: str) -> None:
            scene.select_node(node_id)
            if view is not None and hasattr(view, "show_node"):
                view.show_node(node_id)
        panel.nodeClicked.connect(select)
    panel.message.connect(lambda text: mw.statusBar().showMessage(text, 8000))
    shutdown_on_close(mw, panel, dock)
    app = QApplication.instance()
    if app is not None:
        app.aboutToQuit.connect(panel.shutdown)
    return dock


def analyze_menu(mw: QMainWindow, panel: AnalysisPanel, dock: QDockWidget) -> QMenu:
    """Analyze, before Help: one entry per tool (the panel shown on it), Run Analysis and Cancel Analysis."""
    menu = mw.menuBar().addMenu("&Analyze")
    help_menu = next((a for a in mw.menuBar().actions() if a.text().replace("&", "") == "Help"), None)
    if help_menu is not None:
        mw.menuBar().insertMenu(help_menu, menu)   # before Help, where menus usually end

    def show_tool(name: str) -> None:
        dock.show()
        dock.raise_()
        panel.select_tool(name)
    for t in panel.tools:
        action = QAction(f"{t.title}…", mw)
        action.setToolTip(t.summary)
        action.setStatusTip(t.summary)
        action.triggered.connect(lambda _=False, n=t.name: show_tool(n))
        menu.addAction(action)
    menu.addSeparator()
    run = QAction("&Run Analysis", mw)
    run.setShortcut(QKeySequence("Ctrl+Shift+R"))
    run.triggered.connect(lambda: (dock.show(), dock.raise_(), panel.run()))
    cancel = QAction("&Cancel Analysis", mw)
    cancel.triggered.connect(panel.cancel)
    panel.runner.busyChanged.connect(cancel.setEnabled)
    cancel.setEnabled(False)
    menu.addAction(run)
    menu.addAction(cancel)
    return menu
