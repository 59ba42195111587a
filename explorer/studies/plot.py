"""A small line chart drawn with Pillow: axes with round-number ticks, lines with markers, error bars or a
shaded band, and a legend. Enough for a study's figure and loss curves without a plotting library or Qt."""
from __future__ import annotations

import io
import math
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFont

BACKGROUND = (255, 255, 255)
INK = (40, 40, 40)
GRID = (225, 225, 225)


@dataclass
class Series:
    label: str
    color: tuple[int, int, int]
    xs: list[float]
    ys: list[float]
    spread: list[float] | None = None    # ± this around each point: error bars and a band
    markers: bool = True
    width: int = 2


def _font(size: int):
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow without FreeType: the fixed bitmap font
        return ImageFont.load_default()


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """Round numbers covering [lo, hi]: steps of 1, 2 or 5 times a power of ten."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return [0.0, 1.0]
    if hi - lo < 1e-12:
        lo, hi = lo - 0.5 if lo else -0.5, hi + 0.5 if hi else 0.5
    raw = (hi - lo) / max(1, count)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw)
    first = math.floor(lo / step) * step
    ticks, v = [], first
    while v <= hi + step * 0.5:
        ticks.append(round(v, 12))
        v += step
    return ticks


def line_chart(series: list[Series], title: str, xlabel: str, ylabel: str, size=(640, 420), y_format="{:g}",
               x_ticks: list[float] | None = None, y_from_zero: bool = False, legend: bool = True) -> Image.Image:
    w, h = size
    img = Image.new("RGB", size, BACKGROUND)
    draw = ImageDraw.Draw(img, "RGBA")
    small, normal = _font(12), _font(14)
    left, right, top, bottom = 64, 16, 46, 48
    box = (left, top, w - right, h - bottom)
    xs = [x for s in series for x in s.xs]
    ys = [y + d for s in series for y, d in zip(s.ys, s.spread or [0] * len(s.ys))]
    ys += [y - d for s in series for y, d in zip(s.ys, s.spread or [0] * len(s.ys))]
    draw.text((w / 2, 8), title, fill=INK, font=normal, anchor="ma")
    draw.text(((box[0] + box[2]) / 2, h - 6), xlabel, fill=INK, font=small, anchor="md")
    draw.text((box[0], top - 4), ylabel, fill=INK, font=small, anchor="ld")
    if not xs:
        draw.rectangle(box, outline=INK)
        draw.text(((box[0] + box[2]) / 2, (box[1] + box[3]) / 2), "no data yet", fill=INK, font=normal, anchor="mm")
        return img
    xt = x_ticks or nice_ticks(min(xs), max(xs))
    yt = nice_ticks(min(0.0, min(ys)) if y_from_zero else min(ys), max(ys))
    x0, x1 = min(xt[0], min(xs)), max(xt[-1], max(xs))
    y0, y1 = yt[0], yt[-1]
    if x1 == x0:
        x0, x1 = x0 - 1, x1 + 1
    pad = 0.04 * (x1 - x0)  # points at the ends stay clear of the frame
    x0, x1 = x0 - pad, x1 + pad

    def px(x: float) -> float:
        return box[0] + (x - x0) / (x1 - x0) * (box[2] - box[0])

    def py(y: float) -> float:
        return box[3] - (y - y0) / (y1 - y0) * (box[3] - box[1])

    for y in yt:
        draw.line([(box[0], py(y)), (box[2], py(y))], fill=GRID)
        draw.text((box[0] - 6, py(y)), y_format.format(y), fill=INK, font=small, anchor="rm")
    for x in xt:
        if x0 <= x <= x1:
            draw.line([(px(x), box[3]), (px(x), box[3] + 4)], fill=INK)
            draw.text((px(x), box[3] + 6), f"{x:g}", fill=INK, font=small, anchor="ma")
    draw.rectangle(box, outline=INK)
    for s in series:
        pts = [(px(x), py(y)) for x, y in zip(s.xs, s.ys)]
        if s.spread and len(pts) > 1:
            band = [(px(x), py(y + d)) for x, y, d in zip(s.xs, s.ys, s.spread)]
            band += [(px(x), py(y - d)) for x, y, d in reversed(list(zip(s.xs, s.ys, s.spread)))]
            draw.polygon(band, fill=s.color + (45,))
        if s.spread:
            for (x, y, d) in zip(s.xs, s.ys, s.spread):
                if d > 0:
                    draw.line([(px(x), py(y - d)), (px(x), py(y + d))], fill=s.color, width=1)
                    for yy in (y - d, y + d):
                        draw.line([(px(x) - 4, py(yy)), (px(x) + 4, py(yy))], fill=s.color, width=1)
        if len(pts) > 1:
            draw.line(pts, fill=s.color, width=s.width, joint="curve")
        if s.markers or len(pts) == 1:
            for x, y in pts:
                draw.ellipse([x - 4, y - 4, x + 4, y + 4], fill=s.color, outline=BACKGROUND)
    if legend:
        _legend(draw, [s for s in series if s.label], box, small)
    return img


def _legend(draw, series: list[Series], box, font) -> None:
    """One row in the top margin, right-aligned, so it never hides a point."""
    if not series:
        return
    x, y = box[2], box[1] - 10
    for s in reversed(series):
        x -= draw.textlength(s.label, font=font)
        draw.text((x, y), s.label, fill=INK, font=font, anchor="lm")
        draw.line([(x - 22, y), (x - 4, y)], fill=s.color, width=3)
        x -= 34


def side_by_side(images: list[Image.Image]) -> Image.Image:
    w = sum(i.width for i in images)
    h = max(i.height for i in images)
    out = Image.new("RGB", (w, h), BACKGROUND)
    x = 0
    for i in images:
        out.paste(i, (x, 0))
        x += i.width
    return out


def png_bytes(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()
