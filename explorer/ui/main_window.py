"""The main window: composition only. It builds the parts, puts them in docks and menus, and connects
their signals; the parts own the behaviour (document, scene, actions, inspector, ...).

Later panels (training, plots, run list) come in through ``add_panel``; they find the graph in
``window.document.graph``, the live analysis in ``window.analysis``, and follow/drive the node
selection through ``window.scene.nodeSelected`` / ``window.scene.select_node``.
"""
from __future__ import annotations

from PySide6.QtCore import QByteArray, QSettings, Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDockWidget, QMainWindow, QMessageBox, QStyle, QWidget

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
        self._build_menus()
        from explorer.ui.import_actions import install_import_actions

        self.imports = install_import_actions(self)
        from explorer.ui.export_code_dialog import install_export_code

        self.export_code = install_export_code(self)
        self._connect()
        from explorer.ui.training import install_training

        self.training_dock = install_training(self)
        from explorer.ui.analysis import install_analysis

        self.analysis_dock = install_analysis(self)
        from explorer.ui.lessons import install_lessons

        self.lessons = install_lessons(self)
        from explorer.ui.study import install_study

        self.study_dock = install_study(self)
        self.setAcceptDrops(True)
        self._size_to_screen()
        self._fitted = False
        self._update_title()
        geometry, state = self.settings.value("window/geometry"), self.settings.value("window/state")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)   # size, position and whether it was maximised
        self._restored = isinstance(state, QByteArray) and self.restoreState(state)   # docks and their sizes

    # -- composition ----------------------------------------------------------------------------
    def _size_to_screen(self) -> None:
        """1500×940 where it fits, else the screen's free area (with the bottom docks at a third of it, see
        ``_share_height``, the canvas keeps more than half of a 1366×768 screen)."""
        screen = self.screen().availableGeometry() if self.screen() is not None else None
        w, h = (1500, 940) if screen is None else (min(1500, screen.width()), min(940, screen.height() - 40))
        self.resize(w, h)

    def _share_height(self) -> None:
        """The bottom docks get a third of the window (until the user sizes them: then the saved state)."""
        tabbed = self.tabifiedDockWidgets(self.training_dock)   # one of a tab group is sized for all
        bottom = [d for d in (self.training_dock, self.problems_dock)
                  if self.dockWidgetArea(d) == Qt.BottomDockWidgetArea and d not in tabbed]
        self.resizeDocks(bottom, [max(150, self.height() // 3)] * len(bottom), Qt.Vertical)

    def add_panel(self, widget: QWidget, title: str, area=Qt.RightDockWidgetArea) -> QDockWidget:
        """Dock ``widget`` under ``title`` and list it in View ▸ Panels."""
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock_{title.lower().replace(' ', '_')}")
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        if hasattr(self, "panels_menu"):
            self.panels_menu.addAction(dock.toggleViewAction())
        return dock

    def _build_menus(self) -> None:
        f, e, v = self.files, self.edit, self.view
        file_menu = self.menuBar().addMenu("&File")
        for a in (f.new, f.open):
            file_menu.addAction(a)
        file_menu.addMenu(f.recent_menu)
        file_menu.addMenu(f.presets_menu)
        file_menu.addSeparator()
        file_menu.addAction(f.save)
        file_menu.addAction(f.save_as)
        file_menu.addSeparator()
        file_menu.addAction(f.export_png)
        file_menu.addAction(f.export_svg)
        file_menu.addSeparator()
        quit_action = QAction("&Quit", self)
        quit_action.setShortcut(QKeySequence.Quit)
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)

        edit_menu = self.menuBar().addMenu("&Edit")
        for a in (e.undo, e.redo, None, e.cut, e.copy, e.paste, e.duplicate, e.delete, None, e.select_all):
            edit_menu.addSeparator() if a is None else edit_menu.addAction(a)

        block_menu = self.menuBar().addMenu("&Blocks")
        for a in (e.open_inside, e.expand, e.split, e.collapse, None, e.expand_all):
            block_menu.addSeparator() if a is None else block_menu.addAction(a)

        view_menu = self.menuBar().addMenu("&View")
        self.fit_action = QAction("&Fit to View", self)
        self.fit_action.setShortcut(QKeySequence("Ctrl+F"))
        self.fit_action.triggered.connect(v.fit)
        zoom_in = QAction("Zoom &In", self)
        zoom_in.setShortcuts([QKeySequence.ZoomIn, QKeySequence("Ctrl+=")])
        zoom_in.triggered.connect(lambda: v.set_zoom(v.scale_factor * 1.25))
        zoom_out = QAction("Zoom &Out", self)
        zoom_out.setShortcut(QKeySequence.ZoomOut)
        zoom_out.triggered.connect(lambda: v.set_zoom(v.scale_factor / 1.25))
        actual = QAction("&Actual Size", self)
        actual.setShortcut(QKeySequence("Ctrl+0"))
        actual.triggered.connect(lambda: v.set_zoom(1.0))
        for a in (self.fit_action, zoom_in, zoom_out, actual, None, e.layout_lr, e.layout_tb):
            view_menu.addSeparator() if a is None else view_menu.addAction(a)
        view_menu.addSeparator()
        self.panels_menu = view_menu.addMenu("&Panels")
        for dock in (self.palette_dock, self.inspector_dock, self.problems_dock):
            self.panels_menu.addAction(dock.toggleViewAction())

        help_menu = self.menuBar().addMenu("&Help")
        help_menu.addAction("&Canvas Gestures").triggered.connect(self._show_gestures)

        tools = self.addToolBar("Main")
        tools.setObjectName("toolbar_main")
        tools.setMovable(False)
        tools.setToolButtonStyle(Qt.ToolButtonTextBesideIcon)
        style = self.style()
        for action, icon in ((f.new, QStyle.SP_FileIcon), (f.open, QStyle.SP_DialogOpenButton),
                             (f.save, QStyle.SP_DialogSaveButton)):
            action.setIcon(style.standardIcon(icon))
        # The stack's own undo/redo actions rename themselves after each command ("Undo Expand all
        # blocks"); in the toolbar that makes every button jump, so it gets fixed-name twins.
        stack = self.document.stack
        undo = QAction(style.standardIcon(QStyle.SP_ArrowBack), "Undo", self)
        redo = QAction(style.standardIcon(QStyle.SP_ArrowForward), "Redo", self)
        undo.triggered.connect(stack.undo)
        redo.triggered.connect(stack.redo)
        stack.canUndoChanged.connect(undo.setEnabled)
        stack.canRedoChanged.connect(redo.setEnabled)
        stack.undoTextChanged.connect(lambda t: undo.setToolTip(f"Undo {t}" if t else "Undo"))
        stack.redoTextChanged.connect(lambda t: redo.setToolTip(f"Redo {t}" if t else "Redo"))
        undo.setEnabled(stack.canUndo())
        redo.setEnabled(stack.canRedo())
        self.fit_action.setText("&Fit")
        self.fit_action.setToolTip("Fit to view (Ctrl+F)")
        for a in (f.new, f.open, f.save, None, undo, redo, None, self.fit_action, e.layout_lr, None,
                  e.open_inside, e.expand, e.collapse):
            tools.addSeparator() if a is None else tools.addAction(a)

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

    def _show_gestures(self) -> None:
        QMessageBox.information(self, "Canvas gestures", (
            "Drag a block from the palette onto the canvas (double-click adds it in the middle).\n"
            "Drag from an output port (right) to an input port (left) to connect; red means refused.\n"
            "Click or rubber-band to select; drag to move; Delete removes; Ctrl+C / Ctrl+V / Ctrl+D copy, "
            "paste, duplicate.\n"
            "Wheel zooms; middle button or Space+drag pans; Ctrl+F fits everything in view.\n"
            "Double-click a residual block to look inside; Ctrl+E expands it in place; select a chain of "
            "identical blocks and press Ctrl+G to make a stage."))

    # -- window events --------------------------------------------------------------------------
    def showEvent(self, event):
        super().showEvent(event)
        if not self._fitted:
            self._fitted = True
            QTimer.singleShot(0, self._first_layout)  # once the window has its real size

    def _first_layout(self) -> None:
        if not self._restored:
            self._share_height()
        self.view.fit_or_start()

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
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/state", self.saveState())
        self.training_dock.shutdown()
        self.lessons.shutdown()
        self.document.close()
        self.edit.detach()
        self.scene.detach()
        self.inspector.detach()
        self.analysis.detach()
        event.accept()
