"""The main window: composition only. It builds the parts, puts them in docks and menus, and connects
their signals; the parts own the behaviour (document, scene, actions, inspector, ...).

Later panels (training, plots, run list) come in through ``add_panel``; they find the graph in
``window.document.graph``, the live analysis in ``window.analysis``, and follow/drive the node
selection through ``window.scene.nodeSelected`` / ``window.scene.select_node``.
"""
from __future__ import annotations

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QDockWidget, QMainWindow, QWidget

from explorer.graph import Graph
from explorer.ui.canvas import CanvasView, GraphScene
from explorer.ui.document import Document, default_graph
from explorer.ui.edit_actions import EditActions
from explorer.ui.file_actions import Dialogs, FileActions
from explorer.ui.inspector import Inspector
from explorer.ui.live_analysis import LiveAnalysis
from explorer.ui.mime import graph_file_urls
from explorer.ui.palette import Palette
from explorer.ui.problems import ProblemsList
from explorer.ui.summary_bar import SummaryBar
from explorer.ui.theme import ThemeWatcher
from explorer.ui.window_menus import build_menus
from explorer.ui.window_placement import WindowPlacement

APP_NAME = "Residual Explorer"


class MainWindow(QMainWindow):
    def __init__(self, graph: Graph | None = None, settings: QSettings | None = None,
                 dialogs: Dialogs | None = None, autosave_ms: int = 60_000):
        super().__init__()
        self.settings = settings or QSettings()
        self.themes = ThemeWatcher(self)
        self.themes.apply_to_app()
        theme = self.themes.theme
        self.document = Document(graph if graph is not None else default_graph(), self.settings, self, autosave_ms)
        self.analysis = LiveAnalysis(self.document.graph, self)
        self.scene = GraphScene(self.document.graph, self.document.stack, self.analysis, theme, self)
        self.view = CanvasView(self.scene)
        self.setCentralWidget(self.view)
        self.dialogs = dialogs or Dialogs(self)
        self.edit = EditActions(self.document, self.scene, self.view, self)
        self.files = FileActions(self.document, self.scene, self.dialogs, self)
        self.files.layout_hint = self.edit.layout_hint
        self._build_panels(theme)
        self.menus = build_menus(self)
        for dock in (self.palette_dock, self.inspector_dock, self.problems_dock):
            self.panels_menu.addAction(dock.toggleViewAction())
        self._install_actions()
        self._connect()
        self._install_panels()
        self.setAcceptDrops(True)
        self._update_title()
        self.placement = WindowPlacement(self, self.settings)
        self.placement.restore()

    # Kept by the menus; later panels add their docks' toggles to View ▸ Panels.
    fit_action = property(lambda self: self.menus.fit_action)
    panels_menu = property(lambda self: self.menus.panels_menu)

    # -- composition ----------------------------------------------------------------------------
    def _build_panels(self, theme) -> None:
        """The palette, inspector and problems list in their docks, the summary in the status bar."""
        self.palette = Palette(theme.dark)
        self.inspector = Inspector(self.document.graph, self.document.stack, self.analysis,
                                   (self.edit.open_inside, self.edit.expand, self.edit.split))
        self.problems = ProblemsList(self.analysis)
        self.summary = SummaryBar(self.analysis, self.document.dataset)
        self.palette_dock = self.add_panel(self.palette, "Palette", Qt.LeftDockWidgetArea)
        self.inspector_dock = self.add_panel(self.inspector, "Inspector", Qt.RightDockWidgetArea)
        self.problems_dock = self.add_panel(self.problems, "Problems", Qt.BottomDockWidgetArea)
        self.problems_dock.setMinimumHeight(60)
        self.resizeDocks([self.palette_dock, self.inspector_dock], [230, 300], Qt.Horizontal)
        self.resizeDocks([self.problems_dock], [90], Qt.Vertical)
        self.statusBar().addPermanentWidget(self.summary, 1)

    def _install_actions(self) -> None:
        """Import and code export, each installed by its own module (which adds its menu entries)."""
        from explorer.ui.export_code_dialog import install_export_code
        from explorer.ui.import_actions import install_import_actions

        self.imports = install_import_actions(self)
        self.export_code = install_export_code(self)

    def _install_panels(self) -> None:
        """The training, analysis, lessons and study panels, each installed by its own package (which adds its
        menus and docks)."""
        from explorer.ui.training import install_training

        self.training_dock = install_training(self)
        from explorer.ui.analysis import install_analysis

        self.analysis_dock = install_analysis(self)
        from explorer.ui.lessons import install_lessons

        self.lessons = install_lessons(self)
        from explorer.ui.study import install_study

        self.study_dock = install_study(self)

    def add_panel(self, widget: QWidget, title: str, area=Qt.RightDockWidgetArea) -> QDockWidget:
        """Dock ``widget`` under ``title`` and list it in View ▸ Panels."""
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock_{title.lower().replace(' ', '_')}")
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        if hasattr(self, "panels_menu"):
            self.panels_menu.addAction(dock.toggleViewAction())
        return dock

    def _connect(self) -> None:
        doc, status = self.document, self.statusBar()
        for source in (self.scene.message, self.edit.message, self.files.message):
            source.connect(lambda text: status.showMessage(text, 8000))
        self.scene.nodeSelected.connect(self.inspector.show_node)
        self.inspector.follow_edges(self.scene)   # a selected connection: from → to and its tensor
        self.scene.openInsideRequested.connect(self.open_inside)
        self.scene.presetDropped.connect(self.files.open_preset)
        self.scene.fileDropped.connect(self.files.open_path)
        self.edit.openInside.connect(self.open_inside)
        self.problems.nodeActivated.connect(self.reveal_node)
        self.palette.activated.connect(self._palette_activated)
        doc.pathChanged.connect(lambda _: self._update_title())
        doc.dirtyChanged.connect(lambda _: self._update_title())
        doc.opened.connect(self._opened)
        self.inspector.committed.connect(self.view.setFocus)   # Enter in a field: Ctrl+Z undoes it next
        self.problems.countChanged.connect(self._problems_counted)
        self._problems_counted(*self.problems.counts())
        self.themes.changed.connect(self._theme_changed)

    # -- reactions ------------------------------------------------------------------------------
    def _update_title(self) -> None:
        self.setWindowTitle(f"{self.document.title}[*] — {APP_NAME}")
        self.setWindowModified(self.document.dirty)

    def _problems_counted(self, errors: int, warnings: int) -> None:
        count = errors + warnings
        self.problems_dock.setWindowTitle(f"Problems ({count})" if count else "Problems")

    def _opened(self) -> None:
        self._update_title()   # a preset or New has no path of its own to announce it
        self.scene.set_direction(self.edit.direction)
        self.view.fit_or_start()

    def _theme_changed(self, theme) -> None:
        self.scene.set_theme(theme)
        self.view.setBackgroundBrush(theme.canvas)

    def _palette_activated(self, kind: str, name: str) -> None:
        if kind == "preset":
            self.files.open_preset(name)
            return
        from explorer.ui.canvas.interactions import add_block

        centre = self.view.mapToScene(self.view.viewport().rect().center())
        add_block(self.scene, name, (centre.x(), centre.y()))

    def reveal_node(self, node_id: str) -> None:
        self.scene.select_node(node_id)
        self.view.show_node(node_id)

    def open_inside(self, node_id: str) -> None:
        from explorer.ui.inside_view import InsideDialog

        info = self.analysis.result.nodes.get(node_id)
        if info is None or not info.in_shapes:
            self.statusBar().showMessage(f"connect '{node_id}' to an input first: what is inside depends on the "
                                         "shape it receives", 8000)
            return
        dialog = InsideDialog(self.document.graph, node_id, info.in_shapes[0], self.themes.theme,
                              self.edit.expand, self)
        dialog.setAttribute(Qt.WA_DeleteOnClose)
        self.document.opened.connect(dialog.close)   # a window onto the old document's block goes with it
        dialog.show()
        self.inside_dialog = dialog

    # -- window events --------------------------------------------------------------------------
    def showEvent(self, event):
        super().showEvent(event)
        self.placement.shown()

    def dragEnterEvent(self, event):
        if graph_file_urls(event.mimeData()):
            event.acceptProposedAction()

    def dropEvent(self, event):
        files = graph_file_urls(event.mimeData())
        if files:
            event.acceptProposedAction()
            self.files.open_path(files[0])

    def closeEvent(self, event):
        if not self.files.maybe_save("close"):
            event.ignore()
            return
        self.placement.save()
        self.training_dock.shutdown()
        self.lessons.shutdown()
        self.document.close()
        self.edit.detach()
        self.scene.detach()
        self.inspector.detach()
        self.analysis.detach()
        event.accept()
