"""Edges do not run through nodes after free placement: a node dragged onto an edge between two others
makes that edge arc over it, and the edge straightens again when the node is dragged away."""
from __future__ import annotations

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QPainterPathStroker
from PySide6.QtTest import QTest

from explorer.graph import Graph


def free_graph() -> Graph:
    g = Graph(name="free")
    g.add_node("input", {"shape": [1, 8, 8]}, node_id="input", pos=(0.0, 0.0))
    g.add_node("output", node_id="output", pos=(900.0, 60.0))
    g.add_node("activation", node_id="relu", pos=(450.0, 300.0))   # not connected, below the edge
    g.connect("input", "output")
    return g


def drag(w, item, to: QPointF) -> None:
    """Press on the node, move the mouse in steps, release: the way a person drags it."""
    vp = w.view.viewport()
    start = w.view.mapFromScene(item.sceneBoundingRect().center())
    end = w.view.mapFromScene(to)
    QTest.mousePress(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    for i in range(1, 9):
        QTest.mouseMove(vp, start + (end - start) * (i / 8))
    QTest.mouseRelease(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, end)


def crosses(edge, node) -> bool:
    stroker = QPainterPathStroker()
    stroker.setWidth(2)
    return stroker.createStroke(edge.path()).intersects(node.mapRectToScene(node.body_rect()))


def test_an_edge_arcs_over_a_node_dragged_onto_it_and_straightens_when_it_goes(make_window, qtbot):
    w = make_window(free_graph(), size=(1366, 768))
    w.view.fit()
    relu, edge = w.scene.nodes["relu"], w.scene.edges[("input", "output")]
    assert not crosses(edge, relu)
    drag(w, relu, QPointF(450.0, 60.0))                  # onto the edge's way (it runs along the lower row)
    qtbot.waitUntil(lambda: abs(relu.pos().y() - 60) < 30)
    assert not crosses(edge, relu)                       # over it, not through it
    assert edge.path().boundingRect().top() < relu.sceneBoundingRect().top()
    drag(w, relu, QPointF(450.0, 300.0))                 # away again
    qtbot.waitUntil(lambda: relu.pos().y() > 200)
    assert edge.path().boundingRect().top() >= -5        # no arc left over an empty place
