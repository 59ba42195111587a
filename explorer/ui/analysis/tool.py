"""What every analysis tool provides to the panel: its options, its job and its view.

A tool is one small class in one module (``tools.TOOLS`` lists them): the panel knows nothing about
any particular tool. A tool fills in three things and the base does the rest:
- ``fields``: its options as a table (``spin``, ``check``, ``choice``, ``TWIN``); the base builds the form, keeps
  each widget as the attribute of its name and offers the plain twin's run when the target has one;
- ``compute(target, control, **options)``: the work, run by the worker with the values the base read from the
  widgets in the GUI thread (plain values and paths only); it returns a JSON-ready dict with a ``verdict``
  line computed by the core;
- ``view``: the ToolView class that draws such a dict, whether fresh or read back from a results file,
  reading every field through ``results_file``'s checks.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QLineEdit, QSpinBox, QVBoxLayout,
                               QWidget)

from explorer.ui.analysis.targets import Target
from explorer.ui.analysis.worker import Job
from explorer.ui.form_fields import value


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


# -- options as a table ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Option:
    """One option: the tool attribute (and ``compute`` keyword) its widget goes by, its row label in the
    form ("" for a check box, which names itself), and how the widget is made (when the tool is)."""
    name: str
    label: str
    make: Callable[[], QWidget]


def spin(name: str, label: str, lo: float, hi: float, default: float, help: str, step: float = 1,
         decimals: int | None = None) -> Option:
    """A number box (decimals: a fractional one)."""
    def make() -> QWidget:
        box = QSpinBox() if decimals is None else QDoubleSpinBox(decimals=decimals)
        box.setRange(lo, hi)
        box.setSingleStep(step)
        box.setValue(default)
        box.setToolTip(help)
        return box
    return Option(name, label, make)


def check(name: str, text: str, help: str = "", on: bool = False) -> Option:
    def make() -> QWidget:
        box = QCheckBox(text)
        box.setChecked(on)
        box.setToolTip(help)
        return box
    return Option(name, "", make)


def line(name: str, label: str, default: str, help: str) -> Option:
    """A line of text."""
    def make() -> QWidget:
        box = QLineEdit(default)
        box.setToolTip(help)
        return box
    return Option(name, label, make)


def choice(name: str, label: str, entries: tuple[tuple[str, str], ...], help: str) -> Option:
    """A list of (value, text) entries; the value is what ``compute`` gets."""
    def make() -> QWidget:
        box = QComboBox()
        for key, text in entries:
            box.addItem(text, key)
        box.setToolTip(help)
        return box
    return Option(name, label, make)


# "Also the plain twin's run": enabled and ticked where the target has one; ``compute`` gets its folder or None.
TWIN = check("twin", "Also the plain twin's run")


def offer_twin(box: QCheckBox, target: Target | None) -> None:
    """Enable (and tick) "the plain twin's run" when the target has one: a Plain vs residual pair trained in
    the window, or a folder ``compare --out`` wrote."""
    twin = target.twin_folder() if target is not None else None
    box.setEnabled(twin is not None)
    box.setChecked(twin is not None)
    box.setToolTip(f"The plain twin's run: {twin}" if twin else
                   "This run has no plain twin's run: train both with Plain vs residual (Training panel), then "
                   "pick either run")


def twin_of(box: QCheckBox, target: Target):
    """The plain twin's run folder to analyse beside the target (None: unticked, or there is none)."""
    return target.twin_folder() if box.isEnabled() and box.isChecked() else None


class Tool:
    name = ""            # key in results files, stem of exported files
    title = ""           # in the tool list, the Analyze menu and export buttons
    summary = ""         # one line under the title: what it measures
    needs_weights = False
    fields: tuple[Option, ...] = ()
    view: type[ToolView] | None = None
    compute = None       # staticmethod(compute): compute(target, control, **options), in the worker

    def __init__(self):
        self.options = QWidget()
        self.form = QFormLayout(self.options)
        self.form.setContentsMargins(0, 0, 0, 0)
        self.build_options(self.form)

    def build_options(self, form: QFormLayout) -> None:
        """One row per entry of ``fields``, its widget kept as the tool's attribute of that name."""
        for option in self.fields:
            widget = option.make()
            setattr(self, option.name, widget)
            form.addRow(option.label, widget)
        self.target_changed(None)

    def target_changed(self, target: Target | None) -> None:
        """The panel's target changed: offer the plain twin's run when there is one."""
        if TWIN in self.fields:
            offer_twin(self.twin, target)

    def arguments(self, target: Target) -> dict:
        """The options' values for ``compute``, read here in the GUI thread (TWIN: the twin's folder or None)."""
        values = {o.name: value(getattr(self, o.name)) for o in self.fields}
        if TWIN in self.fields:
            values["twin"] = twin_of(self.twin, target)
        return values

    def job(self, target: Target) -> Job:
        self.check_target(target)
        compute, kwargs = type(self).compute, self.arguments(target)
        return lambda control: compute(target, control, **kwargs)

    def make_view(self) -> ToolView:
        return self.view()

    def check_target(self, target: Target) -> None:
        if self.needs_weights and target.folder is None:
            raise ToolError(f"{self.title} needs a trained run: {target.no_weights}")
