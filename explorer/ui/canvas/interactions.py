"""Mouse gestures on the canvas, one small class each: draw a new link, move nodes, drop from the palette.

A gesture reads the model, shows feedback on the canvas, and ends in at most one undo command; the
model has the last word (it raises ``GraphError`` with a readable reason). While a new link hovers a
port it may not end on, the reason is written next to the cursor (``LinkHint``): the status bar is far
from where the eyes are, and its summary can leave a message no room.
"""
from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QFont, QFontMetricsF, QPainter, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPathItem

from explorer.blocks.registry import UnknownBlockError, get_block
from explorer.graph import Graph, GraphError
from explorer.ui import commands
from explorer.ui.canvas.edge_item import edge_path
from explorer.ui.canvas.port_item import Port

SNAP = 10.0


def connection_problem(graph: Graph, src: str, dst: str) -> str | None:
    """Why ``src → dst`` would be refused, or None: the model's own rules, asked while dragging."""
    problem = graph.connection_problem(src, dst)
    return None if problem is None else str(problem)


class LinkHint(QGraphicsItem):
    """Why a connection would be refused, in a small box beside the cursor; the same size at every
    zoom, wrapped to a readable width, and kept inside the view."""

    WIDTH = 320.0
    OFFSET = QPointF(16.0, 18.0)   # below right of the cursor's tip, clear of the pointer itself
    PAD = 6.0

    def __init__(self, theme):
        super().__init__()
        self.theme = theme
        self.setFlag(QGraphicsItem.ItemIgnoresTransformations)
        self.setZValue(20)
        self.font = QFont()
        self.font.setPointSizeF(9.0)
        self._text = ""
        self._rect = QRectF()
        self._offset = QPointF(self.OFFSET)
        self.hide()

    @property
    def text(self) -> str:
        return self._text if self.isVisible() else ""

    def show_at(self, text: str, scene_pos: QPointF, view=None) -> None:
        if text != self._text:
            self.prepareGeometryChange()
            self._text = text
            fm = QFontMetricsF(self.font)
            r = fm.boundingRect(QRectF(0, 0, self.WIDTH, 1000), Qt.TextWordWrap, text)
            self._rect = QRectF(0, 0, r.width() + 2 * self.PAD, r.height() + 2 * self.PAD)
        offset = QPointF(self.OFFSET)
        if view is not None:  # flip to the other side of the cursor where the box would leave the view
            at = view.mapFromScene(scene_pos)
            vp = view.viewport().rect()
            if at.x() + offset.x() + self._rect.width() > vp.right():
                offset.setX(-offset.x() - self._rect.width())
            if at.y() + offset.y() + self._rect.height() > vp.bottom():
                offset.setY(-offset.y() - self._rect.height() + 4)
        self.prepareGeometryChange()
        self._offset = offset
        self.setPos(scene_pos)
        self.show()
        self.update()

    def boundingRect(self) -> QRectF:
        return self._rect.translated(self._offset)

    def paint(self, painter: QPainter, option, widget=None) -> None:
        r = self.boundingRect()
        painter.setRenderHint(QPainter.Antialiasing)
        painter.setPen(QPen(self.theme.refuse, 1.2))
        painter.setBrush(self.theme.node)
        painter.drawRoundedRect(r, 4, 4)
        painter.setFont(self.font)
        painter.setPen(self.theme.text)
        painter.drawText(r.adjusted(self.PAD, self.PAD, -self.PAD, -self.PAD), Qt.TextWordWrap, self._text)


class NewLinkInteraction:
    """Drag from a port: a rubber-band edge follows the cursor; ports it may end on turn green,
    ports it may not turn red; releasing on a green one makes the edge (one undo step)."""

    def __init__(self, scene, port: Port):
        self.scene = scene
        self.start = port
        self.from_output = port.kind == "out"
        self.target: Port | None = None
        self.problem: str | None = None
        self.band = QGraphicsPathItem()
        pen = QPen(scene.style.theme.accent, 1.6, Qt.DashLine)
        self.band.setPen(pen)
        self.band.setZValue(10)
        scene.addItem(self.band)
        self.hint = LinkHint(scene.style.theme)
        scene.addItem(self.hint)
        port.set_state("hover")

    def _anchor(self) -> QPointF:
        return self.start.scenePos()

    def _find_target(self, pos: QPointF) -> Port | None:
        want = "in" if self.from_output else "out"
        for item in self.scene.items(pos):
            if hasattr(item, "port_at") and item is not self.start.node_item:
                # anywhere on a node means its port of the right kind: easier than hitting a dot
                return item.in_port if want == "in" else item.out_port
        return None

    def ends(self, target: Port) -> tuple[str, str]:
        if self.from_output:
            return self.start.node_id, target.node_id
        return target.node_id, self.start.node_id

    def move(self, pos: QPointF) -> None:
        a, b = (self._anchor(), pos) if self.from_output else (pos, self._anchor())
        self.band.setPath(edge_path(a, b, self.scene.style.direction)[0])
        target = self._find_target(pos)
        if target is self.target:
            if self.problem:  # the reason follows the cursor
                self.hint.show_at(self.problem, pos, self._view())
            return
        if self.target is not None:
            self.target.set_state("")
        self.target = target
        self.problem = None
        if target is not None:
            self.problem = connection_problem(self.scene.graph, *self.ends(target))
            target.set_state("refuse" if self.problem else "accept")
            self.scene.message.emit(f"cannot connect: {self.problem}" if self.problem else
                                    "release to connect {} → {}".format(*self.ends(target)))
        if self.problem:
            self.hint.show_at(self.problem, pos, self._view())
        else:
            self.hint.hide()

    def _view(self):
        views = self.scene.views()
        return views[0] if views else None


    def release(self, pos: QPointF) -> None:
        self.move(pos)
        target = self.target
        self.finish()
        if target is None:
            return
        src, dst = self.ends(target)
        if self.problem:
            self.scene.message.emit(f"cannot connect {src} → {dst}: {self.problem}")
            return
        try:
            commands.execute(self.scene.stack, commands.Connect(self.scene.graph, src, dst))
        except GraphError as e:
            self.scene.message.emit(f"cannot connect {src} → {dst}: {e}")
            return
        self.scene.message.emit(f"connected {src} → {dst}")

    def finish(self) -> None:
        if self.target is not None:
            self.target.set_state("")
        self.start.set_state("")
        self.scene.removeItem(self.band)
        self.scene.removeItem(self.hint)


class MoveInteraction:
    """Remembers where the selected nodes were when the press started; one MoveNodes on release."""

    def __init__(self, scene):
        self.scene = scene
        self.before = {nid: scene.graph.node(nid).pos for nid in scene.selected_node_ids()}

    def finish(self) -> None:
        moves = {}
        for nid, old in self.before.items():
            item = self.scene.nodes.get(nid)
            if item is None:
                continue
            p = item.pos()
            new = (round(p.x() / SNAP) * SNAP, round(p.y() / SNAP) * SNAP)
            if new != old:
                moves[nid] = (old, new)
        if moves:
            commands.execute(self.scene.stack, commands.MoveNodes(self.scene.graph, moves))


class DropInteraction:
    """What a palette drop does: a block is added where it lands; a preset asks to be opened."""

    @staticmethod
    def drop(scene, kind: str, name: str, pos: QPointF) -> str | None:
        if kind == "preset":
            scene.presetDropped.emit(name)
            return None
        return add_block(scene, name, (pos.x(), pos.y()))


def add_block(scene, type_name: str, pos: tuple[float, float]) -> str | None:
    """Add a block at ``pos`` (snapped) through an undo command; returns the new id."""
    try:
        get_block(type_name)
    except UnknownBlockError as e:
        scene.message.emit(f"cannot add: {e}")
        return None
    x, y = (round(v / SNAP) * SNAP for v in pos)
    cmd = commands.AddNode(scene.graph, type_name, (x, y))
    try:
        commands.execute(scene.stack, cmd)
    except GraphError as e:
        scene.message.emit(f"cannot add {type_name}: {e}")
        return None
    scene.select_node(cmd.node_id)
    return cmd.node_id
