"""The canvas tells the story (issue 10, items 7, 8, 9, 11, 12), through real mouse and keyboard events:
refused connections say why at the cursor; node text fits its box at every zoom, edge labels sit clear
of nodes, the exported PNG is cut to the picture; inside views read like the paper's figure (shortcut
around the main branch, many layers in bands that fit the view, a short chain on one row); paste and
duplicate land clear of the originals; the layout direction belongs to the document."""
import json

import pytest
from PySide6.QtCore import QPoint, QPointF, QRectF, Qt
from PySide6.QtGui import QFontMetricsF, QImage
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from explorer.blocks.registry import all_blocks, get_block
from explorer.graph import Graph
from explorer.graph.fileio import FileFormatError, from_dict, loads_graph, to_dict
from explorer.ui.canvas.interactions import LinkHint
from explorer.ui.canvas.scene import READABLE_ZOOM, layers_fit

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _view_point(w, scene_point: QPointF) -> QPoint:
    return w.view.mapFromScene(scene_point)


def _port(w, node_id, kind) -> QPoint:
    item = w.scene.nodes[node_id]
    return _view_point(w, (item.out_port if kind == "out" else item.in_port).scenePos())


def _show_both(w, a, b, zoom=0.5):
    w.view.set_zoom(zoom)
    pa, pb = w.scene.nodes[a].scenePos(), w.scene.nodes[b].scenePos()
    w.view.centerOn((pa + pb) / 2)
    QApplication.processEvents()


def _hints(w) -> list[str]:
    return [i.text for i in w.scene.items() if isinstance(i, LinkHint) and i.text]


def _body(item) -> QRectF:
    return item.mapRectToScene(item.body_rect())


# Geometry tests in plain Python: PySide 6.12 on Python 3.11 under-counts the bools its methods
# return, and thousands of QRectF.contains calls end the interpreter (see explorer/ui/compat.py).
def _box(r: QRectF) -> tuple[float, float, float, float]:
    return r.left(), r.top(), r.right(), r.bottom()


def _inside(x: float, y: float, box) -> bool:
    return box[0] < x < box[2] and box[1] < y < box[3]


def _meet(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _chain(n_middle: int) -> Graph:
    g = Graph(name="chain")
    g.add_node("input", {"shape": [1, 8, 8]}, node_id="input")
    prev = "input"
    for i in range(n_middle):
        nid = g.add_node("activation", node_id=f"act{i}")
        g.connect(prev, nid)
        prev = nid
    g.add_node("output", node_id="output")
    g.connect(prev, "output")
    return g


# -- 7: refused connections say why, beside the cursor -----------------------------------------------
def test_hovering_an_invalid_target_shows_the_reason_at_the_cursor(make_window):
    w = make_window()
    g = w.document.graph
    edges = set(g.edges)
    _show_both(w, "stem_relu", "stem_conv")
    vp = w.view.viewport()
    start, end = _port(w, "stem_relu", "out"), _port(w, "stem_conv", "in")
    QTest.mousePress(vp, Qt.LeftButton, Qt.NoModifier, start)
    QTest.mouseMove(vp, (start + end) / 2)
    QTest.mouseMove(vp, end)
    hints = _hints(w)
    assert len(hints) == 1 and "cycle" in hints[0]
    hint = next(i for i in w.scene.items() if isinstance(i, LinkHint) and i.text)
    # beside the cursor, inside the canvas (not in the status bar, which a summary can crowd out)
    box = w.view.mapFromScene(hint.scenePos())
    assert (box - end).manhattanLength() <= 2
    drawn = hint.deviceTransform(w.view.viewportTransform()).mapRect(hint.boundingRect())
    assert 0 <= drawn.left() and drawn.right() <= vp.width() and 0 <= drawn.top() and drawn.bottom() <= vp.height(), \
        "the reason box leaves the canvas"
    assert drawn.top() - end.y() < 60 and abs(drawn.left() - end.x()) < 400
    QTest.mouseRelease(vp, Qt.LeftButton, Qt.NoModifier, end)
    QApplication.processEvents()
    assert _hints(w) == [] and not any(isinstance(i, LinkHint) for i in w.scene.items())
    # a taken input port
    _show_both(w, "stem_conv", "stem_relu")
    start, taken = _port(w, "stem_conv", "out"), _port(w, "stem_relu", "in")
    QTest.mousePress(vp, Qt.LeftButton, Qt.NoModifier, start)
    QTest.mouseMove(vp, (start + taken) / 2)
    QTest.mouseMove(vp, taken)
    hints = _hints(w)
    assert len(hints) == 1 and "already connected" in hints[0]
    QTest.mouseMove(vp, taken + QPoint(0, 3))  # the reason follows the cursor
    hint = next(i for i in w.scene.items() if isinstance(i, LinkHint) and i.text)
    assert (w.view.mapFromScene(hint.scenePos()) - (taken + QPoint(0, 3))).manhattanLength() <= 2
    QTest.mouseRelease(vp, Qt.LeftButton, Qt.NoModifier, taken)
    QApplication.processEvents()
    assert _hints(w) == []
    assert set(g.edges) == edges


def test_a_valid_target_shows_no_reason(make_window):
    g = _chain(1)
    g.disconnect("act0", "output")
    g.move_node("output", (600.0, 0.0))
    w = make_window(g)
    _show_both(w, "act0", "output", zoom=0.8)
    vp = w.view.viewport()
    start, end = _port(w, "act0", "out"), _port(w, "output", "in")
    QTest.mousePress(vp, Qt.LeftButton, Qt.NoModifier, start)
    QTest.mouseMove(vp, (start + end) / 2)
    QTest.mouseMove(vp, end)
    assert _hints(w) == [] and w.scene.nodes["output"].in_port.state == "accept"
    QTest.mouseRelease(vp, Qt.LeftButton, Qt.NoModifier, end)
    assert w.document.graph.inputs_of("output") == ["act0"]


# -- 8: nodes show their text; labels clear of nodes; the PNG cut to the picture --------------------
def _every_block_graph() -> Graph:
    g = Graph(name="all")
    long_params = {"resnext": {"cardinality": 16, "group_width": 256, "out_channels": 1024, "stride": 2}}
    for i, block in enumerate(all_blocks()):
        params = {k: v for k, v in long_params.get(block.name, {}).items() if k in block.params.defaults()}
        g.add_node(block.name, params, pos=((i % 4) * 260.0, (i // 4) * 120.0))
    return g


@pytest.mark.parametrize("zoom", [1.0, 0.7, 0.45, 0.3])
def test_node_text_fits_its_box_at_every_zoom(make_window, zoom):
    w = make_window(_every_block_graph())
    w.view.set_zoom(zoom)
    assert not w.view.viewport().grab().isNull()  # paints at this zoom
    for nid, item in w.scene.nodes.items():
        node = w.document.graph.node(nid)
        block = get_block(node.type)
        body = item.body_rect()
        lines = item.text_lines(zoom)
        assert lines, nid
        outer = _box(body.adjusted(-0.01, -0.01, 0.01, 0.01))
        for rect, font, text in lines:
            r = _box(rect)
            assert outer[0] <= r[0] and outer[1] <= r[1] and r[2] <= outer[2] and r[3] <= outer[3], \
                f"{nid}: a line of text leaves the node"
            assert QFontMetricsF(font).horizontalAdvance(text) <= rect.width() + 0.5, f"{nid}: {text!r} is cut"
        texts = [t for _, _, t in lines]
        if zoom >= 0.55:  # full detail: the title and every parameter, nothing elided
            assert texts[0] == block.title
            detail = block.describe(node.params)
            assert " ".join(texts[1:-1]).replace(", ", ",").replace(",", ", ") == detail, nid
        else:  # zoomed out: the title alone, wrapped, complete
            assert " ".join(texts) == block.title, nid


def test_a_long_parameter_line_wraps_and_the_node_grows(make_window):
    g = Graph()
    long = g.add_node("resnext", {"cardinality": 16, "group_width": 256, "out_channels": 1024, "stride": 2})
    short = g.add_node("activation", pos=(300.0, 0.0))
    w = make_window(g)
    tall, low = w.scene.nodes[long], w.scene.nodes[short]
    assert tall.body_rect().height() > low.body_rect().height()
    assert tall.body_rect().width() == low.body_rect().width()


def test_edge_labels_sit_clear_of_every_node(make_window):
    w = make_window(size=(1400, 900))
    QTest.keyClick(w.view, Qt.Key_L, Qt.ControlModifier)  # auto-layout, wrapped into bands
    w.analysis.refresh()
    bodies = {nid: _box(_body(item).adjusted(-6, 0, 6, 0)) for nid, item in w.scene.nodes.items()}
    labelled = 0
    for edge in w.scene.edges.values():
        r = edge.label_rect()
        if r.isEmpty():
            continue
        labelled += 1
        r = _box(r)
        hit = [nid for nid, b in bodies.items() if _meet(b, r)]
        assert not hit, f"label {edge.text!r} of {edge.key} is under {hit}"
    assert labelled >= len(w.scene.edges) // 2


def test_exported_png_has_no_large_empty_margin(make_window, tmp_path):
    from explorer.ui.export_image import MARGIN, export_png

    w = make_window(_chain(3))
    path = export_png(w.scene, tmp_path / "net.png", scale=1.0)
    img = QImage(str(path))
    bg = w.scene.style.theme.canvas.rgb()
    small = img.scaled(img.width() // 2, img.height() // 2)  # fewer pixels to look at; margins halve too
    rows = [y for y in range(small.height()) if any(small.pixel(x, y) != bg for x in range(0, small.width(), 2))]
    cols = [x for x in range(small.width()) if any(small.pixel(x, y) != bg for y in range(0, small.height(), 2))]
    assert rows and cols
    limit = (MARGIN + 16) / 2
    assert rows[0] <= limit and small.height() - 1 - rows[-1] <= limit, (rows[0], rows[-1], small.height())
    assert cols[0] <= limit and small.width() - 1 - cols[-1] <= limit


# -- 9: inside views read like the paper's figure ----------------------------------------------------
def _basic_net() -> Graph:
    g = Graph(name="one block")
    g.add_node("input", {"shape": [16, 8, 8]}, node_id="input")
    g.add_node("basic", {"channels": 32, "stride": 2, "shortcut": "projection"}, node_id="block", pos=(260.0, 0.0))
    g.add_node("output", node_id="output", pos=(520.0, 0.0))
    g.connect("input", "block")
    g.connect("block", "output")
    return g


def _edges_clear_of_other_nodes(scene) -> None:
    """No edge passes over a node it does not connect (sampled along the drawn curve)."""
    bodies = {nid: _box(_body(item).adjusted(2, 2, -2, -2)) for nid, item in scene.nodes.items()}
    for (src, dst), edge in scene.edges.items():
        path = edge.path()
        for k in range(1, 100):
            p = path.pointAtPercent(k / 100)
            x, y = p.x(), p.y()
            hit = [nid for nid, b in bodies.items() if nid not in (src, dst) and _inside(x, y, b)]
            assert not hit, f"edge {src} → {dst} runs over {hit}"


def _double_click(w, node_id, size=(1500, 600)):
    item = w.scene.nodes[node_id]
    w.view.centerOn(item)
    QApplication.processEvents()
    at = _view_point(w, item.scenePos() + QPointF(0, 10))
    QTest.mouseDClick(w.view.viewport(), Qt.LeftButton, Qt.NoModifier, at)
    QApplication.processEvents()
    dialog = w.inside_dialog
    dialog.resize(*size)  # the off-screen "screen" is small; a real one gives the dialog this much
    QApplication.processEvents()
    return dialog


def test_open_inside_draws_the_shortcut_around_the_main_branch(make_window):
    w = make_window(_basic_net(), size=(1500, 900))
    dialog = _double_click(w, "block")
    assert dialog.isVisible()
    inner = dialog.scene.graph
    sc, at = [], inner.inputs_of("add")[1]  # the shortcut: the Add's second input, back to the Input
    while at != "input":
        sc.append(at)
        at = inner.inputs_of(at)[0]
    assert sc, "no shortcut branch inside a projection block"
    y_main = inner.node("conv1").pos[1]
    xs = {nid: n.pos[0] for nid, n in inner.nodes.items()}
    for nid in sc:  # below the main row, between where the branch starts and where it is added back
        assert inner.node(nid).pos[1] > y_main
        assert xs["conv1"] < xs[nid] < xs["add"]
    assert len({n.pos[1] for nid, n in inner.nodes.items() if nid not in sc}) == 1  # main branch: one row
    _edges_clear_of_other_nodes(dialog.scene)
    dialog.close()


def test_expand_in_place_draws_the_shortcut_around_the_main_branch(make_window):
    w = make_window(_basic_net(), size=(1500, 900))
    w.scene.select_node("block")
    QTest.keyClick(w.view, Qt.Key_E, Qt.ControlModifier)
    assert "block" not in w.document.graph and len(w.document.graph) > 5
    _edges_clear_of_other_nodes(w.scene)


def test_open_inside_a_dense_block_lays_its_layers_out_in_bands_that_fit(make_window):
    g = Graph(name="dense")
    g.add_node("input", {"shape": [8, 8, 8]}, node_id="input")
    g.add_node("dense", {"layers": 16, "growth_rate": 4}, node_id="dense", pos=(260.0, 0.0))
    g.add_node("output", node_id="output", pos=(520.0, 0.0))
    g.connect("input", "dense")
    g.connect("dense", "output")
    w = make_window(g, size=(1500, 900))
    dialog = _double_click(w, "dense")
    inner = dialog.scene.graph
    assert len(inner) > 100
    vp = dialog.view.viewport()
    fits = layers_fit(vp.width())
    xs = sorted({round(n.pos[0]) for n in inner.nodes.values()})
    ys = {round(n.pos[1]) for n in inner.nodes.values()}
    assert len(xs) <= fits and len(ys) >= 100 // fits  # rows, not one row of 112
    width = (xs[-1] - xs[0]) + 180 + 160
    assert width * READABLE_ZOOM <= vp.width()
    assert dialog.view.scale_factor >= READABLE_ZOOM - 1e-6  # shown at a zoom one can read
    dialog.close()


def test_auto_layout_keeps_a_ten_node_chain_on_one_row_when_there_is_room(make_window):
    w = make_window(_chain(8), size=(2400, 900))
    for dock in (w.palette_dock, w.inspector_dock):
        dock.hide()
    QApplication.processEvents()
    assert layers_fit(w.view.viewport().width()) >= 10  # there is room
    QTest.keyClick(w.view, Qt.Key_L, Qt.ControlModifier)
    assert len({n.pos[1] for n in w.document.graph.nodes.values()}) == 1
    w2 = make_window(_chain(8), size=(900, 700))
    QTest.keyClick(w2.view, Qt.Key_L, Qt.ControlModifier)
    rows: dict[float, int] = {}
    for n in w2.document.graph.nodes.values():
        rows[n.pos[1]] = rows.get(n.pos[1], 0) + 1
    fits = layers_fit(w2.view.viewport().width())
    assert len(rows) > 1 and max(rows.values()) <= fits  # no room: bands, each fitting the view


# -- 11: copies land clear of the originals ------------------------------------------------------------
def _overlaps(w, new_ids) -> list[tuple[str, str]]:
    bodies = {nid: _box(_body(item)) for nid, item in w.scene.nodes.items()}
    return [(a, b) for a in new_ids for b in bodies if b != a and _meet(bodies[a], bodies[b])]


def _click(w, node_id, modifier=Qt.NoModifier):
    item = w.scene.nodes[node_id]
    QTest.mouseClick(w.view.viewport(), Qt.LeftButton, modifier, _view_point(w, item.scenePos() + QPointF(0, 10)))


def test_duplicate_and_paste_place_copies_clear_of_the_originals(make_window):
    w = make_window()
    _show_both(w, "stem_conv", "stem_bn", zoom=0.6)
    _click(w, "stem_conv")
    _click(w, "stem_bn", Qt.ControlModifier)
    assert set(w.scene.selected_node_ids()) == {"stem_conv", "stem_bn"}
    before = set(w.document.graph.nodes)
    QTest.keyClick(w.view, Qt.Key_D, Qt.ControlModifier)
    dup = set(w.document.graph.nodes) - before
    assert len(dup) == 2 and not _overlaps(w, dup)
    assert set(w.scene.selected_node_ids()) == dup
    QTest.keyClick(w.view, Qt.Key_C, Qt.ControlModifier)
    QTest.keyClick(w.view, Qt.Key_V, Qt.ControlModifier)
    pasted = set(w.document.graph.nodes) - before - dup
    assert len(pasted) == 2 and not _overlaps(w, pasted)
    QTest.keyClick(w.view, Qt.Key_V, Qt.ControlModifier)  # again: clear of the first paste too
    again = set(w.document.graph.nodes) - before - dup - pasted
    assert len(again) == 2 and not _overlaps(w, again)


# -- 12: the layout direction belongs to the document --------------------------------------------------
def test_direction_is_saved_with_the_document_and_new_resets_it(make_window, tmp_path):
    w = make_window()
    QTest.keyClick(w.view, Qt.Key_L, Qt.ControlModifier | Qt.ShiftModifier)  # top to bottom
    g = w.document.graph
    assert g.direction == "TB" and w.document.dirty
    item = w.scene.nodes["stem_conv"]
    assert item.in_port.pos().y() < 0 and item.in_port.pos().x() == 0  # ports on top and bottom
    path = tmp_path / "tall.json"
    w.dialogs.paths = [str(path)]
    QTest.keyClick(w, Qt.Key_S, Qt.ControlModifier)
    assert json.loads(path.read_text())["layout"] == {"direction": "TB"}
    QTest.keyClick(w, Qt.Key_N, Qt.ControlModifier)
    assert w.document.graph.direction == "LR" and w.edit.direction == "LR"
    assert w.scene.nodes["input"].out_port.pos().x() > 0  # ports back on the sides
    w.dialogs.paths = [str(path)]
    QTest.keyClick(w, Qt.Key_O, Qt.ControlModifier)
    assert w.document.graph.direction == "TB"
    assert w.scene.nodes["stem_conv"].in_port.pos().y() < 0
    assert w.files.open_preset("plain20") and w.document.graph.direction == "LR"


def test_undo_of_a_direction_change_puts_the_old_direction_back(make_window):
    w = make_window()
    before = {nid: n.pos for nid, n in w.document.graph.nodes.items()}
    QTest.keyClick(w.view, Qt.Key_L, Qt.ControlModifier | Qt.ShiftModifier)
    assert w.document.graph.direction == "TB"
    QTest.keyClick(w, Qt.Key_Z, Qt.ControlModifier)  # one step: direction and positions together
    assert w.document.graph.direction == "LR"
    assert {nid: n.pos for nid, n in w.document.graph.nodes.items()} == before
    assert w.scene.nodes["stem_conv"].in_port.pos().x() < 0


def test_layout_field_is_optional_and_checked():
    g = _chain(1)
    data = to_dict(g)
    assert data["version"] == 1 and data["layout"] == {"direction": "LR"}
    old = dict(data)
    del old["layout"]
    assert from_dict(old).direction == "LR"  # a file from before the field
    data["layout"] = {"direction": "TB", "spacing": 3}  # keys it does not know are ignored
    data["annotations"] = []
    assert from_dict(data).direction == "TB"
    for bad in ("TB", {"direction": "diagonal"}, {"direction": 1}, []):
        data["layout"] = bad
        with pytest.raises(FileFormatError, match="layout"):
            from_dict(data, "net.json")
    g.direction = "TB"
    assert loads_graph(json.dumps(to_dict(g))).direction == "TB"
