"""The far-zoomed picture of a big graph, drawn in a handful of painter calls instead of one per item.

When thousands of nodes are on screen, asking each item to paint itself costs a Python call per item
per frame. The overview gathers every node's box (grouped by colour) and every edge's curve into a few
``QPainterPath``s once per change, and the view draws those each frame.
"""
from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen, QPolygonF

from explorer.ui.canvas.node_item import NODE_H, NODE_W
from explorer.ui.icons import block_color


class Overview:
    def __init__(self, scene):
        self.scene = scene
        self._dirty = True
        self._edges = QPainterPath()
        self._boxes: list[tuple[QColor, QPainterPath, QPolygonF]] = []
        self._rects: dict[str, QRectF] = {}
        scene.contentChanged.connect(self.invalidate)

    def invalidate(self) -> None:
        self._dirty = True

    def _build(self) -> None:
        theme = self.scene.style.theme
        self._edges = QPainterPath()
        for e in self.scene.edges.values():
            self._edges.addPath(e.path())
        groups: dict[str, tuple[QColor, QPainterPath, QPolygonF]] = {}
        self._rects = {}
        for nid, item in self.scene.nodes.items():
            p = item.pos()
            r = QRectF(p.x() - NODE_W / 2, p.y() - NODE_H / 2, NODE_W, NODE_H)
            self._rects[nid] = r
            if item.isSelected():
                key, color = "~selected", theme.accent
            elif item.severity == "error":
                key, color = "~error", theme.error
            else:
                key, color = item.type_name, theme.block_color(block_color(item.type_name))
            g = groups.get(key)
            if g is None:
                g = groups[key] = (color, QPainterPath(), QPolygonF())
            g[1].addRect(r)
            g[2].append(p)
        # selected and invalid last, so they are on top
        self._boxes = [groups[k] for k in sorted(groups, key=lambda k: (k.startswith("~"), k))]
        self._dirty = False

    def node_at(self, pos: QPointF, tolerance: float) -> str | None:
        """The node whose box (grown by ``tolerance`` scene units) contains ``pos``."""
        if self._dirty:
            self._build()
        best, best_d = None, None
        for nid, r in self._rects.items():
            if r.adjusted(-tolerance, -tolerance, tolerance, tolerance).contains(pos):
                d = (r.center() - pos).manhattanLength()
                if best_d is None or d < best_d:
                    best, best_d = nid, d
        return best

    def paint(self, painter: QPainter, scale: float) -> None:
        if self._dirty:
            self._build()
        theme = self.scene.style.theme
        painter.save()
        painter.setRenderHint(QPainter.Antialiasing, False)  # sub-pixel detail is noise at this zoom
        pen = QPen(theme.edge, 1.0)
        pen.setCosmetic(True)
        painter.setPen(pen)
        painter.setBrush(Qt.NoBrush)
        painter.drawPath(self._edges)
        tiny = NODE_W * scale < 4.0
        for color, path, points in self._boxes:
            if tiny:  # a box under 4 px is drawn as a dot the same size at any zoom
                dot = QPen(color, 4.0, Qt.SolidLine, Qt.SquareCap)
                dot.setCosmetic(True)
                painter.setPen(dot)
                painter.drawPoints(points)
            else:
                painter.fillPath(path, color)
        painter.restore()
