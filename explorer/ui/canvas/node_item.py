"""A node on the canvas: icon, type, key parameters, parameter count; red with a tooltip when invalid.

The item is a view of one ``Node`` plus its ``NodeInfo``: ``set_node`` and ``set_info`` take new values
and repaint only when something visible changed. It draws itself at three levels of detail (full,
title only, bare box) and caches its picture in device coordinates, so panning blits pixmaps instead
of calling Python for every node.

Text is never cut: the parameter line wraps at its commas (the node grows a line taller for each
wrapped line, up to ``MAX_DETAIL_LINES``), and zoomed out the big title wraps at its spaces. Where
each line goes is computed once per change (``text_lines``), and painting draws exactly that.
"""
from __future__ import annotations

from functools import lru_cache

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetricsF, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem

from explorer.blocks.registry import UnknownBlockError, get_block
from explorer.graph.model import Node
from explorer.ui.canvas.port_item import RADIUS, Port
from explorer.ui.icons import block_color, draw_glyph

NODE_W, NODE_H = 180.0, 64.0   # NODE_H: the height of a node whose parameters fit on one line
LINE_H = 14.0                  # each further line of parameters makes the node this much taller
MAX_DETAIL_LINES = 3
MAX_NODE_H = NODE_H + (MAX_DETAIL_LINES - 1) * LINE_H
FROZEN_STRIP_H = 5.0           # a frozen node (fine-tuning): a grey strip on its top edge and a lock
FULL_DETAIL = 0.5    # below this zoom only the title is drawn (the window fits its graph at least this close)
TITLE_ONLY = 0.22    # below this a coloured box
TEXT_LEFT, TEXT_RIGHT = 32.0, 5.0   # the text column: right of the colour band and glyph
_FONTS: dict[tuple[float, bool], QFont] = {}


def node_font(size: float, bold: bool = False) -> QFont:
    """The fonts nodes draw with, made once (the application font at a fixed point size)."""
    key = (size, bold)
    if key not in _FONTS:
        f = QFont()
        f.setPointSizeF(size)
        f.setBold(bold)
        _FONTS[key] = f
    return _FONTS[key]


def wrap_text(text: str, fm: QFontMetricsF, width: float, max_lines: int, sep: str = ", ") -> list[str]:
    """``text`` in lines at most ``width`` wide, broken after ``sep`` (then at spaces, for a part too
    long on its own); only what does not fit in ``max_lines`` is elided."""
    parts = text.split(sep)
    units: list[str] = []
    for i, part in enumerate(parts):
        unit = part + (sep.rstrip() if i < len(parts) - 1 else "")
        units += unit.split(" ") if fm.horizontalAdvance(unit) > width else [unit]
    lines: list[str] = []
    for unit in units:
        trial = f"{lines[-1]} {unit}" if lines else unit
        if lines and fm.horizontalAdvance(trial) <= width:
            lines[-1] = trial
        else:
            lines.append(unit)
    if len(lines) > max_lines:
        lines = lines[:max_lines - 1] + [" ".join(lines[max_lines - 1:])]
    return [fm.elidedText(line, Qt.ElideRight, width) for line in lines]


@lru_cache(maxsize=8192)
def wrapped(text: str, size: float, bold: bool, width: float, max_lines: int, sep: str = ", ") -> tuple[str, ...]:
    """``wrap_text`` in ``node_font(size, bold)``, remembered: a big graph repeats the same few texts (each
    BatchNorm's "32 params"); measuring each again cost about 5 % of opening a 20k-node chain."""
    return tuple(wrap_text(text, QFontMetricsF(node_font(size, bold)), width, max_lines, sep))


def human(n: int) -> str:
    """14528 -> '14.5k'; 19421274 -> '19.4M'."""
    for unit, div in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if n >= div:
            v = n / div
            return f"{v:.1f}{unit}" if v < 100 else f"{v:.0f}{unit}"
    return str(n)


class NodeItem(QGraphicsItem):
    def __init__(self, node: Node, style, editable: bool = True):
        super().__init__()
        self.node_id = node.id
        self.style = style  # the scene's CanvasStyle: theme, direction
        # No itemChange hook: a Python call for every property change of thousands of nodes is what
        # made opening slow. The scene moves attached edges itself (drag and model events).
        flags = QGraphicsItem.ItemIsSelectable
        if editable:
            flags |= QGraphicsItem.ItemIsMovable
        self.setFlags(flags)
        self.setCacheMode(QGraphicsItem.DeviceCoordinateCache)
        self.setAcceptHoverEvents(editable)
        self.edges: list = []  # EdgeItems attached to this node, kept by the scene
        self._type = ""
        self._params: dict = {}
        self._repeat = 1
        self._title = self._detail = ""
        self._detail_lines: list[str] = []
        self._body = QRectF(-NODE_W / 2, -NODE_H / 2, NODE_W, NODE_H)
        self._bounds = self._body.adjusted(-10, -10, 10, 10)
        self._composite = False
        self._cost_text = ""
        self._severity = ""   # "", "warning", "error"
        self._frozen = False  # kept fixed while training: the training settings say so (set_frozen)
        self._tooltip_stale = True
        self.problems: list[str] = []
        self.in_port = self.out_port = None
        self.set_node(node)
        self.setPos(QPointF(*node.pos))

    # -- model -> view --------------------------------------------------------------------------
    def set_node(self, node: Node) -> None:
        if (node.type, node.params, node.repeat) == (self._type, self._params, self._repeat):
            return
        self._type, self._params, self._repeat = node.type, dict(node.params), node.repeat
        try:
            block = get_block(node.type)
            self._title = block.title
            self._detail = block.describe(node.params)
            self._composite = block.composite
            has_in, has_out = block.max_inputs > 0, block.has_output
        except UnknownBlockError:
            self._title, self._detail, self._composite, has_in, has_out = node.type, "unknown block", False, True, True
        if has_in and self.in_port is None:
            self.in_port = Port(self, "in")
        if has_out and self.out_port is None:
            self.out_port = Port(self, "out")
        self._detail_lines = list(wrapped(self._detail, 7.5, False, self._text_width(), MAX_DETAIL_LINES))
        height = NODE_H + (max(1, len(self._detail_lines)) - 1) * LINE_H
        resized = height != self._body.height()
        if resized:
            self.prepareGeometryChange()
            self._body = QRectF(-NODE_W / 2, -height / 2, NODE_W, height)
            self._bounds = self._body.adjusted(-10, -10, 10, 10)  # ports stick out
        self.place_ports()
        if resized:  # top-down, the ports moved with the top and bottom edges
            for e in self.edges:
                e.update_path()
        self._refresh_tooltip()
        self.update()

    def set_info(self, info) -> None:
        """Cost and problems from the analysis; repaint only when they changed."""
        cost = f"{human(info.cost.params)} params" if info and info.out_shape is not None else ""
        if info and info.cost.macs and info.out_shape is not None:
            cost += f" · {human(info.cost.macs)} MACs"
        problems = [p.message + (f" — {p.fix}" if p.fix else "") for p in (info.problems if info else [])]
        severity = ""
        if info and info.problems:
            severity = "error" if any(p.severity == "error" for p in info.problems) else "warning"
        if (cost, problems, severity) == (self._cost_text, self.problems, self._severity):
            return
        self._cost_text, self.problems, self._severity = cost, problems, severity
        self._refresh_tooltip()
        self.update()

    def set_frozen(self, on: bool) -> None:
        if on != self._frozen:
            self._frozen = on
            self.update()

    @property
    def frozen(self) -> bool:
        return self._frozen

    def lock_rect(self) -> QRectF:
        """Where the lock of a frozen node is drawn: in the strip, at the right."""
        b = self._body
        return QRectF(b.right() - 22, b.top() + 1, 14, 14)

    @property
    def severity(self) -> str:
        return self._severity

    @property
    def type_name(self) -> str:
        return self._type

    def _refresh_tooltip(self) -> None:
        # Built when the pointer arrives (hoverEnterEvent), not for each of thousands of nodes on open.
        self._tooltip_stale = True

    def tooltip_text(self) -> str:
        from html import escape

        badge = f" ×{self._repeat}" if self._repeat > 1 else ""
        lines = [f"<b>{escape(self._title)}{badge}</b> &nbsp;<i>{self.node_id}</i>"]
        if self._detail:
            lines.append(escape(self._detail))
        lines += [f"<span style='color:#d93025'>⚠ {escape(p)}</span>" for p in self.problems]
        if self._composite:
            lines.append("<small>Double-click to see inside</small>")
        return "<br>".join(lines)

    def port_at(self, scene_pos: QPointF) -> Port | None:
        for port in (self.out_port, self.in_port):
            if port is not None and port.contains(scene_pos):
                return port
        return None

    def place_ports(self) -> None:
        lr, half = self.style.direction == "LR", self._body.height() / 2
        if self.in_port is not None:
            self.in_port.setPos(QPointF(-NODE_W / 2, 0) if lr else QPointF(0, -half))
        if self.out_port is not None:
            self.out_port.setPos(QPointF(NODE_W / 2, 0) if lr else QPointF(0, half))

    def body_rect(self) -> QRectF:
        """The node's box in item coordinates (its height follows the lines of parameters)."""
        return QRectF(self._body)

    def _text_width(self) -> float:
        return NODE_W - TEXT_LEFT - TEXT_RIGHT

    def _badge_width(self, size: float) -> float:
        if self._repeat <= 1:
            return 0.0
        fm = QFontMetricsF(node_font(size, True))
        return fm.horizontalAdvance(f"×{self._repeat}") + size + 6

    def text_lines(self, lod: float = 1.0) -> list[tuple[QRectF, QFont, str]]:
        """Every line of text the node draws at zoom ``lod``: where (item coordinates), in which font,
        what. Each rect is inside the body and each text fits its rect."""
        body = self._body
        if lod < TITLE_ONLY:
            return []
        if lod < FULL_DETAIL:  # zoomed out: only the title, big, wrapped at spaces
            f = node_font(12.0, True)
            fm = QFontMetricsF(f)
            w = body.width() - 18 - self._badge_width(13.0)
            lines = wrapped(self._title, 12.0, True, w, max(1, int((body.height() - 8) // fm.height())), sep=" ")
            h = fm.height()
            top = body.center().y() - h * len(lines) / 2
            return [(QRectF(body.left() + 12, top + i * h, w, h), f, line) for i, line in enumerate(lines)]
        x, w = body.left() + TEXT_LEFT, self._text_width()
        title_f, small = node_font(8.5, True), node_font(7.5)
        out = [(QRectF(x, body.top() + 7, w, 16), title_f,
                QFontMetricsF(title_f).elidedText(self._title, Qt.ElideRight, w))]
        for i, line in enumerate(self._detail_lines):
            out.append((QRectF(x, body.top() + 24 + i * LINE_H, w, LINE_H), small, line))
        bottom = self._cost_text if not self._severity else ("⚠ " + self.problems[0])
        bw = body.width() - 18  # the repeat badge straddles the bottom edge, below this line
        out.append((QRectF(body.left() + 12, body.bottom() - 22, bw, LINE_H), small,
                    QFontMetricsF(small).elidedText(bottom, Qt.ElideRight, bw)))
        return out

    def in_anchor(self) -> QPointF:
        return self.mapToScene(self.in_port.pos()) if self.in_port is not None else self.scenePos()

    def out_anchor(self) -> QPointF:
        return self.mapToScene(self.out_port.pos()) if self.out_port is not None else self.scenePos()

    # -- QGraphicsItem --------------------------------------------------------------------------
    def boundingRect(self) -> QRectF:
        return self._bounds

    def shape(self) -> QPainterPath:
        path = QPainterPath()
        path.setFillRule(Qt.WindingFill)  # the port discs overlap the body; odd-even would cut holes
        path.addRect(self._body)
        for port in (self.in_port, self.out_port):
            if port is not None:
                path.addEllipse(port.pos(), RADIUS + 4, RADIUS + 4)
        return path

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget=None) -> None:
        theme = self.style.theme
        lod = option.levelOfDetailFromTransform(painter.worldTransform())
        hue = theme.block_color(block_color(self._type))
        selected = self.isSelected()
        border = theme.accent if selected else theme.error if self._severity == "error" else \
            theme.warning if self._severity == "warning" else theme.node_border
        fill = theme.error_fill if self._severity == "error" else theme.node
        body = self._body
        if lod < TITLE_ONLY:
            painter.fillRect(body, border if (selected or self._severity) else hue)
            return
        self._paint_face(painter, lod, theme, hue, selected, border, fill, body)
        self._paint_ports(painter, theme)

    def _paint_face(self, painter, lod, theme, hue, selected, border, fill, body) -> None:
        painter.setRenderHint(QPainter.Antialiasing)
        painter.setPen(QPen(border, 3.0 if selected else 2.0 if self._severity else 1.0))
        painter.setBrush(fill)
        painter.drawRoundedRect(body, 7, 7)
        # the block's colour as a band on the left edge: the same hue as its palette icon
        band = QPainterPath()
        band.addRoundedRect(QRectF(body.left(), body.top(), 7, body.height()), 3.5, 3.5)
        painter.fillPath(band, hue)
        if self._composite:  # a composite block has an inside: a second outline says "there is more"
            painter.setPen(QPen(hue, 1.0, Qt.DashLine))
            painter.setBrush(Qt.NoBrush)
            painter.drawRoundedRect(body.adjusted(3, 3, -3, -3), 5, 5)
        big = lod < FULL_DETAIL  # zoomed out: only the title, in a bigger font
        if self._repeat > 1:
            self._paint_badge(painter, hue, body, 13.0 if big else 8.0)
        if self._frozen:
            self._paint_frozen(painter, theme, body)
        if not big:
            draw_glyph(painter, QRectF(body.left() + 10, body.top() + 8, 20, 20), self._type, theme.text, theme.dark)
        lines = self.text_lines(lod)
        for i, (rect, font, text) in enumerate(lines):
            last = i == len(lines) - 1 and not big
            painter.setFont(font)
            painter.setPen((theme.error if self._severity == "error" else theme.text_dim) if last else theme.text)
            painter.drawText(rect, Qt.AlignLeft | Qt.AlignVCenter, text)

    def _paint_frozen(self, painter: QPainter, theme, body: QRectF) -> None:
        """A grey strip along the top edge and a padlock: these weights do not train."""
        grey = QColor(128, 128, 128)
        strip = QPainterPath()
        strip.addRoundedRect(QRectF(body.left() + 7, body.top(), body.width() - 7, FROZEN_STRIP_H), 2, 2)
        painter.fillPath(strip, grey)
        r = self.lock_rect()
        painter.setPen(QPen(grey.darker(140), 1.6))
        painter.setBrush(Qt.NoBrush)
        painter.drawArc(QRectF(r.left() + 3, r.top(), r.width() - 6, r.height() * 0.7), 0, 180 * 16)
        painter.setPen(Qt.NoPen)
        painter.setBrush(grey.darker(140))
        painter.drawRoundedRect(QRectF(r.left() + 1, r.top() + r.height() * 0.4, r.width() - 2, r.height() * 0.6), 2, 2)

    def _paint_badge(self, painter: QPainter, hue, body: QRectF, size: float) -> float:
        """The repeat count of a stage as a pill at the right; returns its width."""
        f = QFont(painter.font())
        f.setPointSizeF(size)
        f.setBold(True)
        text = f"×{self._repeat}"
        fm = QFontMetricsF(f)
        w, h = fm.horizontalAdvance(text) + size, fm.height() + 2
        # full detail: on the bottom edge, under the text; zoomed out: beside the big title
        top = body.bottom() - h / 2 if size < 10 else body.center().y() - h / 2
        r = QRectF(body.right() - w - 6, top, w, h)
        painter.setPen(Qt.NoPen)
        painter.setBrush(hue)
        painter.drawRoundedRect(r, h / 2, h / 2)
        painter.setFont(f)
        painter.setPen(Qt.white)
        painter.drawText(r, Qt.AlignCenter, text)
        return w + 6

    def _paint_ports(self, painter: QPainter, theme) -> None:
        colors = {"accept": theme.accept, "refuse": theme.refuse, "hover": theme.accent}
        for port in (self.in_port, self.out_port):
            if port is None:
                continue
            c = colors.get(port.state, theme.port)
            painter.setPen(QPen(c.darker(120), 1.2))
            painter.setBrush(QBrush(c if port.state else theme.node))
            painter.drawEllipse(port.pos(), port.radius(), port.radius())

    def hoverEnterEvent(self, event):
        if self._tooltip_stale:
            self._tooltip_stale = False
            self.setToolTip(self.tooltip_text())
        super().hoverEnterEvent(event)

    def hoverMoveEvent(self, event):
        port = self.port_at(event.scenePos())
        for p in (self.in_port, self.out_port):
            if p is not None and p.state in ("", "hover"):
                p.set_state("hover" if p is port else "")
        self.setCursor(Qt.CrossCursor if port is not None else Qt.OpenHandCursor)
        super().hoverMoveEvent(event)

    def hoverLeaveEvent(self, event):
        for p in (self.in_port, self.out_port):
            if p is not None and p.state == "hover":
                p.set_state("")
        super().hoverLeaveEvent(event)
