"""How a block type is drawn: its glyph as plain data, a few drawing primitives in a unit square.

Each block type declares ``glyph`` in its own module as a tuple of the shapes below (x right, y down,
0..1), so a new block type brings its own picture and nothing elsewhere names it. The window's icon code
(``explorer.ui.icons``) is the only painter: the same data draws the palette icon and the node face,
sharp at any size. No Qt here, so the registry stays below the window.

``fill`` says what a closed shape is filled with: ``NONE``, the block's own hue (``HUE``) or the line
colour (``INK``, for small solid marks such as a learnable scale).
"""
from __future__ import annotations

from dataclasses import dataclass

Point = tuple[float, float]

NONE, HUE, INK = "none", "hue", "ink"


@dataclass(frozen=True)
class Rect:
    """The box from (x, y), w wide and h high; with ``oval`` the ellipse inside it."""

    x: float
    y: float
    w: float
    h: float
    fill: str = HUE
    oval: bool = False


@dataclass(frozen=True)
class Poly:
    """A polyline through ``points``; closed (and filled) unless ``closed`` is False."""

    points: tuple[Point, ...]
    closed: bool = True
    fill: str = HUE


@dataclass(frozen=True)
class Curve:
    """A cubic Bézier from ``start`` to ``end`` with control points ``c1`` and ``c2``."""

    start: Point
    c1: Point
    c2: Point
    end: Point


Glyph = tuple  # of the shapes above, drawn in order


def Circle(cx: float, cy: float, r: float, fill: str = NONE) -> Rect:  # noqa: N802 (reads as a shape)
    """The circle of radius ``r`` around (cx, cy)."""
    return Rect(cx - r, cy - r, 2 * r, 2 * r, fill, oval=True)


def Line(x0: float, y0: float, x1: float, y1: float) -> Poly:  # noqa: N802 (reads as a shape)
    """The straight line from (x0, y0) to (x1, y1)."""
    return Poly(((x0, y0), (x1, y1)), closed=False, fill=NONE)


# -- pieces several residual blocks draw ------------------------------------------------------------
def skip_arc(x0: float = 0.1, x1: float = 0.9, y: float = 0.62, top: float = 0.08) -> Glyph:
    """The shortcut: an arc over the branch."""
    return (Curve((x0, y), (x0, top), (x1, top), (x1, y)),)


def plus(cx: float, cy: float, r: float = 0.1) -> Glyph:
    """The residual add: a circled plus."""
    return (Circle(cx, cy, r), Line(cx - r * 0.6, cy, cx + r * 0.6, cy), Line(cx, cy - r * 0.6, cx, cy + r * 0.6))


def layers(widths: tuple[float, ...] = (0.16, 0.16), y: float = 0.45, h: float = 0.34) -> Glyph:
    """Weight layers side by side, as boxes from x = 0.22."""
    out, x = [], 0.22
    for w in widths:
        out.append(Rect(x, y, w, h))
        x += w + 0.14
    return tuple(out)


def residual(extra: Glyph = ()) -> Glyph:
    """Two layers, the skip arc and the add: the basic residual block, plus ``extra`` marks."""
    return layers() + skip_arc(0.1, 0.86, 0.52) + plus(0.86, 0.62) + extra


def grid_box() -> Glyph:
    """A box with a 3×3 grid: a weight layer, and the picture of a type that declares none."""
    lines = [Line(t, 0.18, t, 0.82) for t in (0.39, 0.61)] + [Line(0.18, t, 0.82, t) for t in (0.39, 0.61)]
    return (Rect(0.18, 0.18, 0.64, 0.64), *lines)


DEFAULT = grid_box()
