"""A compound change kept as the primitive edits it made, so it can be undone and redone without a
snapshot: recorded from the graph's own events while it runs, undone by applying their inverses in
reverse order, redone by applying them again in order.

Structural transforms (open a block in place, split or collapse a stage) are many small edits. Undoing
them this way emits the same few events the change did, so a view that mirrors the model (the canvas)
touches only the items the change touched, where swapping a whole snapshot in would rebuild them all.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from explorer.graph.model import Graph, GraphEvent, Node


class UnrecordableEdit(RuntimeError):
    """The change replaced the whole graph (a 'reset'), which has no small inverse to record."""


def _copy(node: Node) -> Node:
    # the live node keeps changing after it is added (moves, params); the log needs it as it was then
    params = {k: (list(v) if isinstance(v, list) else v) for k, v in node.params.items()}
    return Node(node.id, node.type, params, node.pos, node.repeat)


class EditLog:
    """The events of one compound change, in the order the graph emitted them."""

    def __init__(self) -> None:
        self.events: list[GraphEvent] = []

    def __len__(self) -> int:
        return len(self.events)

    @contextmanager
    def recording(self, graph: Graph) -> Iterator["EditLog"]:
        """Record every edit made to ``graph`` inside the ``with`` block. If the block raises, what it
        already did is undone before the error goes on, so a half-done change never stays behind."""
        reset = []

        def listen(ev: GraphEvent) -> None:
            if ev.kind == "reset":
                reset.append(ev)
            elif ev.kind == "node_added":
                self.events.append(GraphEvent("node_added", ev.node_id, new=_copy(graph.node(ev.node_id))))
            elif ev.kind == "node_removed":
                self.events.append(GraphEvent("node_removed", ev.node_id, old=_copy(ev.old)))
            else:
                self.events.append(ev)

        graph.subscribe(listen)
        try:
            yield self
        except BaseException:
            graph.unsubscribe(listen)
            if not reset:
                self.undo(graph)
            raise
        graph.unsubscribe(listen)
        if reset:
            raise UnrecordableEdit("a change recorded as small edits replaced the whole graph")

    def undo(self, graph: Graph) -> None:
        """Take the change back: each edit's inverse, last edit first."""
        for ev in reversed(self.events):
            _apply(graph, _inverse(ev))

    def redo(self, graph: Graph) -> None:
        """Make the change again on the graph as it was before it, edit by edit."""
        for ev in self.events:
            _apply(graph, ev)


_OPPOSITE = {"node_added": "node_removed", "node_removed": "node_added",
             "edge_added": "edge_removed", "edge_removed": "edge_added"}


def _inverse(ev: GraphEvent) -> GraphEvent:
    kind = _OPPOSITE.get(ev.kind, ev.kind)
    return GraphEvent(kind, ev.node_id, ev.edge, ev.name, old=ev.new, new=ev.old)


def _apply(graph: Graph, ev: GraphEvent) -> None:
    k = ev.kind
    if k == "node_added":
        graph.restore_node(ev.new)
    elif k == "node_removed":
        graph.remove_node(ev.node_id)  # its edges went first, each an event of its own
    elif k == "edge_added":
        # the graph is back in a state it was in, where this edge existed: no need to search for cycles
        graph.connect(ev.edge.src, ev.edge.dst, order=ev.edge.order, check_cycle=False)
    elif k == "edge_removed":
        graph.disconnect(ev.edge.src, ev.edge.dst)
    elif k == "param_changed":
        graph.set_param(ev.node_id, ev.name, ev.new)
    elif k == "repeat_changed":
        graph.set_repeat(ev.node_id, ev.new)
    elif k == "node_moved":
        graph.move_node(ev.node_id, ev.new)
    else:
        raise UnrecordableEdit(f"no way to apply a '{k}' edit")
