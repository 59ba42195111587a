"""An edge: a curve from an output port to an input port, labelled with the tensor shape it carries.

Edges between neighbours are gentle S-curves; an edge that skips over nodes on its own row (a residual
shortcut, a dense connection) arcs above them, higher the further it reaches, so skips stay readable
instead of running through the nodes they skip. A long edge between rows (into and out of a projection
shortcut) changes rows in the gap next to its end on the upper row and runs along the lower one, so it
goes around the main branch instead of slanting under its nodes into the wrong one.

An edge that would run through a node placed freely on its way (not one of its ends) arcs over it instead,
just clear of the highest such node (``arc_over``).

Shape labels sit where nothing covers them: in the gap between two nodes, on the long run of a row
change, or, on an edge that wraps to the next band, along the run between the bands.

One item per edge, label included (no child item), pens and font shared by all edges: a fully
expanded 1000-layer net has about 5000 of them.
"""
from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QFont, QFontMetricsF, QPainterPath, QPainterPathStroker, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyle

from explorer.graph.layout import COLUMN
from explorer.ui.canvas.port_item import RADIUS

# Beyond this (along the flow) an edge skips a layer: port to port, neighbours are a column less a node
# width apart (50 in LR), one layer further a whole column more (280).
NEIGHBOUR = {"LR": COLUMN + 40.0, "TB": 160.0}
CLEARANCE = 24.0       # how far an edge arcing over a node stays above it
TURN = 50.0            # how far along the flow a long row change turns: inside the gap between columns
LABELS_FROM = 0.45     # zoom below which shape labels are not drawn (unreadable)
_FONT: QFont | None = None
_METRICS: QFontMetricsF | None = None


def label_font() -> QFont:
    global _FONT, _METRICS
    if _FONT is None:
        _FONT = QFont()
        _FONT.setPointSizeF(7.5)
        _METRICS = QFontMetricsF(_FONT)
    return _FONT


def edge_path(p1: QPointF, p2: QPointF, direction: str = "LR") -> tuple[QPainterPath, QPointF, bool]:
    """The curve, where its label goes, and whether it arcs (a skip): True, False, or None for an edge
    that wraps back to the start of the next band."""
    # Work in "flow" coordinates (a along the flow, b across it) so one rule serves both directions.
    if direction == "LR":
        a1, b1, a2, b2 = p1.x(), p1.y(), p2.x(), p2.y()
    else:
        a1, b1, a2, b2 = p1.y(), p1.x(), p2.y(), p2.x()
    da, db = a2 - a1, b2 - b1

    def pt(a, b):
        return QPointF(a, b) if direction == "LR" else QPointF(b, a)

    path = QPainterPath(p1)
    far = da > NEIGHBOUR.get(direction, 300.0)
    skip = far and abs(db) < 1.0
    if da < 0 and db > 55.0:
        # Back to the start of the next band of a wrapped layout: out, down into the gap between
        # the bands, back along it, and in, with rounded corners. Runs of different lengths sit at
        # slightly different heights so parallel ones do not merge into one line.
        run = b1 + db * 0.5 + ((int(-da) // 230) % 4) * 7.0 - 10.0
        ax, bx = a1 + 30.0, a2 - 30.0
        r = 12.0
        path.lineTo(pt(ax - r, b1))
        path.quadTo(pt(ax, b1), pt(ax, b1 + r))
        path.lineTo(pt(ax, run - r))
        path.quadTo(pt(ax, run), pt(ax - r, run))
        path.lineTo(pt(bx + r, run))
        path.quadTo(pt(bx, run), pt(bx, run + r))
        path.lineTo(pt(bx, b2 - r))
        path.quadTo(pt(bx, b2), pt(bx + r, b2))
        path.lineTo(p2)
        return path, pt((ax + bx) / 2, run), None  # None: a wrapped edge; labelled along the run between bands
    if far and not skip:
        # Change rows next to the end on the upper row (the main path) and run along the lower one.
        low = max(b1, b2)
        t = TURN / 2
        if b2 > b1:
            path.cubicTo(pt(a1 + t, b1), pt(a1 + t, b2), pt(a1 + TURN, b2))
            path.lineTo(p2)
        else:
            path.lineTo(pt(a2 - TURN, b1))
            path.cubicTo(pt(a2 - t, b1), pt(a2 - t, b2), p2)
        return path, pt((a1 + a2) / 2, low), False
    if skip:
        h = (48.0 + min(da, 4000.0) * 0.03) / 0.75  # apex of a cubic is 3/4 of its control height
        path.cubicTo(pt(a1 + 30, b1 - h), pt(a2 - 30, b2 - h), p2)
        label = pt((a1 + a2) / 2, b1 - 0.75 * h)
    else:
        k = max(40.0, abs(da) * 0.5) if da > 0 else max(90.0, abs(da) * 0.5)
        path.cubicTo(pt(a1 + k, b1), pt(a2 - k, b2), p2)
        label = path.pointAtPercent(0.5)
    return path, label, skip


def arc_over(p1: QPointF, p2: QPointF, top: float, direction: str = "LR") -> tuple[QPainterPath, QPointF]:
    """A curve from ``p1`` to ``p2`` whose apex clears ``top`` (across the flow: y for LR, x for TB), and
    where its label goes (at the apex)."""
    if direction == "LR":
        a1, b1, a2, b2 = p1.x(), p1.y(), p2.x(), p2.y()
    else:
        a1, b1, a2, b2 = p1.y(), p1.x(), p2.y(), p2.x()

    def pt(a, b):
        return QPointF(a, b) if direction == "LR" else QPointF(b, a)

    apex = min(top - CLEARANCE, b1 - CLEARANCE, b2 - CLEARANCE)
    c = (apex - (b1 + b2) / 8) / 0.75   # both controls at c: the middle of the cubic is at the apex
    path = QPainterPath(p1)
    path.cubicTo(pt(a1 + 40, c), pt(a2 - 40, c), p2)
    return path, pt((a1 + a2) / 2, apex)


class _Pens:
    """Pens for one theme, made once and shared by every edge."""
    theme = None
    normal = hot = None

    @classmethod
    def for_theme(cls, theme):
        if cls.theme is not theme:
            cls.theme = theme
            cls.normal, cls.hot = QPen(theme.edge, 1.4), QPen(theme.accent, 2.4)
            for pen in (cls.normal, cls.hot):
                pen.setCapStyle(Qt.RoundCap)
        return cls


class EdgeItem(QGraphicsItem):
    def __init__(self, edge, src_item, dst_item, style):
        super().__init__()
        self.edge = edge
        self.src_item, self.dst_item = src_item, dst_item
        self.style = style
        self.setFlag(QGraphicsItem.ItemIsSelectable)
        self.setZValue(-1)  # under the nodes
        self._text = ""
        self._label_rect = QRectF()
        self._highlight = False
        self._shape = None
        self._path = QPainterPath()
        self._bounds = QRectF()
        self.show_label = True
        self.update_path()

    @property
    def key(self) -> tuple[str, str]:
        return self.edge.src, self.edge.dst

    def path(self) -> QPainterPath:
        return self._path

    def apply_theme(self) -> None:
        self.update()

    def set_highlight(self, on: bool) -> None:
        if on != self._highlight:
            self._highlight = on
            self.update()

    def set_label(self, text: str) -> None:
        if text != self._text:
            self._text = text
            self._place_label()

    @property
    def text(self) -> str:
        return self._text

    def update_path(self, moved=()) -> None:
        """Recompute the curve; ``moved``: nodes that just moved (the scene's index may not have them where
        they are yet)."""
        p1, p2 = self.src_item.out_anchor(), self.dst_item.in_anchor()
        path, self._label_at, self._skip = edge_path(p1, p2, self.style.direction)
        top = self._top_of_nodes_in_the_way(path, moved)
        if top is not None:   # a node placed freely on the way: over it, not through it
            path, self._label_at = arc_over(p1, p2, top, self.style.direction)
            self._skip = True
        self._shape = None
        self._path = path
        self._place_label()

    def _top_of_nodes_in_the_way(self, path: QPainterPath, moved=()) -> float | None:
        """The highest edge (across the flow) of the nodes other than its ends that ``path`` runs through;
        None when it crosses none. Asks the scene's index for the items near the path only."""
        scene = self.scene()
        if scene is None or self._skip is None:   # not shown yet, or a wrap between bands (runs in the gap)
            return None
        ends = (self.src_item, self.dst_item)
        stroker = QPainterPathStroker()
        stroker.setWidth(4)
        line = stroker.createStroke(path)   # the drawn line: a bare path would count the area it encloses
        tops = []
        for item in set(scene.items(path.boundingRect())) | set(moved):
            body = getattr(item, "body_rect", None)
            if body is None or item in ends:
                continue
            rect = item.mapRectToScene(body())
            if line.intersects(rect):
                tops.append(rect.top() if self.style.direction == "LR" else rect.left())
        return min(tops) if tops else None

    def _place_label(self) -> None:
        label_font()
        at = self._label_at
        if self._text:
            w, h = _METRICS.horizontalAdvance(self._text) + 2, _METRICS.height()
            if self.style.direction == "LR":
                self._label_rect = QRectF(at.x() - w / 2, at.y() - h - 1, w, h)
                self._keep_label_off_nodes()
            else:
                self._label_rect = QRectF(at.x() + 5, at.y() - h / 2, w, h)
        else:
            self._label_rect = QRectF()
        self.prepareGeometryChange()
        r = self._path.boundingRect().adjusted(-2, -2, 2, 2)
        self._bounds = r.united(self._label_rect) if self._text else r

    def _keep_label_off_nodes(self) -> None:
        """A label wider than the gap between two neighbours would hide under their ends and ports:
        it goes above the taller of the two instead."""
        if self._skip is not False:
            return
        a, b = self.src_item.out_anchor(), self.dst_item.in_anchor()
        room = b.x() - a.x() - 4 * RADIUS
        if room < self._label_rect.width():
            half = max(self.src_item.body_rect().height(), self.dst_item.body_rect().height()) / 2
            self._label_rect.moveBottom(min(a.y(), b.y()) - half - 2)

    def boundingRect(self) -> QRectF:
        return self._bounds

    def shape(self) -> QPainterPath:
        if self._shape is None:  # a wide invisible band makes a thin curve easy to click
            stroker = QPainterPathStroker()
            stroker.setWidth(10)
            self._shape = stroker.createStroke(self._path)
        return self._shape

    def label_rect(self) -> QRectF:
        """Where the shape label is drawn at full zoom (scene coordinates); empty when it is not drawn."""
        return QRectF(self._label_rect) if self._text and self.show_label and self._label_wanted() else QRectF()

    def _label_wanted(self) -> bool:
        if self._skip is not None:
            return True
        # A wrapped edge whose source feeds other edges too says nothing new (every edge out of a node
        # carries the same shape), and its label would sit on top of another at the far end.
        return sum(1 for e in self.src_item.edges if e.src_item is self.src_item) == 1

    def paint(self, painter, option, widget=None):
        pens = _Pens.for_theme(self.style.theme)
        # Colour shows selection (no dashed box); deciding here needs no per-change Python hook.
        hot = self._highlight or bool(option.state & QStyle.State_Selected)
        painter.setPen(pens.hot if hot else pens.normal)
        painter.setBrush(Qt.NoBrush)
        painter.drawPath(self._path)
        if (self._text and self.show_label and option.levelOfDetailFromTransform(painter.worldTransform()) >= LABELS_FROM
                and self._label_wanted()):
            painter.setFont(label_font())
            painter.setPen(self.style.theme.accent if hot else self.style.theme.edge_label)
            painter.drawText(self._label_rect, Qt.AlignCenter, self._text)
