"""The canvas with real mouse and keyboard events: drop from the palette, connect ports, refuse bad
connections, delete and undo, move, copy/paste, zoom."""
import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from explorer.graph import Graph
from explorer.ui import palette as palette_module
from explorer.ui.mime import BLOCK_MIME, read_palette_mime

# PySide flags the QPoint-based drag event constructors; they are the ones Qt 6 documents.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _show(w, node_id, zoom=1.0):
    w.view.set_zoom(zoom)
    w.view.centerOn(w.scene.nodes[node_id])
    QApplication.processEvents()


def _port(w, node_id, kind) -> QPoint:
    item = w.scene.nodes[node_id]
    port = item.out_port if kind == "out" else item.in_port
    return w.view.mapFromScene(port.scenePos())


def _node_point(w, node_id) -> QPoint:
    item = w.scene.nodes[node_id]
    return w.view.mapFromScene(item.scenePos() + QPointF(0, 18))  # on the body, away from the ports


def _drag(w, start: QPoint, end: QPoint, steps=6):
    vp = w.view.viewport()
    QTest.mousePress(vp, Qt.LeftButton, Qt.NoModifier, start)
    for i in range(1, steps + 1):
        QTest.mouseMove(vp, start + (end - start) * (i / steps))
    QTest.mouseRelease(vp, Qt.LeftButton, Qt.NoModifier, end)
    QApplication.processEvents()


def _drop(w, mime: QMimeData, at: QPoint):
    vp = w.view.viewport()
    enter = QDragEnterEvent(at, Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    QApplication.sendEvent(vp, enter)
    assert enter.isAccepted(), "the canvas refused the palette's drag"
    QApplication.sendEvent(vp, QDragMoveEvent(at, Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier))
    drop = QDropEvent(QPointF(at), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    QApplication.sendEvent(vp, drop)
    QApplication.processEvents()
    return drop


def test_real_drag_from_palette_adds_block_where_dropped(make_window, monkeypatch):
    w = make_window()
    captured = []

    class FakeDrag:  # QDrag.exec blocks off-screen: capture what the palette's drag carries instead
        def __init__(self, source):
            self.source = source

        def setMimeData(self, mime):
            self.mime = mime

        def setPixmap(self, pm):
            pass

        def exec(self, actions):
            captured.append(self.mime)
            return Qt.CopyAction

    monkeypatch.setattr(palette_module, "QDrag", FakeDrag)
    tree = w.palette.tree
    item = w.palette.find("block", "bottleneck")
    tree.scrollToItem(item)
    start = tree.visualItemRect(item).center()
    QTest.mousePress(tree.viewport(), Qt.LeftButton, Qt.NoModifier, start)
    for dx in (5, 15, 30, 60):
        QTest.mouseMove(tree.viewport(), start + QPoint(dx, 0))
    QTest.mouseRelease(tree.viewport(), Qt.LeftButton, Qt.NoModifier, start + QPoint(60, 0))
    assert len(captured) == 1, "dragging a palette item did not start a drag"
    mime = captured[0]
    assert mime.hasFormat(BLOCK_MIME) and read_palette_mime(mime) == ("block", "bottleneck")

    before = set(w.document.graph.nodes)
    at = QPoint(300, 200)
    drop = _drop(w, mime, at)
    assert drop.isAccepted()
    added = set(w.document.graph.nodes) - before
    assert len(added) == 1
    nid = added.pop()
    node = w.document.graph.node(nid)
    assert node.type == "bottleneck"
    scene_at = w.view.mapToScene(at)
    assert abs(node.pos[0] - scene_at.x()) <= 10 and abs(node.pos[1] - scene_at.y()) <= 10
    assert nid in w.scene.nodes and w.scene.current_node == nid
    assert w.inspector.node_id == nid  # the inspector follows the new node
    w.edit.undo.trigger()
    assert nid not in w.document.graph and nid not in w.scene.nodes


def test_foreign_drop_is_refused(make_window):
    w = make_window()
    mime = QMimeData()
    mime.setText("hello")
    vp = w.view.viewport()
    enter = QDragEnterEvent(QPoint(100, 100), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    QApplication.sendEvent(vp, enter)
    assert not enter.isAccepted()


def test_double_click_in_palette_adds_at_view_centre(make_window):
    w = make_window()
    tree = w.palette.tree
    item = w.palette.find("block", "dense")
    tree.scrollToItem(item)
    n = len(w.document.graph)
    at = tree.visualItemRect(item).center()
    QTest.mouseClick(tree.viewport(), Qt.LeftButton, Qt.NoModifier, at)  # a real double-click starts with a click
    QTest.mouseDClick(tree.viewport(), Qt.LeftButton, Qt.NoModifier, at)
    assert len(w.document.graph) == n + 1
    nid = w.scene.current_node
    centre = w.view.mapToScene(w.view.viewport().rect().center())
    pos = w.document.graph.node(nid).pos
    assert abs(pos[0] - centre.x()) <= 10 and abs(pos[1] - centre.y()) <= 10


def _two_loose_nodes(make_window):
    g = Graph()
    g.add_node("input", {"shape": [1, 8, 8]}, node_id="input", pos=(0, 0))
    g.add_node("conv2d", {"out_channels": 4}, node_id="conv", pos=(260, 40))
    g.add_node("output", node_id="output", pos=(520, 0))
    w = make_window(g)
    _show(w, "conv")
    return w


def test_connect_two_ports_with_the_mouse(make_window):
    w = _two_loose_nodes(make_window)
    _drag(w, _port(w, "input", "out"), _port(w, "conv", "in"))
    assert w.document.graph.inputs_of("conv") == ["input"]
    edge = w.scene.edges[("input", "conv")]
    w.analysis.refresh()
    assert edge.text == "1×8×8"
    # releasing on a node's body also connects, into its input port
    _drag(w, _port(w, "conv", "out"), _node_point(w, "output"))
    assert w.document.graph.inputs_of("output") == ["conv"]
    assert w.analysis.result.valid
    w.edit.undo.trigger()
    assert w.document.graph.inputs_of("output") == []


def test_invalid_connections_are_refused_with_a_reason(make_window):
    w = make_window()
    g = w.document.graph
    _show(w, "stem_bn", zoom=0.8)
    edges = set(g.edges)
    messages = []
    w.scene.message.connect(messages.append)
    # stem_bn's input is taken (one input only)
    vp = w.view.viewport()
    start, end = _port(w, "stem_relu", "out"), _port(w, "stem_bn", "in")
    QTest.mousePress(vp, Qt.LeftButton, Qt.NoModifier, start)
    QTest.mouseMove(vp, (start + end) / 2)
    QTest.mouseMove(vp, end)
    assert w.scene.nodes["stem_bn"].in_port.state == "refuse"  # red while hovering
    QTest.mouseRelease(vp, Qt.LeftButton, Qt.NoModifier, end)
    assert set(g.edges) == edges
    assert any("cannot connect" in m for m in messages)
    # a cycle: stem_relu already feeds stage1 ... so stage1 → stem_conv would loop
    _show(w, "stem_conv", zoom=0.5)
    _drag(w, _port(w, "stem_relu", "out"), _port(w, "stem_conv", "in"))
    assert set(g.edges) == edges
    assert "would make a cycle" in messages[-1]
    assert w.document.stack.count() == 0  # nothing refused reached the undo stack


def test_delete_and_undo_restore_node_and_edges(make_window):
    w = make_window()
    g = w.document.graph
    _show(w, "stage2", zoom=0.8)
    edges_before = set(g.edges)
    node_before = g.node("stage2")
    others = {nid: item for nid, item in w.scene.nodes.items() if nid != "stage2"}
    QTest.mouseClick(w.view.viewport(), Qt.LeftButton, Qt.NoModifier, _node_point(w, "stage2"))
    assert w.scene.selected_node_ids() == ["stage2"]
    w.view.setFocus()
    QTest.keyClick(w.view, Qt.Key_Delete)
    assert "stage2" not in g and "stage2" not in w.scene.nodes
    assert not any("stage2" in (e.src, e.dst) for e in g.edges)
    assert not any("stage2" in k for k in w.scene.edges)
    QTest.keyClick(w, Qt.Key_Z, Qt.ControlModifier)
    assert set(g.edges) == edges_before
    assert g.node("stage2") == node_before
    assert ("stage1", "stage2") in w.scene.edges and ("stage2", "stage3") in w.scene.edges
    assert all(w.scene.nodes[nid] is item for nid, item in others.items())  # no rebuild, only stage2
    QTest.keyClick(w, Qt.Key_Z, Qt.ControlModifier | Qt.ShiftModifier)  # redo
    assert "stage2" not in g


def test_delete_a_selected_edge(make_window):
    w = make_window()
    g = w.document.graph
    _show(w, "stem_bn", zoom=1.0)
    edge = w.scene.edges[("stem_bn", "stem_relu")]
    mid = w.view.mapFromScene(edge.path().pointAtPercent(0.5))
    QTest.mouseClick(w.view.viewport(), Qt.LeftButton, Qt.NoModifier, mid)
    assert edge.isSelected()
    w.view.setFocus()
    QTest.keyClick(w.view, Qt.Key_Delete)
    assert ("stem_bn", "stem_relu") not in {(e.src, e.dst) for e in g.edges}
    assert not w.analysis.result.valid  # stem_relu lost its input: the graph says so


def test_move_with_mouse_is_one_undo_step(make_window):
    w = make_window()
    g = w.document.graph
    _show(w, "stem_bn")
    old = g.node("stem_bn").pos
    start = _node_point(w, "stem_bn")
    _drag(w, start, start + QPoint(0, 120))
    new = g.node("stem_bn").pos
    assert new[1] > old[1] + 100 and new[0] == old[0]
    assert w.document.stack.count() == 1
    w.edit.undo.trigger()
    assert g.node("stem_bn").pos == old and w.scene.nodes["stem_bn"].pos() == QPointF(*old)


def test_rubber_band_select_and_duplicate(make_window):
    w = make_window()
    g = w.document.graph
    _show(w, "stem_bn", zoom=0.6)
    a, b = w.scene.nodes["stem_conv"], w.scene.nodes["stem_relu"]
    top_left = w.view.mapFromScene(a.scenePos() + QPointF(-100, -60))
    bottom_right = w.view.mapFromScene(b.scenePos() + QPointF(60, 60))
    _drag(w, top_left, bottom_right)
    assert set(w.scene.selected_node_ids()) == {"stem_conv", "stem_bn", "stem_relu"}
    n, m = len(g), len(g.edges)
    w.view.setFocus()
    QTest.keyClick(w.view, Qt.Key_D, Qt.ControlModifier)
    assert len(g) == n + 3 and len(g.edges) == m + 2  # the two inner edges come along
    assert len(w.scene.selected_node_ids()) == 3 and "stem_conv" not in w.scene.selected_node_ids()
    w.edit.undo.trigger()
    assert len(g) == n


def test_copy_paste_through_the_clipboard(make_window):
    w = make_window()
    g = w.document.graph
    w.scene.select_nodes(["stage1", "stage2"])
    w.view.setFocus()
    QTest.keyClick(w.view, Qt.Key_C, Qt.ControlModifier)
    QTest.keyClick(w.view, Qt.Key_V, Qt.ControlModifier)
    new = w.scene.selected_node_ids()
    assert len(new) == 2 and not set(new) & {"stage1", "stage2"}
    assert {g.node(n).type for n in new} == {"basic"}
    assert any(e.src in new and e.dst in new for e in g.edges)


def test_wheel_zooms_and_fit(make_window):
    w = make_window()
    s0 = w.view.scale_factor
    vp = w.view.viewport()
    QTest.mouseMove(vp, vp.rect().center())
    from PySide6.QtGui import QWheelEvent
    ev = QWheelEvent(QPointF(vp.rect().center()), QPointF(w.view.mapToGlobal(vp.rect().center())), QPoint(0, 0),
                     QPoint(0, 240), Qt.NoButton, Qt.NoModifier, Qt.NoScrollPhase, False)
    QApplication.sendEvent(vp, ev)
    assert w.view.scale_factor > s0 * 1.2
    QTest.keyClick(w, Qt.Key_F, Qt.ControlModifier)
    assert abs(w.view.scale_factor - s0) < 1e-6


def test_middle_button_drag_pans(make_window):
    w = make_window()
    w.view.set_zoom(1.0)
    QApplication.processEvents()
    vp = w.view.viewport()
    before = w.view.mapToScene(vp.rect().center())
    start = vp.rect().center()
    QTest.mousePress(vp, Qt.MiddleButton, Qt.NoModifier, start)
    QTest.mouseMove(vp, start + QPoint(-120, -40))
    QTest.mouseRelease(vp, Qt.MiddleButton, Qt.NoModifier, start + QPoint(-120, -40))
    after = w.view.mapToScene(vp.rect().center())
    assert abs((after.x() - before.x()) - 120) <= 2 and abs((after.y() - before.y()) - 40) <= 2
    assert w.document.stack.count() == 0  # panning is not an edit
