"""The Edit and Arrange actions: undo/redo, delete, copy/paste/duplicate, select all, auto-layout, open a
block's inside, expand in place, split a stage, collapse a chain into a stage.

Each action reads the canvas selection and runs one undo command; a refusal from the model is shown
as a status message that says what to do.
"""
from __future__ import annotations

from PySide6.QtCore import QMimeData, QObject, Qt, Signal
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence
from PySide6.QtWidgets import QMenu

from explorer.blocks.registry import UnknownBlockError, get_block
from explorer.graph import GraphError
from explorer.graph.fileio import FileFormatError, dumps_graph, loads_graph
from explorer.graph.layout import ROW, TB_ACROSS, layered_layout, layered_positions, layers, suggest_wrap
from explorer.network.transforms import (collapse_to_stage, expand_all, expand_in_place, extract, prepare_paste,
                                       split_stage)
from explorer.ui import commands
from explorer.ui.canvas.node_item import MAX_NODE_H, NODE_W
from explorer.ui.canvas.scene import layers_fit
from explorer.ui.document import DEFAULT_PRESET
from explorer.ui.mime import GRAPH_MIME


def _action(parent, text, slot, shortcut=None, tip="", context=None) -> QAction:
    a = QAction(text, parent)
    if shortcut is not None:
        keys = shortcut if isinstance(shortcut, list) else [shortcut]
        a.setShortcuts([QKeySequence(k) for k in keys])
    if context is not None:
        a.setShortcutContext(context)
    if tip:
        a.setToolTip(tip)
        a.setStatusTip(tip)
    a.triggered.connect(slot)
    return a


class EditActions(QObject):
    message = Signal(str)
    openInside = Signal(str)  # node id: the window shows that block's inside

    def __init__(self, document, scene, view, parent=None):
        super().__init__(parent)
        self.doc, self.scene, self.view = document, scene, view
        stack = document.stack
        self.undo = stack.createUndoAction(self, "&Undo")
        self.undo.setShortcut(QKeySequence("Ctrl+Z"))
        self.redo = stack.createRedoAction(self, "&Redo")
        self.redo.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        # Canvas edits only fire while the canvas has focus: Delete in a text field deletes text.
        canvas = Qt.WidgetWithChildrenShortcut
        self.delete = _action(self, "&Delete", self.delete_selection, [QKeySequence.Delete, "Backspace"],
                              "delete the selected nodes and edges", canvas)
        self.copy = _action(self, "&Copy", self.copy_selection, QKeySequence.Copy, "copy the selected nodes", canvas)
        self.cut = _action(self, "Cu&t", self.cut_selection, QKeySequence.Cut, "cut the selected nodes", canvas)
        self.paste = _action(self, "&Paste", self.paste_clipboard, QKeySequence.Paste, "paste nodes", canvas)
        self.duplicate = _action(self, "D&uplicate", self.duplicate_selection, "Ctrl+D",
                                 "copy and paste the selection in one step", canvas)
        self.select_all = _action(self, "Select &All", self.select_everything, QKeySequence.SelectAll, "", canvas)
        self.layout_lr = _action(self, "Auto-layout &Left to Right", lambda: self.auto_layout("LR"), "Ctrl+L",
                                 "arrange in layers, flowing left to right; skips arc over the main path")
        self.layout_tb = _action(self, "Auto-layout &Top to Bottom", lambda: self.auto_layout("TB"), "Ctrl+Shift+L",
                                 "arrange in layers, flowing downwards")
        self.open_inside = _action(self, "&Open Inside…", self.open_inside_selected, "Ctrl+I",
                                   "show the primitives inside the selected block (read-only)")
        self.expand = _action(self, "&Expand in Place", self.expand_selected, "Ctrl+E",
                              "replace the selected block (every repetition of a stage) by its primitives")
        self.split = _action(self, "&Split Stage", self.split_selected, "Ctrl+Shift+E",
                             "turn a stage of N repetitions into N single blocks")
        self.collapse = _action(self, "&Collapse into Stage", self.collapse_selected, "Ctrl+G",
                                "turn a chain of identical blocks into one stage with a repeat count")
        self.expand_all = _action(self, "Expand &All Blocks", self.expand_everything, None,
                                  "replace every residual block by its primitives (a 1000-layer net has thousands)")
        for a in (self.delete, self.copy, self.cut, self.paste, self.duplicate, self.select_all):
            view.addAction(a)
        scene.selectionChanged.connect(self._update_enabled)  # edges count too, not just nodes
        document.stack.indexChanged.connect(self._update_enabled)  # a stage may have become a block
        view.contextMenuRequested.connect(self.show_context_menu)
        self._update_enabled()

    def detach(self) -> None:
        """Stop following the stack and selection (the window is closing; the scene may go first)."""
        for signal, slot in ((self.doc.stack.indexChanged, self._update_enabled),
                             (self.scene.selectionChanged, self._update_enabled)):
            try:
                signal.disconnect(slot)
            except (RuntimeError, TypeError):
                pass

    @property
    def graph(self):
        return self.doc.graph

    @property
    def direction(self) -> str:
        """The open document's layout direction: saved in its file, never carried into another one."""
        return self.graph.direction

    def _run(self, cmd) -> bool:
        try:
            commands.execute(self.doc.stack, cmd)
            return True
        except GraphError as e:
            self.message.emit(str(e))
            return False

    def _update_enabled(self, *_) -> None:
        ids = self.scene.selected_node_ids()
        one = ids[0] if len(ids) == 1 else None
        composite = False
        stage = False
        if one and one in self.graph:
            try:
                composite = get_block(self.graph.node(one).type).composite
            except UnknownBlockError:
                composite = False
            stage = self.graph.node(one).repeat > 1
        has = bool(ids) or bool(self.scene.selected_edges())
        for a in (self.delete, self.copy, self.cut, self.duplicate):
            a.setEnabled(has)
        self.open_inside.setEnabled(composite)
        self.expand.setEnabled(composite)
        self.split.setEnabled(stage)
        self.collapse.setEnabled(len(ids) >= 2)

    # -- delete, copy, paste --------------------------------------------------------------------
    def delete_selection(self) -> None:
        ids, edges = self.scene.selected_node_ids(), self.scene.selected_edges()
        if ids or edges:
            self._run(commands.RemoveItems(self.graph, ids, edges))

    def copy_selection(self) -> bool:
        ids = self.scene.selected_node_ids()
        if not ids:
            return False
        sub = extract(self.graph, ids)
        data = QMimeData()
        text = dumps_graph(sub)
        data.setData(GRAPH_MIME, text.encode("utf-8"))
        data.setText(text)
        QGuiApplication.clipboard().setMimeData(data)
        _clear_clipboard_at_exit()
        self.message.emit(f"copied {len(ids)} node{'s' * (len(ids) != 1)}")
        return True

    def cut_selection(self) -> None:
        if self.copy_selection():
            ids = self.scene.selected_node_ids()
            cmd = commands.RemoveItems(self.graph, ids, self.scene.selected_edges())
            cmd.setText(f"Cut {len(ids)} node{'s' * (len(ids) != 1)}")
            self._run(cmd)

    def paste_clipboard(self) -> None:
        data = QGuiApplication.clipboard().mimeData()
        raw = bytes(data.data(GRAPH_MIME)) if data is not None and data.hasFormat(GRAPH_MIME) else None
        if raw is None and data is not None and data.hasText() and '"residual-explorer-graph"' in data.text():
            raw = data.text().encode("utf-8")
        if raw is None:
            self.message.emit("nothing to paste: copy nodes first (Ctrl+C)")
            return
        try:
            sub = loads_graph(raw, source="clipboard")
        except FileFormatError as e:
            self.message.emit(str(e))
            return
        self._add_copy(sub, "Paste")

    def duplicate_selection(self) -> None:
        ids = self.scene.selected_node_ids()
        if ids:
            self._add_copy(extract(self.graph, ids), "Duplicate")

    def _add_copy(self, sub, text) -> None:
        nodes, edges = prepare_paste(self.graph, sub, clear_offset(self.graph, sub, self.direction))
        if self._run(commands.AddSubgraph(self.graph, nodes, edges, f"{text} {len(nodes)} nodes")):
            self.scene.select_nodes([n.id for n in nodes])
            first = self.scene.nodes.get(nodes[0].id) if nodes else None
            if first is not None:
                self.view.ensureVisible(first, 40, 40)

    def select_everything(self) -> None:
        self.scene.select_nodes(list(self.scene.nodes))

    # -- arrange --------------------------------------------------------------------------------
    def aspect(self) -> float:
        vp = self.view.viewport()
        return max(0.3, min(4.0, vp.width() / max(1, vp.height()))) if vp.width() > 50 else 1.35

    def layout_hint(self, direction: str = "LR") -> tuple[str, float]:
        """(direction, aspect) for laying out a document about to open (a preset): a new document
        starts left to right, whatever the one before it used."""
        return direction, (self.aspect() if direction == "LR" else 1.0 / self.aspect())

    def auto_layout(self, direction: str | None = None) -> None:
        """Layered layout, wrapped into bands to fill the view (Ctrl+L again after resizing); choosing
        a direction makes it the document's (one undo step with the moves)."""
        direction = direction or self.direction
        _, aspect = self.layout_hint(direction)
        pos = layered_positions(self.graph, direction, suggest_wrap(self.graph, aspect, fits=self.view_layers(direction)))
        moves = {nid: (self.graph.node(nid).pos, p) for nid, p in pos.items() if self.graph.node(nid).pos != p}
        steps = [commands.SetDirection(self.graph, direction)] if direction != self.direction else []
        if moves:
            steps.append(commands.MoveNodes(self.graph, moves, "Auto-layout"))
        self._run_steps("Auto-layout", steps)
        self.view.fit()

    def arrange_startup(self) -> None:
        """The window's own startup network, untouched (no file, no edits), laid out again once the view
        has its real size: in as few bands as keep each node's parameter line at fitted zoom, one row
        where the window is wide enough. Not an edit: nothing to undo or save."""
        if self.doc.path is not None or self.doc.stack.count() or self.graph.name != DEFAULT_PRESET:
            return
        direction, aspect = self.layout_hint(self.direction)
        layered_layout(self.graph, direction, suggest_wrap(self.graph, aspect, fits=self.view_layers(direction)))

    def view_layers(self, direction: str) -> int:
        """How many layers fit across the view while node text stays readable."""
        vp = self.view.viewport()
        length = vp.width() if direction == "LR" else vp.height()
        return layers_fit(length if length > 50 else 1000, direction)

    def _run_steps(self, text: str, steps: list) -> None:
        if len(steps) == 1:
            self._run(steps[0])
        elif steps:
            self.doc.stack.beginMacro(text)
            try:
                for step in steps:
                    self._run(step)
            finally:
                self.doc.stack.endMacro()

    # -- composite blocks -----------------------------------------------------------------------
    def _one_selected(self) -> str | None:
        ids = self.scene.selected_node_ids()
        if len(ids) != 1:
            self.message.emit("select one block first")
            return None
        return ids[0]

    def open_inside_selected(self) -> None:
        nid = self._one_selected()
        if nid:
            self.openInside.emit(nid)

    def _restructure(self, text, fn) -> commands.Restructure | None:
        cmd = commands.Restructure(self.graph, text, fn, self.scene)
        return cmd if self._run(cmd) else None

    def expand_selected(self) -> None:
        nid = self._one_selected()
        if nid and self._restructure(f"Open {nid} in place", lambda g: self._expand_and_fit(g, nid)):
            self.message.emit(f"expanded {nid} into primitives (Ctrl+Z puts the block back)")
            self.view.fit()

    def _expand_and_fit(self, graph, node_id: str) -> list[str]:
        """Expand in place; when the primitives make the network longer than the view shows readably
        (a stage, a dense block), lay it all out again in bands that fit (the same undo step)."""
        made = expand_in_place(graph, node_id)
        fits = self.view_layers(self.direction)
        if max(layers(graph).values(), default=0) + 1 > fits:
            _, aspect = self.layout_hint(self.direction)
            layered_layout(graph, self.direction, suggest_wrap(graph, aspect, fits=fits))
        return made

    def split_selected(self) -> None:
        nid = self._one_selected()
        if nid and self._restructure(f"Split {nid} into blocks", lambda g: split_stage(g, nid)):
            self.message.emit(f"split {nid} into single blocks")

    def collapse_selected(self) -> None:
        ids = self.scene.selected_node_ids()
        cmd = self._restructure(lambda stage: f"Collapse {len(ids)} blocks into {stage}",
                                lambda g: collapse_to_stage(g, ids))
        if cmd:
            self.message.emit(f"collapsed {len(ids)} blocks into stage {cmd.result}")

    def expand_everything(self) -> None:
        def fn(g):
            work = g.copy()
            n = expand_all(work, layout=None)
            direction, aspect = self.layout_hint(self.direction)
            layered_layout(work, direction, suggest_wrap(work, aspect, fits=self.view_layers(direction)))
            g.replace_with(work)  # one reset instead of thousands of events
            return n

        cmd = commands.ReplaceGraph(self.graph, "Expand all blocks", fn)
        if self._run(cmd):
            self.message.emit(f"expanded {cmd.result} blocks into primitives")
            self.view.fit_or_start()

    # -- context menu ---------------------------------------------------------------------------
    def show_context_menu(self, global_pos, node_id: str) -> None:
        menu = QMenu(self.view)
        if node_id:
            for a in (self.open_inside, self.expand, self.split, self.collapse):
                if a.isEnabled():
                    menu.addAction(a)
            for a in self.scene.node_menu_actions(node_id, menu):   # e.g. the training panel's Freeze
                menu.addAction(a)
            menu.addSeparator()
            for a in (self.cut, self.copy, self.duplicate, self.delete):
                menu.addAction(a)
        else:
            for a in (self.paste, self.select_all):
                menu.addAction(a)
            menu.addSeparator()
            menu.addAction(self.layout_lr)
            menu.addAction(self.layout_tb)
        menu.exec(global_pos)


PASTE_GAP = 20.0  # between a pasted node and any other


def clear_offset(graph, sub, direction: str = "LR") -> tuple[float, float]:
    """How far to move copies of ``sub``'s nodes (at their originals' positions) so that none of them
    overlaps a node of ``graph``: the nearest free place across the flow (below, for left to right;
    to the right, top to bottom), whole rows at a time; in place when that is free (after a cut)."""
    w, h = NODE_W + PASTE_GAP, MAX_NODE_H + PASTE_GAP
    buckets: dict[tuple[int, int], list[tuple[float, float]]] = {}
    for n in graph.nodes.values():
        buckets.setdefault((int(n.pos[0] // w), int(n.pos[1] // h)), []).append(n.pos)

    def free(dx: float, dy: float) -> bool:
        for c in sub.nodes.values():
            x, y = c.pos[0] + dx, c.pos[1] + dy
            cx, cy = int(x // w), int(y // h)
            for i in (cx - 1, cx, cx + 1):
                for j in (cy - 1, cy, cy + 1):
                    if any(abs(px - x) < w and abs(py - y) < h for px, py in buckets.get((i, j), ())):
                        return False
        return True

    axis = 1 if direction == "LR" else 0
    step = ROW if axis else ROW * TB_ACROSS
    if not len(sub):
        return 0.0, 0.0
    # past the furthest node there is room, so the search ends
    last = int((max((n.pos[axis] for n in graph.nodes.values()), default=0.0)
                - min(n.pos[axis] for n in sub.nodes.values()) + h + w) // step) + 2
    for k in range(max(1, last)):
        d = (0.0, step * k) if axis else (step * k, 0.0)
        if k == last - 1 or free(*d):
            return d
    return 0.0, 0.0


_exit_hook = False


def _clear_clipboard_at_exit() -> None:
    """Qt crashes at interpreter exit while the clipboard still holds data we put there (PySide 6.12,
    seen off-screen); taking our own data back at exit avoids it. Someone else's clipboard is left alone."""
    global _exit_hook
    if _exit_hook:
        return
    _exit_hook = True
    import atexit

    def clear():
        if QGuiApplication.instance() is None:
            return
        board = QGuiApplication.clipboard()
        data = board.mimeData() if board is not None else None
        if data is not None and data.hasFormat(GRAPH_MIME):
            board.clear()

    atexit.register(clear)
