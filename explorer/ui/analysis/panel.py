"""The analysis panel: pick a tool and what it runs on, set its options, Run (in the worker thread, with
progress and Cancel), read the verdict above the plots, export them, find them again after reopening.

The panel is generic: each tool (``tools.TOOLS``) brings its options, job and view. Results go to the
target's results file as soon as they arrive; the panel shows the saved result of the chosen tool and
target, or says that it has not run there yet.
"""
from __future__ import annotations

import re
import time

from PySide6.QtCore import QCoreApplication, QEvent, Qt, Signal
from PySide6.QtWidgets import (QComboBox, QFileDialog, QFormLayout, QHBoxLayout, QLabel, QScrollArea, QSizePolicy,
                               QStackedWidget, QVBoxLayout, QWidget)

from explorer.ui.analysis.panel_rows import ExportRow, RunRow
from explorer.ui.analysis.results_file import Results, load_results
from explorer.ui.analysis.target_picker import TargetPicker
from explorer.ui.analysis.targets import GRAPH_KEY, GRAPH_RESULTS
from explorer.ui.analysis.tool import Tool, ToolError
from explorer.ui.analysis.view_shelf import ViewShelf
from explorer.ui.analysis.worker import AnalysisRunner
from explorer.ui.view_export import ExportError, export_csv, export_png
from explorer.util.untrusted import UntrustedInputError

LEFT_WIDTH = 320


class AnalysisPanel(QWidget):
    resultShown = Signal(str)        # tool name: a result (fresh or saved) is on screen
    nodeClicked = Signal(str)        # a view asks the canvas to select this node
    message = Signal(str)            # for the status bar

    def __init__(self, document, controller=None, tools: list[type[Tool]] | None = None, parent=None):
        super().__init__(parent)
        from explorer.ui.analysis.tools import TOOLS

        self.doc = document
        self.tools = [cls() for cls in (tools or TOOLS)]
        self.runner = AnalysisRunner(self)
        self._results: dict[str, Results] = {}     # target key -> its results (loaded once)
        self._running: tuple[str, str, Results] | None = None   # tool name, target key, where it goes
        self._build(controller)
        self.runner.progress.connect(self.run_row.progress)
        self.runner.finished.connect(self._finished)
        self.runner.failed.connect(self._failed)
        self.runner.cancelled.connect(self._cancelled)
        self.runner.busyChanged.connect(self._busy)
        if hasattr(document, "opened"):
            document.opened.connect(self.document_opened)
        if hasattr(document, "saved"):
            document.saved.connect(self._document_saved)
        self.document_opened()

    # -- layout -------------------------------------------------------------------------------------
    def _build(self, controller) -> None:
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self._control_column(controller))
        row.addWidget(self._result_column(), 1)
        self.tool_box.currentIndexChanged.connect(self._tool_changed)
        self.picker.targetChanged.connect(self._target_changed)
        self.picker.folderAdded.connect(self._folder_added)
        self.run_button.clicked.connect(self.run)
        self.cancel_button.clicked.connect(self.runner.cancel)
        self.cancel_button.clicked.connect(lambda: self._say("cancelling: the tool stops at its next batch…"))
        self.png_button.clicked.connect(self._export_png)
        self.csv_button.clicked.connect(self._export_csv)
        self._tool_changed()

    def _control_column(self, controller) -> QWidget:
        """Left: tool, target, the tool's options, Run and Cancel, progress (scrolled), the status line."""
        left = QWidget()
        col = QVBoxLayout(left)
        col.setContentsMargins(4, 4, 4, 4)
        form = QFormLayout()
        self.tool_box = QComboBox()
        for t in self.tools:
            self.tool_box.addItem(t.title, t.name)
        self.picker = TargetPicker(self.doc, controller)
        form.addRow("Tool", self.tool_box)
        col.addLayout(form)
        col.addWidget(QLabel("Analyse"))
        col.addWidget(self.picker)
        self.summary = QLabel(wordWrap=True)
        self.summary.setStyleSheet("color: palette(placeholder-text);")
        col.addWidget(self.summary)
        self.options = QStackedWidget()
        for t in self.tools:
            self.options.addWidget(t.options)
        col.addWidget(self.options)
        self.run_row = RunRow()
        col.addWidget(self.run_row)
        col.addStretch(1)
        return self._with_status(left)

    def _with_status(self, controls: QWidget) -> QWidget:
        """``controls`` scrolled, at the panel's left width, with the status line under them."""
        scroll = QScrollArea()
        scroll.setWidget(controls)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        self._controls = controls
        scroll.viewport().installEventFilter(self)
        controls.installEventFilter(self)
        # The status line (where failures are told) sits under the scrolled controls, not inside them: a
        # scroll area sizes its widget without the wrapped label's height for its width, and cut it off.
        self.status = QLabel(wordWrap=True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status.setContentsMargins(4, 0, 4, 4)
        self.status.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Minimum)
        column = QWidget()
        column.setFixedWidth(LEFT_WIDTH)
        outer = QVBoxLayout(column)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        outer.addWidget(scroll, 1)
        outer.addWidget(self.status)
        return column

    def _result_column(self) -> QWidget:
        """Right: the verdict over the tool's view, then when it was computed and the export buttons."""
        right = QWidget()
        rcol = QVBoxLayout(right)
        rcol.setContentsMargins(4, 4, 4, 4)
        self.verdict = QLabel(wordWrap=True)
        self.verdict.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.verdict.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        font = self.verdict.font()
        font.setBold(True)
        self.verdict.setFont(font)
        rcol.addWidget(self.verdict)
        self.stack = QStackedWidget()
        self.views = ViewShelf(self.tools, self.stack, self.nodeClicked.emit)   # each built when first shown
        rcol.addWidget(self.stack, 1)
        rcol.addStretch(0)   # takes the room only while the stack is hidden (no result yet)
        self.export_row = ExportRow()
        rcol.addWidget(self.export_row)
        return right

    # The rows' buttons under the names the window's tests and menus use.
    run_button = property(lambda self: self.run_row.run_button)
    cancel_button = property(lambda self: self.run_row.cancel_button)
    png_button = property(lambda self: self.export_row.png_button)
    csv_button = property(lambda self: self.export_row.csv_button)

    def eventFilter(self, watched, event) -> bool:
        # A scroll area gives its widget the height of its size hint, which counts a wrapped label (the
        # tool's summary) as one line: the buttons below were cut off with no scroll bar. The height the
        # column needs at its real width is its minimum instead.
        if event.type() in (QEvent.Type.Resize, QEvent.Type.LayoutRequest) and watched in (
                self._controls, self._controls.parentWidget()):
            need = self._controls.layout().heightForWidth(self._controls.parentWidget().width())
            if need > 0 and need != self._controls.minimumHeight():
                self._controls.setMinimumHeight(need)
        return super().eventFilter(watched, event)

    # -- the current tool and target ------------------------------------------------------------------
    @property
    def tool(self) -> Tool:
        return self.tools[max(0, self.tool_box.currentIndex())]

    @property
    def view(self):
        return self.views[self.tool.name]

    def select_tool(self, name: str) -> None:
        i = self.tool_box.findData(name)
        if i >= 0:
            self.tool_box.setCurrentIndex(i)

    def _tool_changed(self, *_) -> None:
        t = self.tool
        self.picker.set_graph_allowed(not t.needs_weights)   # the current graph only for tools that can use it
        self.options.setCurrentWidget(t.options)
        for other in self.tools:   # the stack is as tall as the shown tool's options, not the tallest
            policy = QSizePolicy.Policy.Preferred if other is t else QSizePolicy.Policy.Ignored
            other.options.setSizePolicy(policy, policy)
        self.options.updateGeometry()
        self.stack.setCurrentWidget(self.views[t.name])
        self.summary.setText(t.summary)
        self.export_row.set_tool(t.title)
        self._show_saved()

    def _target_changed(self) -> None:
        target = self.picker.current()
        for t in self.tools:
            t.target_changed(target)
        doc_results = self._doc_results()
        key = self.picker.key()
        if doc_results.path is not None and key and key != GRAPH_KEY and doc_results.selected != key:
            doc_results.selected = key
            self._save(doc_results)
        self._show_saved()

    def _results_of(self, target) -> Results:
        if target.key not in self._results:
            try:
                self._results[target.key] = load_results(target.results_path)
            except UntrustedInputError as e:
                self._say(f"saved results could not be read ({e}); new results will replace them")
                self._results[target.key] = Results(target.results_path)
        return self._results[target.key]

    def _doc_results(self) -> Results:
        path = getattr(self.doc, "path", None)
        from explorer.runs.project import runs_folder_for

        return self._results_of(_Key(GRAPH_KEY, runs_folder_for(path) / GRAPH_RESULTS if path else None))

    def _show_saved(self) -> None:
        target = self.picker.current()
        view, t = self.view, self.tool
        result = self._results_of(target).by_tool.get(t.name) if target is not None else None
        self.stack.setVisible(result is not None)   # empty axes say nothing; the verdict line says what to do
        if result is None:
            view.clear()
            where = target.label if target is not None else "a run"
            if target is None:
                self.verdict.setText(f"{t.title} needs a trained run: train one first (Train, or Plain vs residual "
                                     "in the Training panel), or choose a run folder.")
            elif t.needs_weights and target.folder is None:
                self.verdict.setText(f"{t.title} needs a trained run: {target.no_weights}.")
            elif self._running is not None and self._running[:2] == (t.name, target.key if target else None):
                self.verdict.setText(f"{t.title} is running on {where}…")
            else:
                self.verdict.setText(f"{t.title} has not run on {where} yet: press Run.")
            self.export_row.set_result(None)
            return
        try:
            view.show_result(result)
            self.verdict.setText(str(result.get("verdict", "")))
        except (UntrustedInputError, ValueError) as e:
            view.clear()
            self.stack.hide()
            self.verdict.setText(f"the saved {t.title.lower()} result could not be shown ({e}); run it again")
            self.export_row.set_result(None)
            return
        when = result.get("computed")
        self.export_row.set_result(f"{target.label}, computed {time.strftime('%Y-%m-%d %H:%M', time.localtime(when))}"
                                   if isinstance(when, (int, float)) else target.label)
        # Lay the view out now (plots shown or hidden by this result), so whoever hears resultShown finds
        # the plots where they will be drawn.
        QCoreApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
        self.resultShown.emit(t.name)

    # -- running --------------------------------------------------------------------------------------
    def run(self) -> None:
        if self.runner.is_busy():
            return
        target, t = self.picker.current(), self.tool
        if target is None:
            self._say("train a run first (Train in the Training panel), then pick it here, or choose a run folder")
            return
        try:
            job = t.job(target.snapshot())   # the worker never reads the document
        except (ToolError, ValueError) as e:
            self._say(str(e))
            return
        self._running = (t.name, target.key, self._results_of(target))
        self._say(f"{t.title} on {target.label}…")
        if t.name not in self._results_of(target).by_tool:
            self.verdict.setText(f"{t.title} is running on {target.label}…")
        self.runner.start(job)

    def cancel(self) -> None:
        self.runner.cancel()

    def _busy(self, busy: bool) -> None:
        self.run_row.set_busy(busy)
        self.tool_box.setEnabled(not busy)
        self.picker.setEnabled(not busy)

    def _finished(self, result: dict) -> None:
        if self._running is None:
            return
        name, key, results = self._running
        self._running = None
        result = dict(result, computed=time.time())
        results.by_tool[name] = result
        saved = self._save(results)
        self._say(f"done; saved to {results.path}" if saved and results.path else
                  "done (save the document to keep these results)" if results.path is None else "")
        if name == self.tool.name and key == getattr(self.picker.current(), "key", None):
            self._show_saved()

    def _failed(self, text: str) -> None:
        self._running = None
        self._say(f"error: {text}")
        self._show_saved()   # the header no longer says it is running

    def _cancelled(self) -> None:
        self._running = None
        self._say("cancelled; the network and its weights are as they were")
        self._show_saved()

    def _save(self, results: Results) -> bool:
        try:
            results.save()
            return True
        except OSError as e:
            self._say(f"could not save the results to {results.path} ({e.strerror or e}); check the folder is "
                      "writable")
            return False

    def _say(self, text: str) -> None:
        self.status.setText(text)
        if text:
            self.message.emit(text)

    # -- the document ---------------------------------------------------------------------------------
    def document_opened(self) -> None:
        """Another document (or the same reopened): its remembered run folders and saved results."""
        self._results.clear()
        doc_results = self._doc_results()
        self.picker.rebuild(doc_results.run_folders, doc_results.selected or "")

    def _document_saved(self, _path) -> None:
        """Saved under a (new) name: results of the graph computed before go to the new runs folder."""
        old = self._results.pop(GRAPH_KEY, None)
        new = self._doc_results()
        if old is not None and old.path != new.path:
            new.by_tool = {**old.by_tool, **new.by_tool}
            new.run_folders = list(dict.fromkeys([*old.run_folders, *new.run_folders]))
            self._save(new)
        self.picker.refresh_graph_label()

    def _folder_added(self, folder: str) -> None:
        doc_results = self._doc_results()
        doc_results.run_folders = [folder, *[f for f in doc_results.run_folders if f != folder]]
        self._save(doc_results)

    def highlight(self, node_id: str) -> None:
        self.views.highlight(node_id)

    # -- export ---------------------------------------------------------------------------------------
    def _default_name(self, suffix: str) -> str:
        target = self.picker.current()
        stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", target.label if target else "").strip("_")
        return f"{self.tool.name}_{stem}{suffix}"

    def _export_png(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, f"Save the {self.tool.title.lower()} picture",
                                              self._default_name(".png"), "PNG image (*.png)")
        if path:
            self._try_export(lambda: f"saved the picture to {export_png(self._picture(), path)}")

    def _export_csv(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, f"Save the {self.tool.title.lower()} data",
                                              self._default_name(".csv"), "CSV (*.csv)")
        if path:
            self._try_export(lambda: f"saved {export_csv(*self.view.table(), path)} rows to {path}")

    def _picture(self) -> QWidget:
        return self.stack.parentWidget()   # the verdict line and the plots

    def _try_export(self, fn) -> None:
        try:
            self._say(fn())
        except ExportError as e:
            self._say(f"error: {e}")

    def shutdown(self) -> None:
        self.runner.shutdown()


class _Key:
    """The document's own results file, addressed like a target."""

    def __init__(self, key: str, results_path):
        self.key, self.results_path = key, results_path
