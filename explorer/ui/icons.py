"""Block icons drawn with QPainter: one small picture per block type, each residual block in its own style.

Glyphs are vector drawings in a unit square, so the same function paints the palette icon and the
node face, sharp at any size and device pixel ratio. Colour and glyph are declared on each block type
(the glyph as plain data, explorer.blocks.glyph); this module only knows how to paint those shapes.
"""
from __future__ import annotations

from functools import lru_cache

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPainterPath, QPen, QPixmap

from explorer.blocks.glyph import DEFAULT, HUE, INK, NONE, Curve, Poly, Rect
from explorer.blocks.registry import UnknownBlockError, get_block
from explorer.graph.catalog import BlockSpec


def block_color(type_name: str) -> QColor:
    """The hue a block type declares (grey for a type nobody registered)."""
    try:
        return QColor(get_block(type_name).color)
    except UnknownBlockError:
        return QColor(BlockSpec.color)


def _glyph(type_name: str) -> tuple:
    """The shapes a block type declares; the default box for a type that declares none (or no data)."""
    try:
        glyph = get_block(type_name).glyph
    except UnknownBlockError:
        return DEFAULT
    return glyph if isinstance(glyph, tuple) and glyph else DEFAULT


# -- the painter: each shape of a glyph (explorer.blocks.glyph) into the unit square ------------------
def _path(shape) -> tuple[QPainterPath, str]:
    """The outline of one shape and what fills it (open lines and curves: nothing)."""
    path = QPainterPath()
    if isinstance(shape, Curve):
        path.moveTo(*shape.start)
        path.cubicTo(QPointF(*shape.c1), QPointF(*shape.c2), QPointF(*shape.end))
    elif isinstance(shape, Rect):
        box = QRectF(shape.x, shape.y, shape.w, shape.h)
        if shape.oval:
            path.addEllipse(box)
        else:
            path.addRect(box)
        return path, shape.fill
    elif isinstance(shape, Poly) and shape.points:
        path.moveTo(*shape.points[0])
        for x, y in shape.points[1:]:
            path.lineTo(x, y)
        if shape.closed:
            path.closeSubpath()
            return path, shape.fill
    return path, NONE  # also a shape this painter does not know: nothing, rather than a failed view


def _draw(p: QPainter, shape, hue: QColor) -> None:
    path, fill = _path(shape)
    brush = {HUE: hue, INK: p.pen().color()}.get(fill)
    if brush is not None:
        p.fillPath(path, brush)
    p.drawPath(path)


def draw_glyph(painter: QPainter, rect: QRectF, type_name: str, fg: QColor, dark: bool = False) -> None:
    """Paint ``type_name``'s glyph into ``rect`` in the block's colour, lines in ``fg``."""
    hue = block_color(type_name)
    fill = QColor(hue)
    fill.setAlphaF(0.55 if dark else 0.35)
    painter.save()
    painter.setRenderHint(QPainter.Antialiasing)
    s = min(rect.width(), rect.height())
    painter.translate(rect.center().x() - s / 2, rect.center().y() - s / 2)
    painter.scale(s, s)
    pen = QPen(hue.lighter(130) if dark else hue.darker(115), max(1.2, s / 14) / s)
    pen.setCapStyle(Qt.RoundCap)
    pen.setJoinStyle(Qt.RoundJoin)
    painter.setPen(pen)
    painter.setBrush(Qt.NoBrush)
    for shape in _glyph(type_name):
        _draw(painter, shape, fill)
    painter.restore()


@lru_cache(maxsize=None)
def block_icon(type_name: str, dark: bool = False) -> QIcon:
    """A QIcon with pixmaps at the common sizes for 1× and 2× screens."""
    icon = QIcon()
    for size in (16, 20, 24, 32, 48):
        for dpr in (1.0, 2.0):
            pm = QPixmap(int(size * dpr), int(size * dpr))
            pm.setDevicePixelRatio(dpr)
            pm.fill(Qt.transparent)
            p = QPainter(pm)
            draw_glyph(p, QRectF(0, 0, size, size), type_name, QColor(), dark)
            p.end()
            icon.addPixmap(pm)
    return icon
