"""What every analysis tool provides to the panel: its options, its job and its view.

A tool is one small class in one module (``tools.TOOLS`` lists them): the panel knows nothing about
any particular tool. ``job(target)`` runs in the GUI thread, reads the option widgets and returns a
plain callable for the worker (copies and paths only); that callable returns a JSON-ready dict with a
``verdict`` line computed by the core. The view draws such a dict, whether fresh or read back from a
results file, reading every field through ``results_file``'s checks.
"""
from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFormLayout, QVBoxLayout, QWidget

from explorer.ui.analysis.targets import Target
from explorer.ui.analysis.worker import Job


class ToolError(ValueError):
    """The tool cannot run on this target as set; the message says what to choose instead."""


class ToolView(QWidget):
    """A tool's plots. ``nodeClicked`` asks the canvas to select a node (lesion bars, anatomy bars)."""

    nodeClicked = Signal(str)

    def fill(self, widget: QWidget) -> None:
        """Make ``widget`` (the tool's plots) the whole view."""
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(widget)

    def show_result(self, result: dict) -> None:
        """Draw ``result``; raises UntrustedInputError (from ``results_file``) for a malformed one."""
        raise NotImplementedError

    def clear(self) -> None:
        raise NotImplementedError

    def table(self) -> tuple[list[str], list[list]]:
        """The data the plots draw, as a CSV header and rows."""
        raise NotImplementedError

    def highlight(self, node_id: str) -> None:
        """The canvas selected ``node_id`` ("" for none); views with per-node marks show it."""


class Tool:
    name = ""            # key in results files, stem of exported files
    title = ""           # in the tool list, the Analyze menu and export buttons
    summary = ""         # one line under the title: what it measures
    needs_weights = False

    def __init__(self):
        self.options = QWidget()
        self.form = QFormLayout(self.options)
        self.form.setContentsMargins(0, 0, 0, 0)
        self.build_options(self.form)

    def build_options(self, form: QFormLayout) -> None:
        """Add the tool's option widgets (none by default)."""

    def target_changed(self, target: Target | None) -> None:
        """The panel's target changed (a tool may offer the plain twin's run when there is one)."""

    def job(self, target: Target) -> Job:
        raise NotImplementedError

    def make_view(self) -> ToolView:
        raise NotImplementedError

    def check_target(self, target: Target) -> None:
        if self.needs_weights and target.folder is None:
            raise ToolError(f"{self.title} needs a trained run: {target.no_weights}")
