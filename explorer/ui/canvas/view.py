"""The canvas view: wheel zoom about the cursor, pan (middle button, Space+drag, or drag when far out),
fit to view, and the level of detail.

Detail follows the zoom: shape labels go when they would be unreadable, and a big graph zoomed far out
switches to the overview (one set of painter calls for the whole graph, see ``overview``). Nothing is
re-laid-out per frame; panning only moves the viewport over items that cache their own pixmaps.
"""
from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QPainter, QPen
from PySide6.QtWidgets import QGraphicsView

from explorer.ui.canvas.overview import Overview

MIN_SCALE, MAX_SCALE = 0.001, 3.0
OVERVIEW_BELOW = 0.16    # items become an overview below this zoom ...
OVERVIEW_NODES = 300     # ... when the graph has at least this many nodes


class CanvasView(QGraphicsView):
    zoomChanged = Signal(float)
    contextMenuRequested = Signal(object, str)  # global position, node id under the cursor ("" for none)

    def __init__(self, scene, parent=None):
        super().__init__(scene, parent)
        self.setRenderHints(QPainter.Antialiasing | QPainter.TextAntialiasing | QPainter.SmoothPixmapTransform)
        self.setViewportUpdateMode(QGraphicsView.SmartViewportUpdate)
        self.setDragMode(QGraphicsView.RubberBandDrag)
        self.setRubberBandSelectionMode(Qt.IntersectsItemShape)
        self.setTransformationAnchor(QGraphicsView.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.AnchorViewCenter)
        self.setAcceptDrops(True)
        # Scroll bars that come and go resize the viewport, and the picture jumps; keep them.
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOn)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarAlwaysOn)
        self.setFocusPolicy(Qt.StrongFocus)
        self._pan_from: QPointF | None = None
        self._space = False
        self._swallow_release = False
        self._fitted = False   # the view shows everything (Fit): a resize or maximise fits again
        for bar in (self.horizontalScrollBar(), self.verticalScrollBar()):
            bar.actionTriggered.connect(self._user_moved)   # the user's scrolling only, not fitInView's
        self.set_graph_scene(scene)

    def set_graph_scene(self, scene) -> None:
        self.setScene(scene)
        self.overview = Overview(scene)
        scene.contentChanged.connect(self._content_changed)
        self.setBackgroundBrush(scene.style.theme.canvas)

    # -- zoom -----------------------------------------------------------------------------------
    @property
    def scale_factor(self) -> float:
        return self.transform().m11()

    def set_zoom(self, scale: float, anchor: QPointF | None = None) -> None:
        scale = max(MIN_SCALE, min(MAX_SCALE, scale))
        factor = scale / self.scale_factor
        if abs(factor - 1.0) < 1e-9:
            return
        self._fitted = False
        if anchor is None:
            self.setTransformationAnchor(QGraphicsView.AnchorViewCenter)
        self.scale(factor, factor)
        self.setTransformationAnchor(QGraphicsView.AnchorUnderMouse)
        self._update_detail()

    def wheelEvent(self, event):
        if event.modifiers() & Qt.ShiftModifier:  # Shift+wheel scrolls sideways
            self._fitted = False
            bar = self.horizontalScrollBar()
            bar.setValue(bar.value() - event.angleDelta().y())
            return
        delta = event.angleDelta().y() or event.angleDelta().x()
        if delta:
            self.set_zoom(self.scale_factor * 1.0015 ** delta, anchor=event.position())
        event.accept()

    def fit(self) -> None:
        """Everything in view, never magnified beyond 100 %."""
        rect = self.scene().content_rect().adjusted(-40, -40, 40, 40)
        self.fitInView(rect, Qt.KeepAspectRatio)
        if self.scale_factor > 1.0:
            self.set_zoom(1.0)
        self.centerOn(rect.center())
        self._update_detail()
        self._fitted = True

    def _user_moved(self, *_) -> None:
        self._fitted = False

    def resizeEvent(self, event):
        super().resizeEvent(event)
        if self._fitted:
            self.fit()

    def fit_or_start(self) -> None:
        """After opening: fit, unless that makes nodes specks (a fully expanded 1000-layer net); then
        show the input end at a readable zoom."""
        rect = self.scene().content_rect()
        vw, vh = max(1, self.viewport().width()), max(1, self.viewport().height())
        if min(vw / max(rect.width(), 1), vh / max(rect.height(), 1)) >= 0.12:
            self.fit()
            return
        zoom = 0.85
        self.set_zoom(zoom)
        start = self.scene().nodes.get("input") or next(iter(self.scene().nodes.values()), None)
        if start is not None:  # the input near the top-left corner
            p = start.pos()
            self.centerOn(QPointF(p.x() + (vw / 2 - 130) / zoom, p.y() + (vh / 2 - 160) / zoom))
        self._update_detail()

    def show_node(self, node_id: str) -> None:
        item = self.scene().nodes.get(node_id)
        if item is None:
            return
        if self.scale_factor < 0.5:
            self.set_zoom(0.8)
        self._fitted = False
        self.centerOn(item)

    def _update_detail(self) -> None:
        s = self.scale_factor
        scene = self.scene()
        overview = s < OVERVIEW_BELOW and len(scene.nodes) >= OVERVIEW_NODES
        scene.set_overview(overview)
        # Far out, a left drag pans (there is nothing small enough to rubber-band usefully).
        want = QGraphicsView.ScrollHandDrag if (overview or self._space) else QGraphicsView.RubberBandDrag
        if self.dragMode() != want:
            self.setDragMode(want)
        self.viewport().update()
        self.zoomChanged.emit(s)

    def _content_changed(self) -> None:
        if self.scene().overview:
            self.viewport().update()

    # -- drawing --------------------------------------------------------------------------------
    def drawBackground(self, painter: QPainter, rect: QRectF) -> None:
        theme = self.scene().style.theme
        painter.fillRect(rect, theme.canvas)
        if self.scale_factor < 0.4:
            return
        step = 40.0
        pen = QPen(theme.grid, 0)  # cosmetic hairline
        painter.setPen(pen)
        left, top = int(rect.left() // step) * step, int(rect.top() // step) * step
        lines = []
        x = left
        while x < rect.right():
            lines.append(QPointF(x, rect.top()))
            lines.append(QPointF(x, rect.bottom()))
            x += step
        y = top
        while y < rect.bottom():
            lines.append(QPointF(rect.left(), y))
            lines.append(QPointF(rect.right(), y))
            y += step
        painter.drawLines(lines)

    def drawForeground(self, painter: QPainter, rect: QRectF) -> None:
        if self.scene().overview:
            self.overview.paint(painter, self.scale_factor)

    # -- pan ------------------------------------------------------------------------------------
    def mousePressEvent(self, event):
        if event.button() == Qt.MiddleButton:
            self._pan_from = event.position()
            self.viewport().setCursor(Qt.ClosedHandCursor)
            event.accept()
            return
        if self.scene().overview and event.button() == Qt.LeftButton and self._overview_click(event):
            self._swallow_release = True
            event.accept()
            return  # not on to the scene: it would find no (transparent) item and clear the selection
        super().mousePressEvent(event)

    def _overview_click(self, event) -> bool:
        """Far out the items are transparent, so the overview answers which node was clicked."""
        pos = self.mapToScene(event.position().toPoint())
        nid = self.overview.node_at(pos, tolerance=4.0 / self.scale_factor)
        if nid is not None:
            self.scene().select_node(nid, add=bool(event.modifiers() & Qt.ControlModifier))
        return nid is not None

    def mouseMoveEvent(self, event):
        if self._pan_from is not None:
            d = event.position() - self._pan_from
            self._pan_from = event.position()
            self._fitted = False
            self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() - int(d.x()))
            self.verticalScrollBar().setValue(self.verticalScrollBar().value() - int(d.y()))
            event.accept()
            return
        if event.buttons() and self.dragMode() == QGraphicsView.ScrollHandDrag:
            self._fitted = False   # a hand drag (Space, or far out) pans the view
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event):
        if self._swallow_release and event.button() == Qt.LeftButton:
            self._swallow_release = False  # the hand-drag mode would clear the selection on release
            event.accept()
            return
        if self._pan_from is not None and event.button() == Qt.MiddleButton:
            self._pan_from = None
            self.viewport().unsetCursor()
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def mouseDoubleClickEvent(self, event):
        if self.scene().overview:  # far out: double-click dives in there
            at = self.mapToScene(event.position().toPoint())
            self.set_zoom(0.8)
            self.centerOn(at)
            return
        super().mouseDoubleClickEvent(event)

    def keyPressEvent(self, event):
        if event.key() == Qt.Key_Space and not event.isAutoRepeat():
            self._space = True
            self._update_detail()
            return
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event):
        if event.key() == Qt.Key_Space and not event.isAutoRepeat():
            self._space = False
            self._update_detail()
            return
        super().keyReleaseEvent(event)

    def contextMenuEvent(self, event):
        item = self.itemAt(event.pos())
        node_id = ""
        while item is not None:
            if hasattr(item, "node_id") and not hasattr(item, "kind"):
                node_id = item.node_id
                break
            item = item.parentItem()
        if node_id and not self.scene().nodes[node_id].isSelected():
            self.scene().select_node(node_id)
        self.contextMenuRequested.emit(event.globalPos(), node_id)
        event.accept()
