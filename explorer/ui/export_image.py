"""Export the graph picture as PNG or SVG: every node at full detail, no selection, theme background.

The picture is cut to what is drawn (nodes, edges, skip arcs and labels) plus a small margin, not to
the canvas's room for arcs that may not be there.

PNG is rendered at 2× for sharp text, scaled down for graphs that would exceed ``MAX_SIDE`` pixels;
SVG is vector. Both are rendered into memory and written with the shared atomic writer.
"""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QRectF, QSize, Qt
from PySide6.QtGui import QImage, QPainter

from explorer.util.atomic import write_atomic

MAX_SIDE = 16000
MARGIN = 30.0


@contextmanager
def _print_state(scene):
    """Full detail, nothing selected, for the duration of the export; everything restored after."""
    overview = scene.overview
    selected = scene.selected_node_ids()
    scene.blockSignals(True)  # the inspector should not notice a selection that lasts one render
    items = list(scene.nodes.values())
    edges = list(scene.edges.values())
    chosen_edges = [e for e in edges if e.isSelected()]
    try:
        scene.clearSelection()
        for e in edges:   # the selection's edges are lit by the scene's own signal, blocked here
            e.set_highlight(False)
        scene.set_overview(False)
        for item in items:  # cached pixmaps would go into the file as bitmaps: draw vectors instead
            item.setCacheMode(item.CacheMode.NoCache)
        yield
    finally:
        for item in items:
            item.setCacheMode(item.CacheMode.DeviceCoordinateCache)
        scene.set_overview(overview)
        for nid in selected:
            if nid in scene.nodes:
                scene.nodes[nid].setSelected(True)
        for e in chosen_edges:
            e.setSelected(True)
        for e in edges:
            e.set_highlight(e.src_item.isSelected() or e.dst_item.isSelected())
        scene.blockSignals(False)


def _source(scene) -> QRectF:
    drawn = QRectF()
    for item in list(scene.nodes.values()) + list(scene.edges.values()):
        drawn = drawn.united(item.sceneBoundingRect())
    if drawn.isEmpty():
        drawn = scene.content_rect()
    return drawn.adjusted(-MARGIN, -MARGIN, MARGIN, MARGIN)


def render_image(scene, scale: float = 2.0) -> QImage:
    src = _source(scene)
    scale = min(scale, MAX_SIDE / max(src.width(), src.height(), 1.0))
    size = QSize(max(1, int(src.width() * scale)), max(1, int(src.height() * scale)))
    img = QImage(size, QImage.Format_ARGB32_Premultiplied)
    img.fill(scene.style.theme.canvas)
    with _print_state(scene):
        p = QPainter(img)
        p.setRenderHints(QPainter.Antialiasing | QPainter.TextAntialiasing | QPainter.SmoothPixmapTransform)
        scene.render(p, QRectF(0, 0, size.width(), size.height()), src, Qt.KeepAspectRatio)
        p.end()
    return img


def export_png(scene, path, scale: float = 2.0) -> Path:
    path = Path(path)
    if path.suffix.lower() != ".png":
        path = path.with_suffix(".png")
    img = render_image(scene, scale)
    data = QByteArray()
    buf = QBuffer(data)
    buf.open(QIODevice.WriteOnly)
    if not img.save(buf, "PNG"):
        raise OSError(f"could not encode {path.name} as PNG")
    buf.close()
    write_atomic(path, bytes(data))
    return path


def export_svg(scene, path) -> Path:
    from PySide6.QtSvg import QSvgGenerator

    path = Path(path)
    if path.suffix.lower() != ".svg":
        path = path.with_suffix(".svg")
    src = _source(scene)
    data = QByteArray()
    buf = QBuffer(data)
    buf.open(QIODevice.WriteOnly)
    gen = QSvgGenerator()
    gen.setOutputDevice(buf)
    gen.setSize(QSize(int(src.width()), int(src.height())))
    gen.setViewBox(QRectF(0, 0, src.width(), src.height()))
    gen.setTitle(scene.graph.name)
    gen.setDescription("Residual Explorer graph")
    with _print_state(scene):
        p = QPainter(gen)
        p.fillRect(QRectF(0, 0, src.width(), src.height()), scene.style.theme.canvas)
        scene.render(p, QRectF(0, 0, src.width(), src.height()), src, Qt.KeepAspectRatio)
        p.end()
    buf.close()
    if not data.size():
        raise OSError(f"could not render {path.name} as SVG")
    write_atomic(path, bytes(data))
    return path
