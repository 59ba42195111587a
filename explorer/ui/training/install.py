"""Wiring the training dock into a main window, with whatever the window offers.

``install_training(main_window)`` adds the dock (bottom area), puts the progress in the status bar and
connects, where the window has them (checked with ``hasattr``, so it works before and after they land):

- the document (``document`` or ``doc`` attribute, an ``explorer.ui.document.Document``): the graph
  to train, the runs folder beside the project file (``pathChanged``/``opened``);
- the canvas scene (``scene``, or ``canvas.scene()``): ``nodeSelected(str)`` -> ``highlightNode``,
  heatmap clicks -> ``select_node(id)`` (+ ``view.show_node(id)`` when there is one);
- ``QApplication.aboutToQuit`` -> ``shutdown()``; the dock also stops training when the window hides;
- "Open the graph this run trained" (run list) -> ``files.maybe_save()`` then ``document.set_graph``;
- View ▸ Panels (``panels_menu``) gets the dock's toggle action.

It returns the dock; the window keeps a reference (``main_window.training_dock``).
"""
from __future__ import annotations

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtWidgets import QApplication, QMainWindow

from explorer.runs.project import runs_folder_for
from explorer.ui.training.dock import TrainingDock


def _first_attr(obj, *names):
    for n in names:
        v = getattr(obj, n, None)
        if v is not None:
            return v
    return None


def find_document(mw):
    return _first_attr(mw, "document", "doc", "_document", "_doc")


def find_scene(mw):
    scene = _first_attr(mw, "scene", "_scene")
    if scene is None:
        canvas = _first_attr(mw, "canvas", "view", "_canvas", "_view")
        if canvas is not None and hasattr(canvas, "scene"):
            scene = canvas.scene() if callable(canvas.scene) else canvas.scene
    return scene if scene is not None and hasattr(scene, "nodeSelected") else None


def find_view(mw):
    view = _first_attr(mw, "view", "canvas", "_view", "_canvas")
    return view if view is not None and hasattr(view, "show_node") else None


class _ProjectFolder(QObject):
    """Follows the document's file: Save As carries the runs over; opening another file switches to its
    runs. ``pathChanged`` comes before ``opened`` when a file is opened, so the decision waits a turn."""

    def __init__(self, dock: TrainingDock, doc):
        super().__init__(dock)
        self.dock, self.doc = dock, doc
        self._opened = False
        self._pending = False
        doc.pathChanged.connect(self._path_changed)
        doc.opened.connect(self._on_opened)
        if getattr(doc, "path", None):
            dock.controller.set_folder(runs_folder_for(doc.path), carry_over=False)

    def _on_opened(self) -> None:
        self._opened = True
        if not self._pending:
            QTimer.singleShot(0, self._apply)
            self._pending = True

    def _path_changed(self, _path) -> None:
        if not self._pending:
            QTimer.singleShot(0, self._apply)
            self._pending = True

    def _apply(self) -> None:
        opened, self._opened, self._pending = self._opened, False, False
        path = getattr(self.doc, "path", None)
        c = self.dock.controller
        if path:
            c.set_folder(runs_folder_for(path), carry_over=not opened)
        else:  # New, a preset or a run's graph: no file yet; the runs stay listed and move in when it is saved
            c.set_folder(None, carry_over=True)


def install_training(mw: QMainWindow, area=Qt.DockWidgetArea.BottomDockWidgetArea) -> TrainingDock:
    doc = find_document(mw)

    def graph_provider():
        return doc.graph if doc is not None else None

    def arch_name():
        if doc is None:
            return ""
        path = getattr(doc, "path", None)
        return path.stem if path else (doc.graph.name or "network")

    dock = TrainingDock(graph_provider, arch_name, mw)
    mw.addDockWidget(area, dock)
    problems = getattr(mw, "problems_dock", None)
    if problems is not None and mw.dockWidgetArea(problems) == area:
        mw.tabifyDockWidget(problems, dock)  # the plots get the window's full width
        dock.runStarted.connect(lambda _id: dock.raise_())
        dock.raise_()
    mw.training_dock = dock
    # The progress goes to the status bar, the one place that is always on screen.
    dock.widget().layout().removeWidget(dock.status)
    dock.status_in_dock = False
    mw.statusBar().addPermanentWidget(dock.status)
    dock.statusMessage.connect(lambda text: mw.statusBar().showMessage(text, 8000))

    if doc is not None and hasattr(doc, "pathChanged") and hasattr(doc, "opened"):
        dock._project = _ProjectFolder(dock, doc)
    if hasattr(mw, "panels_menu"):
        mw.panels_menu.addAction(dock.toggleViewAction())
    if doc is not None and hasattr(doc, "set_graph"):
        files = getattr(mw, "files", None)

        def open_trained(graph_json: str, name: str) -> None:
            from explorer.graph.fileio import FileFormatError, loads_graph
            if files is not None and hasattr(files, "maybe_save") and not files.maybe_save():
                return
            try:
                graph = loads_graph(graph_json, source=f"run '{name}'")
            except FileFormatError as e:
                dock.banner.show_message(f"cannot open the graph of run '{name}': {e}", "error")
                return
            graph.name = name
            doc.set_graph(graph)
        dock.graphRequested.connect(open_trained)

    scene = find_scene(mw)
    if scene is not None:
        scene.nodeSelected.connect(dock.highlightNode)
        view = find_view(mw)

        def select(node_id: str) -> None:
            if hasattr(scene, "select_node"):
                scene.select_node(node_id)
            if view is not None:
                view.show_node(node_id)
        dock.layerClicked.connect(select)

    app = QApplication.instance()
    if app is not None:
        app.aboutToQuit.connect(dock.shutdown)
    return dock
