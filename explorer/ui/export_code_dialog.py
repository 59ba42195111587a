"""File ▸ Export Code…: the network as a standalone PyTorch module, shown read-only with syntax
highlighting before it is saved (atomically). The code comes from ``explorer.export``, as on the
command line (``python main.py export ARCH --format py``); this module only shows and saves it."""
from __future__ import annotations

import os
import re
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QColor, QFont, QFontDatabase, QSyntaxHighlighter, QTextCharFormat
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QPlainTextEdit, QVBoxLayout

PY_FILTER = "Python module (*.py)"


def _format(color: str, bold: bool = False, italic: bool = False) -> QTextCharFormat:
    f = QTextCharFormat()
    f.setForeground(QColor(color))
    if bold:
        f.setFontWeight(QFont.Bold)
    f.setFontItalic(italic)
    return f


class PythonHighlighter(QSyntaxHighlighter):
    """Keywords, names being defined, strings, numbers, comments; triple-quoted strings across lines."""

    KEYWORDS = ("and as assert break class continue def del elif else except False finally for from global if "
                "import in is lambda None nonlocal not or pass raise return True try while with yield").split()
    _IN_DOCSTRING = 1

    def __init__(self, document, dark: bool = False):
        super().__init__(document)
        keyword, name = ("#c586c0", "#4fc1ff") if dark else ("#7a1fa2", "#1f5fbf")
        string, number, comment = ("#ce9178", "#b5cea8", "#6a9955") if dark else ("#a3421c", "#1b7a3d", "#6b7b6b")
        self.string = _format(string)
        self.rules = [
            (re.compile(r"\b(?:" + "|".join(self.KEYWORDS) + r")\b"), _format(keyword, bold=True)),
            (re.compile(r"\b(?:self|super|nn|F|torch)\b"), _format(name)),
            (re.compile(r"(?<=\bdef )\w+|(?<=\bclass )\w+"), _format(name, bold=True)),
            (re.compile(r"\b\d+(?:\.\d+)?(?:e-?\d+)?\b"), _format(number)),
            (re.compile(r"'[^'\n]*'|\"[^\"\n]*\""), self.string),
            (re.compile(r"#[^\n]*"), _format(comment, italic=True)),
        ]

    def highlightBlock(self, text: str) -> None:
        for pattern, fmt in self.rules:
            for m in pattern.finditer(text):
                self.setFormat(m.start(), m.end() - m.start(), fmt)
        self._triple_quotes(text)

    def _triple_quotes(self, text: str) -> None:
        """A docstring may span lines: the block state says whether this line starts inside one."""
        start, inside = 0, self.previousBlockState() == self._IN_DOCSTRING
        self.setCurrentBlockState(0)
        while True:
            if not inside:
                start = text.find('"""', start)
                if start < 0:
                    return
            end = text.find('"""', start + (0 if inside else 3))
            if end < 0:
                self.setFormat(start, len(text) - start, self.string)
                self.setCurrentBlockState(self._IN_DOCSTRING)
                return
            self.setFormat(start, end + 3 - start, self.string)
            start, inside = end + 3, False


class ExportCodeDialog(QDialog):
    """The generated module, read-only, with Save… and Close."""

    def __init__(self, source: str, title: str, save, dark: bool = False, parent=None):
        super().__init__(parent)
        self.setWindowTitle(f"Export Code — {title}")
        self.source = source
        self._save = save
        self.view = QPlainTextEdit(source)
        self.view.setReadOnly(True)
        self.view.setLineWrapMode(QPlainTextEdit.NoWrap)
        self.view.setFont(QFontDatabase.systemFont(QFontDatabase.FixedFont))
        self.highlighter = PythonHighlighter(self.view.document(), dark)
        note = QLabel("A standalone module that imports only torch: build() rebuilds this network; "
                      "load_compiled() loads weights Residual Explorer saved.")
        note.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.Save | QDialogButtonBox.Close)
        self.buttons.button(QDialogButtonBox.Save).setText("Save…")
        self.buttons.accepted.connect(self._save_clicked)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(note)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.buttons)
        self.resize(900, 700)

    def _save_clicked(self) -> None:
        if self._save(self.source):
            self.accept()


class ExportCode:
    """The File-menu action and what it does: generate, show, save."""

    def __init__(self, window):
        self.window = window
        self.dialog: ExportCodeDialog | None = None
        self.action = QAction("Export &Code (PyTorch)…", window)
        self.action.setStatusTip("show the network as a standalone PyTorch module and save it")
        self.action.triggered.connect(self.show)

    def show(self) -> ExportCodeDialog | None:
        from explorer.export import ExportError, python_module

        graph = self.window.document.graph
        try:
            source = python_module(graph).source
        except ExportError as e:
            self.window.dialogs.error("Cannot export code", f"{e}\n\nFix the network (see Problems), then try again.")
            return None
        self.dialog = ExportCodeDialog(source, graph.name or "untitled", self._save,
                                       self.window.themes.theme.dark, self.window)
        self.dialog.setAttribute(Qt.WA_DeleteOnClose)
        self.dialog.destroyed.connect(self._forget)
        self.dialog.open()
        return self.dialog

    def _forget(self, *_) -> None:
        self.dialog = None

    def _save(self, source: str) -> bool:
        from explorer.util.atomic import write_atomic

        doc = self.window.document
        start = str(doc.path.with_suffix(".py") if doc.path else Path(os.getcwd()) / f"{doc.graph.name or 'network'}.py")
        path = self.window.dialogs.save_path(start, PY_FILTER)
        if not path:
            return False
        try:
            write_atomic(path, source)
        except OSError as e:
            self.window.dialogs.error("Cannot save code", f"{path}: {e.strerror or e}\n\nNothing was overwritten.")
            return False
        self.window.statusBar().showMessage(f"exported code to {path}", 5000)
        return True


def install_export_code(window) -> ExportCode:
    """Add File ▸ Export Code… after the picture exports."""
    export = ExportCode(window)
    for top in window.menuBar().actions():
        menu = top.menu()
        if menu is not None and window.files.export_svg in menu.actions():
            actions = menu.actions()
            after = actions[actions.index(window.files.export_svg) + 1:]
            menu.insertAction(after[0], export.action) if after else menu.addAction(export.action)
            break
    return export
