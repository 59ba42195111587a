"""The main window's menus and toolbar, made from the actions its parts own (files, edit, canvas view).

``build_menus(window)`` adds File, Edit, Blocks, View and Help and the main toolbar and returns what the
window keeps of them: the Fit action (shared by menu and toolbar) and View ▸ Panels, where later panels
list their docks.
"""
from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMenu, QMessageBox, QStyle

GESTURES = (
    "Drag a block from the palette onto the canvas (double-click adds it in the middle).\n"
    "Drag from an output port (right) to an input port (left) to connect; red means refused.\n"
    "Click or rubber-band to select; drag to move; Delete removes; Ctrl+C / Ctrl+V / Ctrl+D copy, "
    "paste, duplicate.\n"
    "Wheel zooms; middle button or Space+drag pans; Ctrl+F fits everything in view.\n"
    "Double-click a residual block to look inside; Ctrl+E expands it in place; select a chain of "
    "identical blocks and press Ctrl+G to make a stage.")


@dataclass
class WindowMenus:
    fit_action: QAction
    panels_menu: QMenu


def _add(menu_or_bar, actions) -> None:
    """Add ``actions`` in order; None is a separator."""
    for a in actions:
        menu_or_bar.addSeparator() if a is None else menu_or_bar.addAction(a)


def _action(window: QMainWindow, text: str, shortcuts, slot) -> QAction:
    a = QAction(text, window)
    a.setShortcuts([QKeySequence(s) for s in shortcuts])
    a.triggered.connect(slot)
    return a


def build_menus(window) -> WindowMenus:
    f, e, v = window.files, window.edit, window.view
    bar = window.menuBar()
    file_menu = bar.addMenu("&File")
    _add(file_menu, (f.new, f.open))
    file_menu.addMenu(f.recent_menu)
    file_menu.addMenu(f.presets_menu)
    _add(file_menu, (None, f.save, f.save_as, None, f.export_png, f.export_svg, None,
                     _action(window, "&Quit", [QKeySequence.Quit], window.close)))
    _add(bar.addMenu("&Edit"), (e.undo, e.redo, None, e.cut, e.copy, e.paste, e.duplicate, e.delete, None,
                                e.select_all))
    _add(bar.addMenu("&Blocks"), (e.open_inside, e.expand, e.split, e.collapse, None, e.expand_all))
    view_menu = bar.addMenu("&View")
    fit = _action(window, "&Fit to View", ["Ctrl+F"], v.fit)
    _add(view_menu, (fit, _action(window, "Zoom &In", [QKeySequence.ZoomIn, "Ctrl+="],
                                  lambda: v.set_zoom(v.scale_factor * 1.25)),
                     _action(window, "Zoom &Out", [QKeySequence.ZoomOut], lambda: v.set_zoom(v.scale_factor / 1.25)),
                     _action(window, "&Actual Size", ["Ctrl+0"], lambda: v.set_zoom(1.0)),
                     None, e.layout_lr, e.layout_tb, None))
    panels = view_menu.addMenu("&Panels")
    bar.addMenu("&Help").addAction("&Canvas Gestures").triggered.connect(
        lambda: QMessageBox.information(window, "Canvas gestures", GESTURES))
    _toolbar(window, fit)
    return WindowMenus(fit, panels)


def _toolbar(window, fit: QAction) -> None:
    f, e = window.files, window.edit
    tools = window.addToolBar("Main")
    tools.setObjectName("toolbar_main")
    tools.setMovable(False)
    tools.setToolButtonStyle(Qt.ToolButtonTextBesideIcon)
    style = window.style()
    for action, icon in ((f.new, QStyle.SP_FileIcon), (f.open, QStyle.SP_DialogOpenButton),
                         (f.save, QStyle.SP_DialogSaveButton)):
        action.setIcon(style.standardIcon(icon))
    # The stack's own undo/redo actions rename themselves after each command ("Undo Expand all
    # blocks"); in the toolbar that makes every button jump, so it gets fixed-name twins.
    stack = window.document.stack
    undo = QAction(style.standardIcon(QStyle.SP_ArrowBack), "Undo", window)
    redo = QAction(style.standardIcon(QStyle.SP_ArrowForward), "Redo", window)
    undo.triggered.connect(stack.undo)
    redo.triggered.connect(stack.redo)
    stack.canUndoChanged.connect(undo.setEnabled)
    stack.canRedoChanged.connect(redo.setEnabled)
    stack.undoTextChanged.connect(lambda t: undo.setToolTip(f"Undo {t}" if t else "Undo"))
    stack.redoTextChanged.connect(lambda t: redo.setToolTip(f"Redo {t}" if t else "Redo"))
    undo.setEnabled(stack.canUndo())
    redo.setEnabled(stack.canRedo())
    fit.setText("&Fit")
    fit.setToolTip("Fit to view (Ctrl+F)")
    _add(tools, (f.new, f.open, f.save, None, undo, redo, None, fit, e.layout_lr, None,
                 e.open_inside, e.expand, e.collapse))
