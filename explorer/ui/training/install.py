"""Wiring the training dock into a main window, with whatever the window offers.

``install_training(main_window)`` adds the dock (bottom area), puts the progress in the status bar and
connects, where the window has them (checked with ``hasattr``, so it works before and after they land):

- the document (``document`` or ``doc`` attribute, an ``explorer.ui.document.Document``): the graph
  to train, the runs folder beside the project file (``saved``/``opened``); banners and the status
  text belong to the document and go when another is opened;
- the live analysis (``analysis``): Train is disabled, its tooltip naming the first error, while the
  graph is invalid;
- the file actions (``files``): ``files.runs`` is the run controller, so replacing the document or closing
  the window asks before a training run stops or runs that exist only in memory are lost;
- the canvas scene (``scene``, or ``canvas.scene()``): ``nodeSelected(str)`` -> ``highlightNode``,
  heatmap clicks -> ``select_node(id)`` (+ ``view.show_node(id)`` when there is one);
- ``QApplication.aboutToQuit`` -> ``shutdown()``; the dock also stops training when the window hides;
- "Open the graph this run trained" (run list) -> ``files.maybe_save(keep_runs=True)`` then
  ``document.set_graph``; the run list stays (the graph is a run's of this project);
- View ▸ Panels (``panels_menu``) gets the dock's toggle action.

It returns the dock; the window keeps a reference (``main_window.training_dock``).
"""
from __future__ import annotations

from PySide6.QtCore import QObject, Qt
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
    """The run list follows the document. Saving under a new name carries the listed runs into the folder
    beside the file; opening another document (a file, a preset, New) shows that document's runs, none for
    one without a file. Asking before unsaved runs go is FileActions' job (``maybe_save``), done before."""

    def __init__(self, dock: TrainingDock, doc):
        super().__init__(dock)
        self.dock, self.doc = dock, doc
        self.keep_runs = False   # set for one opening: a run's own graph stays in its project's list
        doc.opened.connect(self._opened)
        if hasattr(doc, "saved"):
            doc.saved.connect(self._saved)
        if getattr(doc, "path", None):
            dock.controller.set_folder(runs_folder_for(doc.path), carry_over=False)

    def _saved(self, path) -> None:
        c, folder = self.dock.controller, runs_folder_for(path)
        if c.store is None or c.store.folder != folder:
            c.set_folder(folder, carry_over=True)

    def _opened(self) -> None:
        self.dock.document_changed()
        if self.keep_runs:
            self.keep_runs = False
            return
        path = getattr(self.doc, "path", None)
        self.dock.controller.set_folder(runs_folder_for(path) if path else None, carry_over=False)


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
    # The plots may shrink below their preferred height here, so on a small screen (1366×768) the dock
    # takes a third of the window and the canvas keeps more than half.
    dock.tabs.setMinimumHeight(160)
    # The progress goes to the status bar, the one place that is always on screen.
    dock.widget().layout().removeWidget(dock.status)
    mw.statusBar().addPermanentWidget(dock.status)
    dock.statusMessage.connect(lambda text: mw.statusBar().showMessage(text, 8000))

    project = _ProjectFolder(dock, doc) if doc is not None and hasattr(doc, "opened") else None
    files = getattr(mw, "files", None)
    if files is not None and hasattr(files, "runs"):
        files.runs = dock.controller   # File actions ask before a training run or unsaved runs would go
    analysis = getattr(mw, "analysis", None)
    if analysis is not None and hasattr(analysis, "updated"):
        def blocker(a) -> None:
            errors = a.errors
            dock.set_blocker(errors[0].text if errors else "")
        analysis.updated.connect(blocker)
        blocker(analysis.result)
    if hasattr(mw, "panels_menu"):
        mw.panels_menu.addAction(dock.toggleViewAction())
    if doc is not None and hasattr(doc, "set_graph"):
        def open_trained(graph_json: str, name: str) -> None:
            from explorer.graph.fileio import FileFormatError, loads_graph
            if files is not None and hasattr(files, "maybe_save") and not files.maybe_save(keep_runs=True):
                return
            try:
                graph = loads_graph(graph_json, source=f"run '{name}'")
            except FileFormatError as e:
                dock.banner.show_message(f"cannot open the graph of run '{name}': {e}", "error")
                return
            graph.name = name
            if project is not None:
                project.keep_runs = True
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
