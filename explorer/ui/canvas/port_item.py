"""A node's input or output port: where edges attach and where a new connection starts.

Ports are not items of their own: the node paints them and answers "is this point on a port?". That
halves the number of scene items (a fully expanded 1000-layer net has thousands of nodes), which is
what makes opening and panning such a graph fast. ``state`` shows what a connection dragged onto the
port would do: "" (normal), "hover", "accept" (green) or "refuse" (red).
"""
from __future__ import annotations

from PySide6.QtCore import QPointF

RADIUS = 5.5
GRAB = RADIUS + 4.0  # how close a press must be to start a connection


class Port:
    def __init__(self, node_item, kind: str):
        self.node_item = node_item
        self.kind = kind  # "in" | "out"
        self.state = ""
        self._pos = QPointF()

    @property
    def node_id(self) -> str:
        return self.node_item.node_id

    def pos(self) -> QPointF:
        return self._pos

    def setPos(self, p: QPointF) -> None:
        self._pos = QPointF(p)

    def scenePos(self) -> QPointF:
        return self.node_item.mapToScene(self._pos)

    def contains(self, scene_pos: QPointF) -> bool:
        d = self.node_item.mapFromScene(scene_pos) - self._pos
        return d.x() * d.x() + d.y() * d.y() <= GRAB * GRAB

    def set_state(self, state: str) -> None:
        if state != self.state:
            self.state = state
            self.node_item.update()

    def radius(self) -> float:
        return RADIUS * (1.5 if self.state else 1.0)
