"""File ▸ Import PyTorch Model… and File ▸ Import Weights…: the window's side of ``explorer.importer``.

Importing a model runs its code, so the window first says so and asks; nothing runs on a cancel. The
questions go through an ``ImportDialogs`` object (tests answer them without modal boxes). The imported
graph replaces the open one like File ▸ Open does (after the unsaved-changes question) and is marked
unsaved; imported weights become a run folder whose graph is opened.
"""
from __future__ import annotations

import ast
import os
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QAction, QGuiApplication
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMessageBox

from explorer.importer import RUNS_CODE_NOTICE, ImporterError


class ImportDialogs:
    """The questions of the two import actions, as plain methods. Replace for tests."""

    def __init__(self, parent=None):
        self.parent = parent

    def model_file(self, start: str) -> str:
        return QFileDialog.getOpenFileName(self.parent, "Import PyTorch model", start, "Python file (*.py)")[0]

    def callable_name(self, path: str, names: list[str]) -> str:
        name, ok = QInputDialog.getItem(self.parent, "Import PyTorch model",
                                        f"The function or class in {Path(path).name} that builds the model "
                                        "(called without arguments):", names or ["build"], 0, True)
        return name.strip() if ok else ""

    def input_shape(self) -> str | None:
        text, ok = QInputDialog.getText(self.parent, "Import PyTorch model",
                                        "Shape of one input sample, C,H,W (empty: the first convolution's "
                                        "channels at 32×32):")
        return text.strip() if ok else None

    def confirm_run(self, path: str) -> bool:
        answer = QMessageBox.warning(self.parent, "Run this file?",
                                     f"Importing {Path(path).name} runs its Python code.\n\n"
                                     f"{RUNS_CODE_NOTICE[0].upper()}{RUNS_CODE_NOTICE[1:]}.",
                                     QMessageBox.Yes | QMessageBox.Cancel, QMessageBox.Cancel)
        return answer == QMessageBox.Yes

    def weights_file(self, start: str) -> str:
        return QFileDialog.getOpenFileName(self.parent, "Import weights", start,
                                           "PyTorch weights (*.pth *.pt *.bin);;All files (*)")[0]

    def preset(self, names: list[str], current: str) -> str:
        index = names.index(current) if current in names else 0
        name, ok = QInputDialog.getItem(self.parent, "Import weights", "The preset the weights were trained as:",
                                        names, index, False)
        return name if ok else ""

    def run_folder(self, start: str) -> str:
        return QFileDialog.getSaveFileName(self.parent, "Write the run folder", start, "Run folder (*)")[0]

    def confirm_replace(self, folder: str, held: list[str]) -> bool:
        answer = QMessageBox.warning(self.parent, "Replace the run?",
                                     f"{folder} already holds a run ({', '.join(held)}).\n\n"
                                     "Replace it whole with the imported weights? Its checkpoints and metrics "
                                     "are deleted.", QMessageBox.Yes | QMessageBox.Cancel, QMessageBox.Cancel)
        return answer == QMessageBox.Yes

    def error(self, title: str, text: str) -> None:
        QMessageBox.critical(self.parent, title, text)


def top_level_names(path: str) -> list[str]:
    """Functions and classes defined at the top of a Python file, read without running it (a guess for
    the callable: ``build``-like names first)."""
    try:
        tree = ast.parse(Path(path).read_text(encoding="utf-8", errors="replace"))
    except (OSError, SyntaxError, ValueError):
        return []
    names = [n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef)) and not n.name.startswith("_")]
    return sorted(names, key=lambda n: (not any(w in n.lower() for w in ("build", "make", "model", "net")),
                                        names.index(n)))


class ImportActions(QObject):
    message = Signal(str)

    def __init__(self, window, dialogs: ImportDialogs | None = None):
        super().__init__(window)
        self.window = window
        self.dialogs = dialogs or ImportDialogs(window)
        self.import_model = QAction("Import PyTorch &Model…", self)
        self.import_model.setStatusTip("build a graph from PyTorch code (runs that code)")
        self.import_model.triggered.connect(self.import_model_dialog)
        self.import_weights = QAction("Import &Weights…", self)
        self.import_weights.setStatusTip("load a torchvision or timm state_dict into a preset, as a run folder")
        self.import_weights.triggered.connect(self.import_weights_dialog)

    # -- the two actions ------------------------------------------------------------------------
    def import_model_dialog(self) -> bool:
        path = self.dialogs.model_file(os.getcwd())
        if not path:
            return False
        name = self.dialogs.callable_name(path, top_level_names(path))
        if not name:
            return False
        shape_text = self.dialogs.input_shape()
        if shape_text is None or not self.dialogs.confirm_run(path):
            return False
        from explorer.arch import ArchError, parse_shape
        from explorer.importer import import_spec

        try:
            shape = parse_shape(shape_text) if shape_text else None
            with _busy():
                imported = import_spec(f"{path}:{name}", shape)
        except (ArchError, ImporterError) as e:
            self.dialogs.error("Cannot import model", f"{e}\n\nThe graph you have open was not changed.")
            return False
        if not self._replace(imported.graph):
            return False
        left = f"; {len(imported.opaque)} opaque node(s) to replace" if imported.opaque else ""
        self.message.emit(f"imported {Path(path).name}:{name} ({len(imported.graph)} nodes{left})")
        return True

    def import_weights_dialog(self) -> bool:
        from explorer.presets import list_presets

        path = self.dialogs.weights_file(os.getcwd())
        if not path:
            return False
        preset = self.dialogs.preset([p.name for p in list_presets()], self.window.document.graph.name)
        if not preset:
            return False
        out = self.dialogs.run_folder(str(Path(path).with_suffix("")) + "_run")
        if not out:
            return False
        from explorer.importer import import_weights
        from explorer.train.run_dir import run_files

        held = run_files(out)  # the window asks where the command line wants --force
        if held and not self.dialogs.confirm_replace(out, held):
            return False
        try:
            with _busy():
                folder = import_weights(preset, path, out, force=bool(held))
        except ImporterError as e:
            self.dialogs.error("Cannot import weights", f"{e}\n\nNothing was written.")
            return False
        from explorer.graph.fileio import FileFormatError

        files = self.window.files
        if not files.maybe_save():
            return True
        try:
            self.window.document.open(folder / "graph.json")
        except FileFormatError as e:  # the folder was just written; only a full disk gets here
            self.dialogs.error("Cannot open the run", str(e))
            return False
        self.message.emit(f"wrote run folder {folder} ({preset} with the weights of {Path(path).name})")
        return True

    def _replace(self, graph) -> bool:
        from explorer.ui.document import arrange

        if not self.window.files.maybe_save():
            return False
        self.window.document.set_graph(arrange(graph, *self.window.files.layout_hint()), dirty=True)
        return True


class _busy:
    """A wait cursor while the import runs (tracing a large model takes a few seconds)."""

    def __enter__(self):
        QGuiApplication.setOverrideCursor(Qt.WaitCursor)

    def __exit__(self, *exc):
        QGuiApplication.restoreOverrideCursor()
        return False


def install_import_actions(window) -> ImportActions:
    """Add the two actions to the window's File menu, before Quit, and route their messages to the status bar."""
    actions = ImportActions(window)
    file_menu = window.menuBar().actions()[0].menu()
    items = file_menu.actions()
    quit_at = next((i for i, a in enumerate(items) if a.text().replace("&", "") == "Quit"), len(items))
    before = items[quit_at - 1] if quit_at > 0 and items[quit_at - 1].isSeparator() else \
        (items[quit_at] if quit_at < len(items) else None)
    file_menu.insertActions(before, [actions.import_model, actions.import_weights])
    file_menu.insertSeparator(actions.import_model)
    actions.message.connect(lambda text: window.statusBar().showMessage(text, 8000))
    return actions
