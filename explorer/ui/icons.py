"""Block icons drawn with QPainter: one small picture per block type, each residual block in its own style.

Glyphs are vector drawings in a unit square, so the same function paints the palette icon and the
node face, sharp at any size and device pixel ratio. Colour and glyph are declared on
each block type; this module only knows how to draw the glyph styles.
"""
from __future__ import annotations

import math
from functools import lru_cache

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPainterPath, QPen, QPixmap

from explorer.blocks.registry import UnknownBlockError, get_block
from explorer.graph.catalog import BlockSpec

def block_color(type_name: str) -> QColor:
    """The hue a block type declares (grey for a type nobody registered)."""
    try:
        return QColor(get_block(type_name).color)
    except UnknownBlockError:
        return QColor(BlockSpec.color)


def _glyph_name(type_name: str) -> str:
    try:
        return get_block(type_name).glyph
    except UnknownBlockError:
        return BlockSpec.glyph


# -- glyphs: each draws into the unit square with painter ``p`` already scaled ----------------------
def _box(p, x, y, w, h, fill=None):
    r = QRectF(x, y, w, h)
    if fill is not None:
        p.fillRect(r, fill)
    p.drawRect(r)


def _skip_arc(p, x0=0.1, x1=0.9, y=0.62, top=0.08):
    path = QPainterPath(QPointF(x0, y))
    path.cubicTo(QPointF(x0, top), QPointF(x1, top), QPointF(x1, y))
    p.drawPath(path)


def _plus(p, cx, cy, r=0.1):
    p.drawEllipse(QPointF(cx, cy), r, r)
    p.drawLine(QPointF(cx - r * 0.6, cy), QPointF(cx + r * 0.6, cy))
    p.drawLine(QPointF(cx, cy - r * 0.6), QPointF(cx, cy + r * 0.6))


def _two_layers(p, c, widths=(0.16, 0.16), y=0.45, h=0.34):
    x = 0.22
    for w in widths:
        _box(p, x, y, w, h, c)
        x += w + 0.14


def _g_plain(p, c):
    _two_layers(p, c, y=0.33)
    p.drawLine(QPointF(0.05, 0.5), QPointF(0.22, 0.5))
    p.drawLine(QPointF(0.38, 0.5), QPointF(0.52, 0.5))
    p.drawLine(QPointF(0.68, 0.5), QPointF(0.95, 0.5))


def _g_basic(p, c):
    _two_layers(p, c)
    p.drawLine(QPointF(0.05, 0.62), QPointF(0.22, 0.62))
    p.drawLine(QPointF(0.68, 0.62), QPointF(0.78, 0.62))
    _skip_arc(p, 0.1, 0.86, 0.52)
    _plus(p, 0.86, 0.62)


def _g_bottleneck(p, c):
    path = QPainterPath(QPointF(0.14, 0.32))  # wide-narrow-wide hourglass: 1×1 reduce, 3×3, 1×1 expand
    for x, y in ((0.32, 0.52), (0.52, 0.52), (0.7, 0.32), (0.7, 0.92), (0.52, 0.72), (0.32, 0.72), (0.14, 0.92)):
        path.lineTo(QPointF(x, y))
    path.closeSubpath()
    p.fillPath(path, c)
    p.drawPath(path)
    _skip_arc(p, 0.08, 0.86, 0.5, 0.02)
    _plus(p, 0.86, 0.62)


def _g_preact(p, c):
    for x in (0.2, 0.54):  # BN-ReLU dot before each conv box
        p.drawEllipse(QPointF(x, 0.62), 0.05, 0.05)
        _box(p, x + 0.08, 0.45, 0.14, 0.34, c)
    p.drawLine(QPointF(0.05, 0.25), QPointF(0.95, 0.25))  # the clean identity path: a straight line
    p.drawLine(QPointF(0.05, 0.25), QPointF(0.05, 0.62))
    p.drawLine(QPointF(0.86, 0.25), QPointF(0.86, 0.52))
    _plus(p, 0.86, 0.62)


def _g_wide(p, c):
    _box(p, 0.12, 0.42, 0.28, 0.42, c)
    _box(p, 0.46, 0.42, 0.28, 0.42, c)
    _skip_arc(p, 0.06, 0.86, 0.52, 0.08)
    _plus(p, 0.86, 0.63)


def _g_resnext(p, c):
    for y in (0.34, 0.56, 0.78):  # parallel grouped paths
        _box(p, 0.28, y - 0.07, 0.36, 0.13, c)
        p.drawLine(QPointF(0.12, 0.56), QPointF(0.28, y))
        p.drawLine(QPointF(0.64, y), QPointF(0.8, 0.56))
    _skip_arc(p, 0.12, 0.86, 0.56, 0.0)
    _plus(p, 0.86, 0.56, 0.08)


def _g_dense(p, c):
    xs = (0.12, 0.38, 0.64, 0.9)
    for x in xs:
        _box(p, x - 0.06, 0.6, 0.12, 0.3, c)
    for i, a in enumerate(xs):  # every layer feeds every later one
        for b in xs[i + 1:]:
            path = QPointF(a, 0.6)
            arc = QPainterPath(path)
            h = 0.6 - (b - a) * 0.6
            arc.cubicTo(QPointF(a, h), QPointF(b, h), QPointF(b, 0.6))
            p.drawPath(arc)


def _g_transition(p, c):
    path = QPainterPath(QPointF(0.15, 0.15))  # a funnel: fewer channels, half the size
    for x, y in ((0.85, 0.35), (0.85, 0.65), (0.15, 0.85)):
        path.lineTo(QPointF(x, y))
    path.closeSubpath()
    p.fillPath(path, c)
    p.drawPath(path)


def _g_dual_path(p, c):
    _box(p, 0.3, 0.4, 0.3, 0.24, c)
    p.drawLine(QPointF(0.05, 0.3), QPointF(0.86, 0.3))  # residual track with its add
    _plus(p, 0.86, 0.3, 0.08)
    p.drawLine(QPointF(0.05, 0.82), QPointF(0.7, 0.82))  # dense track ending in a concat
    _box(p, 0.7, 0.72, 0.06, 0.2, c)
    _box(p, 0.78, 0.72, 0.06, 0.2, c)
    p.drawLine(QPointF(0.45, 0.64), QPointF(0.45, 0.82))


def _g_weighted(p, c):
    _two_layers(p, c)
    _skip_arc(p, 0.1, 0.86, 0.52)
    _plus(p, 0.86, 0.62)
    d = QPainterPath(QPointF(0.76, 0.5))  # the learnable scale on the branch
    for x, y in ((0.8, 0.44), (0.84, 0.5), (0.8, 0.56)):
        d.lineTo(QPointF(x, y))
    d.closeSubpath()
    p.fillPath(d, p.pen().color())


def _g_highway(p, c):
    _two_layers(p, c)
    _skip_arc(p, 0.1, 0.86, 0.52)
    _plus(p, 0.86, 0.62)
    p.drawLine(QPointF(0.42, 0.1), QPointF(0.52, 0.28))  # a gate on the shortcut: an open switch
    p.drawEllipse(QPointF(0.42, 0.1), 0.03, 0.03)


def _g_conv(p, c):
    _box(p, 0.18, 0.18, 0.64, 0.64, c)
    for t in (0.39, 0.61):
        p.drawLine(QPointF(t, 0.18), QPointF(t, 0.82))
        p.drawLine(QPointF(0.18, t), QPointF(0.82, t))


def _g_bn(p, c):
    path = QPainterPath(QPointF(0.08, 0.82))
    for i in range(1, 41):
        x = 0.08 + 0.84 * i / 40
        path.lineTo(QPointF(x, 0.82 - 0.6 * math.exp(-((x - 0.5) / 0.16) ** 2)))
    p.drawPath(path)


def _g_act(p, c):
    p.drawLine(QPointF(0.1, 0.75), QPointF(0.5, 0.75))
    p.drawLine(QPointF(0.5, 0.75), QPointF(0.9, 0.2))


def _g_pool(p, c):
    for dx in (0, 0.22):
        for dy in (0, 0.22):
            _box(p, 0.1 + dx, 0.28 + dy, 0.2, 0.2, c)
    p.drawLine(QPointF(0.58, 0.5), QPointF(0.7, 0.5))
    _box(p, 0.72, 0.4, 0.2, 0.2, c)


def _g_gpool(p, c):
    _box(p, 0.1, 0.25, 0.45, 0.5, c)
    p.drawLine(QPointF(0.6, 0.5), QPointF(0.72, 0.5))
    p.setBrush(c)
    p.drawEllipse(QPointF(0.82, 0.5), 0.07, 0.07)
    p.setBrush(Qt.NoBrush)


def _g_linear(p, c):
    left, right = (0.25, 0.5, 0.75), (0.35, 0.65)
    for a in left:
        for b in right:
            p.drawLine(QPointF(0.2, a), QPointF(0.8, b))
    p.setBrush(c)
    for a in left:
        p.drawEllipse(QPointF(0.2, a), 0.07, 0.07)
    for b in right:
        p.drawEllipse(QPointF(0.8, b), 0.07, 0.07)
    p.setBrush(Qt.NoBrush)


def _g_flatten(p, c):
    _box(p, 0.1, 0.25, 0.35, 0.5, c)
    p.drawLine(QPointF(0.52, 0.5), QPointF(0.62, 0.5))
    _box(p, 0.68, 0.1, 0.1, 0.8, c)


def _g_dropout(p, c):
    for i, y in enumerate((0.2, 0.4, 0.6, 0.8)):
        for j, x in enumerate((0.25, 0.5, 0.75)):
            if (i + j) % 3 == 1:
                continue  # dropped units
            p.setBrush(c)
            p.drawEllipse(QPointF(x, y), 0.07, 0.07)
    p.setBrush(Qt.NoBrush)


def _g_merge(symbol):
    def draw(p, c):
        p.setBrush(c)
        p.drawEllipse(QPointF(0.5, 0.5), 0.32, 0.32)
        p.setBrush(Qt.NoBrush)
        if symbol in "+-":
            p.drawLine(QPointF(0.32, 0.5), QPointF(0.68, 0.5))
        if symbol == "+":
            p.drawLine(QPointF(0.5, 0.32), QPointF(0.5, 0.68))
        if symbol == "x":
            p.drawLine(QPointF(0.37, 0.37), QPointF(0.63, 0.63))
            p.drawLine(QPointF(0.37, 0.63), QPointF(0.63, 0.37))
    return draw


def _g_concat(p, c):
    _box(p, 0.2, 0.2, 0.26, 0.6, c)
    _box(p, 0.54, 0.2, 0.26, 0.6, c)


def _g_scale(p, c):
    d = QPainterPath(QPointF(0.5, 0.15))
    for x, y in ((0.85, 0.5), (0.5, 0.85), (0.15, 0.5)):
        d.lineTo(QPointF(x, y))
    d.closeSubpath()
    p.fillPath(d, c)
    p.drawPath(d)


def _g_zeropad(p, c):
    _box(p, 0.15, 0.15, 0.7, 0.7)
    _box(p, 0.3, 0.3, 0.4, 0.4, c)


def _g_slice(p, c):
    _box(p, 0.2, 0.15, 0.6, 0.7)
    _box(p, 0.2, 0.15, 0.6, 0.3, c)


def _g_io(into: bool):
    def draw(p, c):
        p.setBrush(c)
        path = QPainterPath(QPointF(0.15, 0.35))
        for x, y in ((0.55, 0.35), (0.55, 0.18), (0.88, 0.5), (0.55, 0.82), (0.55, 0.65), (0.15, 0.65)):
            path.lineTo(QPointF(x, y))
        path.closeSubpath()
        p.drawPath(path)
        p.setBrush(Qt.NoBrush)
        p.drawLine(QPointF(0.08 if into else 0.92, 0.12), QPointF(0.08 if into else 0.92, 0.88))
    return draw


GLYPHS = {  # drawing styles, named for what they show; block types choose one with ``glyph``
    "two_layers": _g_plain, "two_layers_skip": _g_basic, "narrow_middle_skip": _g_bottleneck,
    "preact_skip": _g_preact, "wide_skip": _g_wide, "parallel_paths": _g_resnext, "concat_stack": _g_dense,
    "shrink": _g_transition, "dual_paths": _g_dual_path, "scaled_skip": _g_weighted, "gated_skip": _g_highway,
    "kernel_grid": _g_conv, "box": _g_conv, "bell": _g_bn, "ramp": _g_act, "pool": _g_pool,
    "global_pool": _g_gpool, "fully_connected": _g_linear, "unroll": _g_flatten, "dropped_units": _g_dropout,
    "plus": _g_merge("+"), "minus": _g_merge("-"), "times": _g_merge("x"), "stacked": _g_concat,
    "scalar": _g_scale, "pad": _g_zeropad, "slice": _g_slice,
    "arrow_in": _g_io(True), "arrow_out": _g_io(False),
}


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
    GLYPHS.get(_glyph_name(type_name), _g_conv)(painter, fill)
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
