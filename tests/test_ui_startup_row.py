"""Issue 19 item 20: the startup network (11 layers) lies on one row when the window is wide enough
(1920), and at fitted zoom on a laptop (1366×768) every node still draws its parameter line."""
from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from explorer.ui.canvas.node_item import FULL_DETAIL
from explorer.ui.window_placement import opening_size


def _rows(w) -> set[int]:
    return {round(n.pos[1]) for n in w.document.graph.nodes.values()}


def _parameter_lines_drawn(w) -> list[str]:
    """Nodes whose parameter line is missing from what they draw at the view's zoom."""
    zoom = w.view.scale_factor
    missing = []
    for nid, item in w.scene.nodes.items():
        detail = w.document.graph.node(nid).params
        drawn = [text for _, _, text in item.text_lines(zoom)]
        if detail and len(drawn) < 3:   # title, parameter line(s), cost line
            missing.append(nid)
    return missing


@pytest.mark.parametrize("size, rows", [((1920, 1040), 1), ((1366, 728), 2)])
def test_startup_network_fills_the_canvas_with_parameter_lines_shown(make_window, qtbot, size, rows):
    w = make_window(size=size)
    qtbot.waitUntil(lambda: len(_rows(w)) == rows)
    QTest.keyClick(w.view, Qt.Key_F, Qt.ControlModifier)      # Fit, as a person asks for it
    assert w.view.scale_factor >= FULL_DETAIL
    assert _parameter_lines_drawn(w) == []
    assert w.document.stack.count() == 0 and w.document.stack.isClean()   # not an edit of the user's


def test_a_moved_startup_network_is_not_laid_out_again(make_window, qtbot):
    w = make_window(size=(1366, 728))
    qtbot.waitUntil(lambda: len(_rows(w)) == 2)
    before = {nid: n.pos for nid, n in w.document.graph.nodes.items()}
    w.resize(1920, 1040)                                      # only a fresh start re-arranges
    qtbot.wait(10)
    assert {nid: n.pos for nid, n in w.document.graph.nodes.items()} == before


@pytest.mark.parametrize("screen, size", [((1920, 1080), (1920, 1040)), ((1366, 768), (1366, 728)),
                                          ((2560, 1440), (1920, 1040)), ((1024, 600), (1024, 560))])
def test_the_window_opens_as_wide_as_a_wide_screen_allows_but_never_wider(screen, size):
    assert opening_size(*screen) == size
