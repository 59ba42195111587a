"""Undo commands: every edit a person makes, each a few lines calling the graph model.

``execute(stack, command)`` runs the command once *before* it goes on the stack, so an edit the model
refuses (a cycle, a taken port) raises ``GraphError`` to the gesture that asked for it and never lands
on the undo stack. Qt then calls ``redo`` on push; the first such call is skipped because the work is
already done.
"""
from __future__ import annotations

from typing import Callable, Protocol

from PySide6.QtGui import QUndoCommand, QUndoStack

from explorer.blocks.registry import get_block
from explorer.graph import Edge, Graph
from explorer.graph.edit_log import EditLog
from explorer.graph.model import Node


def execute(stack: QUndoStack, command: "GraphCommand") -> None:
    command.apply()  # may raise GraphError; nothing is pushed then
    command.done = True
    stack.push(command)


class GraphCommand(QUndoCommand):
    def __init__(self, graph: Graph, text: str):
        super().__init__(text)
        self.graph = graph
        self.done = False

    def apply(self) -> None:
        raise NotImplementedError

    def redo(self) -> None:
        if self.done:  # executed by ``execute`` just before the push
            self.done = False
            return
        self.apply()


class AddNode(GraphCommand):
    def __init__(self, graph: Graph, type_name: str, pos, params: dict | None = None):
        super().__init__(graph, f"Add {get_block(type_name).title}")
        self.type_name, self.pos, self.params = type_name, pos, params
        self.node_id: str | None = None  # fixed by the first run, so redo recreates the same id

    def apply(self):
        self.node_id = self.graph.add_node(self.type_name, self.params, node_id=self.node_id, pos=self.pos)

    def undo(self):
        self.graph.remove_node(self.node_id)


def _restore(graph: Graph, nodes: list[Node], edges: list[Edge]) -> None:
    _restore_into(graph, nodes, edges, [])


class RemoveItems(GraphCommand):
    """Delete nodes (with their edges) and single edges in one step."""

    def __init__(self, graph: Graph, node_ids, edges=()):
        n, m = len(node_ids), len(edges)
        what = f"{n} node{'s' * (n != 1)}" if n else f"{m} edge{'s' * (m != 1)}"
        super().__init__(graph, f"Delete {what}")
        self.node_ids = list(node_ids)
        self.loose_edges = [(e.src, e.dst) for e in edges if e.src not in node_ids and e.dst not in node_ids]
        self.removed_nodes: list[Node] = []
        self.removed_edges: list[Edge] = []

    def apply(self):
        self.removed_nodes, self.removed_edges = [], []
        for src, dst in self.loose_edges:
            self.removed_edges.append(self.graph.disconnect(src, dst))
        for nid in self.node_ids:
            node, edges = self.graph.remove_node(nid)
            self.removed_nodes.append(node)
            self.removed_edges.extend(edges)

    def undo(self):
        _restore(self.graph, self.removed_nodes, self.removed_edges)


class Connect(GraphCommand):
    def __init__(self, graph: Graph, src: str, dst: str):
        super().__init__(graph, f"Connect {src} → {dst}")
        self.src, self.dst = src, dst

    def apply(self):
        self.graph.connect(self.src, self.dst)

    def undo(self):
        self.graph.disconnect(self.src, self.dst)


class SetParam(GraphCommand):
    MERGE_ID = 4101

    def __init__(self, graph: Graph, node_id: str, name: str, value):
        super().__init__(graph, f"Set {node_id}.{name}")
        self.node_id, self.name, self.value = node_id, name, value
        self.old = graph.node(node_id).params[name]

    def apply(self):
        self.graph.set_param(self.node_id, self.name, self.value)

    def undo(self):
        self.graph.set_param(self.node_id, self.name, self.old)

    def id(self) -> int:
        return self.MERGE_ID

    def mergeWith(self, other) -> bool:
        # Spin-box arrows fire one edit per step; one undo should take the whole run back.
        if not isinstance(other, SetParam) or (other.node_id, other.name) != (self.node_id, self.name):
            return False
        self.value = other.value
        return True


class SetRepeat(GraphCommand):
    def __init__(self, graph: Graph, node_id: str, repeat: int):
        super().__init__(graph, f"Repeat {node_id} ×{repeat}")
        self.node_id, self.repeat, self.old = node_id, repeat, graph.node(node_id).repeat

    def apply(self):
        self.graph.set_repeat(self.node_id, self.repeat)

    def undo(self):
        self.graph.set_repeat(self.node_id, self.old)


class MoveNodes(GraphCommand):
    def __init__(self, graph: Graph, moves: dict[str, tuple[tuple[float, float], tuple[float, float]]],
                 text: str = ""):
        n = len(moves)
        super().__init__(graph, text or f"Move {n} node{'s' * (n != 1)}")
        self.moves = moves  # id -> (old, new)

    def apply(self):
        for nid, (_, new) in self.moves.items():
            self.graph.move_node(nid, new)

    def undo(self):
        for nid, (old, _) in self.moves.items():
            self.graph.move_node(nid, old)


class SetDirection(GraphCommand):
    """The document's layout direction (auto-layout changes it along with the positions)."""

    def __init__(self, graph: Graph, direction: str):
        super().__init__(graph, f"Lay out {'left to right' if direction == 'LR' else 'top to bottom'}")
        self.old, self.new = graph.direction, direction

    def apply(self):
        self.graph.set_direction(self.new)

    def undo(self):
        self.graph.set_direction(self.old)


class AddSubgraph(GraphCommand):
    """Paste / duplicate: add a prepared set of nodes and the edges among them."""

    def __init__(self, graph: Graph, nodes: list[Node], edges: list[Edge], text: str = "Paste"):
        super().__init__(graph, text)
        self.nodes, self.edges = nodes, edges

    def apply(self):
        added = []
        try:
            _restore_into(self.graph, self.nodes, self.edges, added)
        except Exception:
            for nid in reversed(added):
                self.graph.remove_node(nid)
            raise

    def undo(self):
        for n in reversed(self.nodes):
            self.graph.remove_node(n.id)


def _restore_into(graph: Graph, nodes, edges, added: list) -> None:
    for n in nodes:
        graph.restore_node(n)
        added.append(n.id)
    for e in sorted(edges, key=lambda e: (e.dst, e.order)):
        graph.connect(e.src, e.dst, order=e.order)


class Selection(Protocol):
    """Where a command puts the selection after it runs (the canvas scene)."""

    def selected_node_ids(self) -> list[str]: ...

    def select_nodes(self, node_ids) -> None: ...


class Restructure(GraphCommand):
    """A structural transform (expand in place, split, collapse) kept as the small edits it made.

    The first run calls ``fn(graph)`` and records the graph's events while it runs; undo applies their
    inverses in reverse order and redo applies them again, so the canvas sees the same few events each
    time and touches only the items the transform touched. With a ``selection``, undo puts back what
    was selected before and redo selects what the transform made (``fn``'s result: an id or ids).
    ``text`` may be a function of that result, for names known only once it ran ("… into stage2").
    """

    def __init__(self, graph: Graph, text: str | Callable[[object], str], fn: Callable[[Graph], object],
                 selection: Selection | None = None):
        super().__init__(graph, text if isinstance(text, str) else "")
        self.describe = None if isinstance(text, str) else text
        self.fn = fn
        self.selection = selection
        self.selected_before = selection.selected_node_ids() if selection is not None else []
        self.log: EditLog | None = None
        self.result = None

    @property
    def made(self) -> list[str]:
        """The ids ``fn`` returned, as a list."""
        r = self.result
        return [r] if isinstance(r, str) else list(r) if isinstance(r, (list, tuple)) else []

    def apply(self):
        self._clear_selection()
        if self.log is None:
            log = EditLog()
            try:
                with log.recording(self.graph):  # a refusal half-way is undone before it is raised
                    self.result = self.fn(self.graph)
            except Exception:
                self._select(self.selected_before)  # refused: as if nothing had been asked
                raise
            self.log = log
            if self.describe is not None:  # before the push, so the Undo action shows it
                self.setText(self.describe(self.result))
        else:
            self.log.redo(self.graph)
        self._select(self.made)

    def undo(self):
        self._clear_selection()
        self.log.undo(self.graph)
        self._select(self.selected_before)

    def _clear_selection(self) -> None:
        # In one go, before the edits: each selected item they remove would otherwise signal a
        # selection change of its own (thousands after an expand, each re-reading the whole selection).
        self._select([])

    def _select(self, node_ids) -> None:
        if self.selection is not None:
            self.selection.select_nodes([n for n in node_ids if n in self.graph])


class ReplaceGraph(GraphCommand):
    """A change to the whole graph (expand every block): snapshots before and after, swapped in with one
    ``reset``. Every item changes anyway, and one rebuild is cheaper than thousands of single events."""

    def __init__(self, graph: Graph, text: str, fn: Callable[[Graph], object]):
        super().__init__(graph, text)
        self.fn = fn
        self.before: Graph | None = None
        self.after: Graph | None = None
        self.result = None

    def apply(self):
        if self.after is None:
            self.before = self.graph.copy()
            try:
                self.result = self.fn(self.graph)
            except Exception:
                if not self.graph.same_as(self.before):  # transforms check first; this is a safety net
                    self.graph.replace_with(self.before)
                raise
            self.after = self.graph.copy()
        else:
            self.graph.replace_with(self.after)

    def undo(self):
        self.graph.replace_with(self.before)
