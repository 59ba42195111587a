"""The inspector: typed editors for the selected node's parameters, with ranges and help text.

An edit becomes a ``SetParam`` (or ``SetRepeat``) undo command; the model's event comes back and the
editors follow it with their signals blocked, skipping values they already show, so nothing loops.
Below the editors: the node's shapes, cost and problems from the live analysis.
"""
from __future__ import annotations

from html import escape

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QFrame, QHBoxLayout, QLabel, QLineEdit,
                               QScrollArea, QSizePolicy, QSpinBox, QToolButton, QVBoxLayout, QWidget)

from explorer.blocks.registry import UnknownBlockError, get_block
from explorer.graph import Edge, Graph, GraphError, fmt_shape
from explorer.graph.model import MAX_REPEAT
from explorer.graph.params import Param
from explorer.network.memory import DEFAULT_BATCH_SIZE, check_fits, machine_bytes
from explorer.ui import commands
from explorer.ui.canvas.node_item import human

INT_LIMIT = 2_000_000_000


def _small(text: str, color: str = "") -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setTextFormat(Qt.PlainText)
    f = label.font()
    f.setPointSizeF(max(7.0, f.pointSizeF() * 0.88))
    label.setFont(f)
    label.setStyleSheet(f"color: {color};" if color else "color: palette(placeholder-text);")
    return label


class ParamEditor:
    """One parameter's editor widget; ``edited`` is called with the new value."""

    def __init__(self, param: Param, edited):
        self.param = param
        self.edited = edited
        k = param.kind
        if k == "int":
            w = QSpinBox()
            w.setRange(int(param.minimum if param.minimum is not None else -INT_LIMIT),
                       int(param.maximum if param.maximum is not None else INT_LIMIT))
            w.setKeyboardTracking(False)  # one edit when typing "128", not "1", "12", "128"
            w.valueChanged.connect(lambda v: self.edited(int(v)))
        elif k == "float":
            w = QDoubleSpinBox()
            w.setDecimals(4)
            w.setRange(param.minimum if param.minimum is not None else -1e9,
                       param.maximum if param.maximum is not None else 1e9)
            span = (param.maximum or 1.0) - (param.minimum or 0.0)
            w.setSingleStep(0.05 if span <= 1.0 else 0.1)
            w.setKeyboardTracking(False)
            w.valueChanged.connect(lambda v: self.edited(float(v)))
        elif k == "bool":
            w = QCheckBox()
            w.toggled.connect(lambda v: self.edited(bool(v)))
        elif k == "choice":
            w = QComboBox()
            w.addItems(list(param.choices))
            w.currentTextChanged.connect(lambda v: self.edited(v))
        else:  # shape: "3,32,32"
            w = QLineEdit()
            w.setPlaceholderText("C,H,W e.g. 3,32,32")
            w.editingFinished.connect(self._shape_done)
        w.setToolTip(param.help)
        w.setObjectName(f"param_{param.name}")
        self.widget = w

    def _shape_done(self) -> None:
        text = self.widget.text().replace("×", ",").replace("x", ",")
        try:
            value = [int(t) for t in text.split(",") if t.strip()]
        except ValueError:
            self.widget.setStyleSheet("color: #d93025;")
            return
        self.widget.setStyleSheet("")
        self.edited(value)

    def show(self, value) -> None:
        """Display ``value`` without firing an edit; a value outside the declared range is shown as is
        (validation reports it) rather than silently clamped."""
        w, k = self.widget, self.param.kind
        w.blockSignals(True)
        try:
            if k in ("int", "float"):
                if value < w.minimum():
                    w.setMinimum(value)
                if value > w.maximum():
                    w.setMaximum(value)
                if w.value() != value:
                    w.setValue(value)
            elif k == "bool":
                w.setChecked(bool(value))
            elif k == "choice":
                w.setCurrentText(str(value))
            else:
                text = ",".join(str(v) for v in value)
                if w.text() != text:
                    w.setText(text)
        finally:
            w.blockSignals(False)


class Inspector(QScrollArea):
    committed = Signal()   # Enter in a field: the edit is made, the window hands the keys back to the canvas

    def __init__(self, graph: Graph, stack, analysis, actions=(), parent=None):
        super().__init__(parent)
        self.graph, self.stack, self.analysis = graph, stack, analysis
        self.actions_for_composite = list(actions)
        self.node_id = ""
        self.edge: Edge | None = None   # shown when no node is selected and a connection is
        self.editors: dict[str, ParamEditor] = {}
        self.repeat_editor: QSpinBox | None = None
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)  # text wraps; nothing to scroll to
        self._body = QWidget()
        self.setWidget(self._body)
        self._layout = QVBoxLayout(self._body)
        self._layout.setAlignment(Qt.AlignTop)
        self.title = QLabel()
        f = self.title.font()
        f.setPointSizeF(f.pointSizeF() * 1.2)
        f.setBold(True)
        self.title.setFont(f)
        self.subtitle = _small("")
        self.help = _small("")
        self.form_host = QWidget()
        # A plain column of rows, not a QFormLayout: wrapped help text under a field gets its real
        # height here, where a form layout lets the next row draw over it.
        self.form = QVBoxLayout(self.form_host)
        self.form.setContentsMargins(0, 6, 0, 6)
        self.form.setSpacing(2)
        self.shapes = QLabel()
        self.shapes.setWordWrap(True)
        self.shapes.setTextFormat(Qt.RichText)
        self.error = _small("", "#d93025")
        self.buttons = QVBoxLayout()  # stacked: three buttons side by side would widen the dock
        for w in (self.title, self.subtitle, self.help, self.form_host, self.shapes, self.error):
            self._layout.addWidget(w)
        self._layout.addLayout(self.buttons)
        self._layout.addStretch(1)
        self._buttons: list[QToolButton] = []
        self.node_actions: list = []   # callables (node_id, parent) -> QAction | None: other panels' toggles
        graph.subscribe(self._on_event)
        analysis.updated.connect(self._show_analysis)
        self.show_node("")

    def detach(self) -> None:
        self.graph.unsubscribe(self._on_event)

    # -- which node -----------------------------------------------------------------------------
    def show_node(self, node_id: str) -> None:
        self.node_id = node_id if node_id in self.graph else ""
        self.edge = None
        self._rebuild()

    def follow_edges(self, scene) -> None:
        """Show the connection selected on ``scene`` while no node is (nodes come through ``show_node``)."""
        scene.selectionChanged.connect(self._scene_selection)

    def _scene_selection(self) -> None:
        scene = self.sender()
        # A scene being destroyed clears its selection as a bare QGraphicsScene: nothing to show then.
        if not hasattr(scene, "selected_node_ids") or scene.selected_node_ids():
            return
            return
        edges = [e for e in (getattr(i, "edge", None) for i in scene.selectedItems()) if isinstance(e, Edge)]
        if edges:
            self.show_edge(edges[0])
        elif self.edge is not None:
            self.show_node("")

    def show_edge(self, edge: Edge) -> None:
        """A connection: where it goes from and to, and the tensor it carries (from the live analysis)."""
        if edge.src not in self.graph or edge.dst not in self.graph:
            self.show_node("")
            return
        self.node_id, self.edge = "", edge
        self._clear_form()
        self.error.setText("")
        self.title.setText("Connection")
        self.subtitle.setText(f"{edge.src} → {edge.dst}" + (f"   ·   input {edge.order + 1} of {edge.dst}"
                                                           if len(self.graph.inputs_of(edge.dst)) > 1 else ""))
        self.help.setText(f"From {self._block_title(edge.src)} to {self._block_title(edge.dst)}. Delete removes it.")
        self._show_edge_shape(self.analysis.result)

    def _block_title(self, node_id: str) -> str:
        node = self.graph.node(node_id)
        try:
            return f"{get_block(node.type).title} ({node_id})"
        except UnknownBlockError:
            return f"{node.type} ({node_id})"

    def _show_edge_shape(self, analysis) -> None:
        info = analysis.nodes.get(self.edge.src) if analysis is not None else None
        shape = fmt_shape(info.out_shape) if info is not None and info.out_shape is not None else "unknown (see Problems)"
        self.shapes.setText(f"<b>tensor</b> {escape(shape)}")

    def _add_row(self, title: str, editor: QWidget, help_text: str = "", tip: str = "") -> None:
        row = QWidget()
        lay = QHBoxLayout(row)
        lay.setContentsMargins(0, 4, 0, 0)
        label = QLabel(title)
        label.setToolTip(tip)
        label.setMinimumWidth(88)
        label.setBuddy(editor)
        if hasattr(editor, "editingFinished"):
            # Enter, not leaving the field (then the focus is already elsewhere): a text field keeps Ctrl+Z
            # for its own text, so after Enter the keys go back to the window, where Ctrl+Z undoes the edit.
            editor.editingFinished.connect(lambda e=editor: self._field_done(e))
        lay.addWidget(label)
        lay.addWidget(editor, 1)
        self.form.addWidget(row)
        if help_text:
            help_label = _small(help_text)
            help_label.setContentsMargins(92, 0, 0, 2)
            self.form.addWidget(help_label)

    def _field_done(self, editor: QWidget) -> None:
        if editor.hasFocus():
            self.committed.emit()

    def _clear_form(self) -> None:
        while self.form.count():
            w = self.form.takeAt(0).widget()
            if w is not None:
                w.hide()
                w.deleteLater()
        self.editors.clear()
        self.repeat_editor = None
        for b in self._buttons:
            b.hide()
            b.deleteLater()
        self._buttons.clear()

    def _rebuild(self) -> None:
        self._clear_form()
        self.error.setText("")
        if not self.node_id:
            self.title.setText("Nothing selected")
            self.subtitle.setText("")
            self.help.setText("Select a node on the canvas to edit its parameters. Drag blocks from the "
                              "palette; drag from an output port (right) to an input port (left) to connect.")
            self.shapes.setText("")
            return
        node = self.graph.node(self.node_id)
        try:
            block = get_block(node.type)
        except UnknownBlockError as e:
            self.title.setText(node.type)
            self.help.setText(str(e))
            return
        self.title.setText(block.title)
        self.subtitle.setText(f"id: {node.id}   ·   type: {node.type}")
        self.help.setText(block.help)
        for p in block.params:
            ed = ParamEditor(p, lambda v, name=p.name: self._edited(name, v))
            ed.show(node.params[p.name])
            rng = ""
            if p.kind in ("int", "float", "shape") and p.minimum is not None and p.maximum is not None:
                rng = f"  [{p.minimum:g} – {p.maximum:g}]"
            self._add_row(p.title, ed.widget, (p.help + rng) if p.help else "", p.help)
            self.editors[p.name] = ed
        if block.repeatable:
            spin = QSpinBox()
            spin.setRange(1, MAX_REPEAT)
            spin.setKeyboardTracking(False)
            spin.setValue(node.repeat)
            spin.setObjectName("param_repeat")
            spin.setToolTip("how many times the block repeats in a row: a stage (the first one carries the stride)")
            spin.valueChanged.connect(self._repeat_edited)
            self._add_row("Repeat", spin, "blocks in this stage; the first carries the stride", spin.toolTip())
            self.repeat_editor = spin
        if block.composite:
            for action in self.actions_for_composite:
                self._add_button(action)
        for entry in self.node_actions:   # e.g. Freeze for Training, from the training panel
            button = QToolButton()
            action = entry(self.node_id, button)   # goes with its button when another node is shown
            if action is not None:
                self._add_button(action, button)
            else:
                button.deleteLater()
        self._show_analysis(self.analysis.result)

    def _add_button(self, action, b: QToolButton | None = None) -> None:
        b = b or QToolButton()
        b.setDefaultAction(action)  # follows the action's enabled state, text and tick
        b.setToolButtonStyle(Qt.ToolButtonTextOnly)
        b.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Fixed)
        self.buttons.addWidget(b)
        self._buttons.append(b)

    # -- edits ----------------------------------------------------------------------------------
    def _edited(self, name: str, value) -> None:
        if not self.node_id or self.graph.node(self.node_id).params.get(name) == value:
            return  # nothing changed: no command, no event
        try:
            commands.execute(self.stack, commands.SetParam(self.graph, self.node_id, name, value))
            self.error.setText("")
        except (GraphError, ValueError) as e:
            self.error.setText(f"{e}")
            self.editors[name].show(self.graph.node(self.node_id).params[name])

    def _repeat_edited(self, value: int) -> None:
        if not self.node_id or self.graph.node(self.node_id).repeat == value:
            return
        try:
            commands.execute(self.stack, commands.SetRepeat(self.graph, self.node_id, int(value)))
        except (GraphError, ValueError) as e:
            self.error.setText(str(e))

    # -- model -> editors -----------------------------------------------------------------------
    def _on_event(self, ev) -> None:
        if self.edge is not None:
            if ev.kind == "reset" or (ev.kind == "edge_removed" and ev.edge == self.edge) or \
                    (ev.kind == "node_removed" and ev.node_id in (self.edge.src, self.edge.dst)):
                self.show_node("")
            return
        if not self.node_id:
            return
        if ev.kind == "reset" or (ev.kind == "node_removed" and ev.node_id == self.node_id):
            self.show_node(self.node_id)  # gone: shows "nothing selected"
        elif ev.node_id == self.node_id and ev.kind == "param_changed":
            ed = self.editors.get(ev.name)
            if ed is not None:
                ed.show(ev.new)
        elif ev.node_id == self.node_id and ev.kind == "repeat_changed" and self.repeat_editor is not None:
            if self.repeat_editor.value() != ev.new:
                self.repeat_editor.blockSignals(True)
                self.repeat_editor.setValue(ev.new)
                self.repeat_editor.blockSignals(False)

    def _show_analysis(self, analysis) -> None:
        if self.edge is not None:
            self._show_edge_shape(analysis)
            return
        if not self.node_id or analysis is None:
            return
        info = analysis.nodes.get(self.node_id)
        if info is None:
            return
        ins = ", ".join(fmt_shape(s) for s in info.in_shapes) or "—"
        lines = [f"<b>in</b> {ins} &nbsp;→&nbsp; <b>out</b> {fmt_shape(info.out_shape)}"]
        if info.out_shape is not None:
            lines.append(f"{human(info.cost.params)} parameters · {human(info.cost.macs)} MACs · "
                         f"{info.cost.weight_layers} weight layers")
        too_big = check_fits(analysis, DEFAULT_BATCH_SIZE, "sgd", machine_bytes()) if analysis.valid else None
        if too_big:  # the whole network's, shown with whichever node is selected
            lines.append(f"<span style='color:#e37400'>⚠ {escape(too_big)}</span>")
        for p in info.problems:
            color = "#d93025" if p.severity == "error" else "#e37400"
            lines.append(f"<span style='color:{color}'>⚠ {escape(p.message)}"
                         + (f"<br>&nbsp;&nbsp;→ {escape(p.fix)}" if p.fix else "")
                         + "</span>")
        self.shapes.setText("<br>".join(lines))
