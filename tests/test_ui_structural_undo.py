"""Expand, split and collapse undo and redo as the small edits they are: through the keyboard, the
graph comes back exactly, and the canvas keeps every item the edit did not touch as the same object."""
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from explorer.network.transforms import expand_in_place
from explorer.presets import build_preset


def _keys(w, key, modifiers=Qt.ControlModifier):
    w.view.setFocus()
    QTest.keyClick(w.view, key, modifiers)
    QApplication.processEvents()  # the live analysis re-runs once per burst of edits


def _undo(w):
    _keys(w, Qt.Key_Z)


def _redo(w):
    _keys(w, Qt.Key_Z, Qt.ControlModifier | Qt.ShiftModifier)


def _expand(w, node_id):
    w.scene.select_node(node_id)
    _keys(w, Qt.Key_E)


@pytest.fixture
def event_kinds():
    """``event_kinds(graph)`` -> the list of event kinds the graph emits from now on (none may be a
    whole-graph 'reset'); unsubscribed before the window's own leak check."""
    attached = []

    def watch(graph):
        kinds = []

        def listen(ev):
            kinds.append(ev.kind)

        graph.subscribe(listen)
        attached.append((graph, listen))
        return kinds

    yield watch
    for graph, fn in attached:
        graph.unsubscribe(fn)


@pytest.fixture
def resnet110(make_window):
    """resnet110 with stage1 already open in place: ~130 primitives that the next edits must not touch."""
    w = make_window(build_preset("resnet110"))
    _expand(w, "stage1")
    assert "stage1" not in w.document.graph and len(w.scene.nodes) > 120
    return w


def _untouched(w, before: dict, changed: set[str]):
    """Node ids whose items should have survived, and those that did not."""
    kept = [nid for nid in before if nid not in changed and nid in w.scene.nodes]
    return kept, [nid for nid in kept if w.scene.nodes[nid] is not before[nid]]


def test_expanding_a_stage_creates_only_its_items_and_undo_redo_keep_the_rest(resnet110, event_kinds):
    w = resnet110
    g = w.document.graph
    events = event_kinds(g)
    before_graph = g.copy()
    items = dict(w.scene.nodes)
    edge_items = dict(w.scene.edges)
    params = w.summary.text("params")

    _expand(w, "stage2")
    after_graph = g.copy()
    made = set(g.nodes) - set(before_graph.nodes)
    assert "stage2" not in g and made == set(expand_in_place(before_graph.copy(), "stage2"))
    assert len(made) > 18 * 7  # 18 blocks of conv-bn-relu-conv-bn-add-relu, and a shortcut
    assert len(w.scene.nodes) == len(items) - 1 + len(made)
    created = [nid for nid, item in w.scene.nodes.items() if items.get(nid) is not item]
    assert set(created) == made  # exactly the new nodes got new items
    kept, replaced = _untouched(w, items, {"stage2"})
    assert len(kept) == len(items) - 1 and not replaced
    assert w.scene.edges[("stage1_1_conv1", "stage1_1_bn1")] is edge_items[("stage1_1_conv1", "stage1_1_bn1")]
    assert set(w.scene.selected_node_ids()) == made  # what the edit made is selected
    assert w.summary.text("params") == params  # same network, spelled out
    assert w.document.stack.undoText() == "Open stage2 in place"

    _undo(w)
    assert g.same_as(before_graph)
    assert set(w.scene.nodes) == set(g.nodes) and set(w.scene.edges) == {(e.src, e.dst) for e in g.edges}
    kept, replaced = _untouched(w, items, {"stage2"})
    assert len(kept) == len(items) - 1 and not replaced
    assert w.scene.selected_node_ids() == ["stage2"] and w.inspector.node_id == "stage2"
    assert w.summary.text("params") == params
    assert w.document.stack.redoText() == "Open stage2 in place"

    expanded_items = {nid: item for nid, item in w.scene.nodes.items()}
    _redo(w)
    assert g.same_as(after_graph)
    kept, replaced = _untouched(w, expanded_items, {"stage2"})
    assert len(kept) == len(items) - 1 and not replaced
    assert set(w.scene.selected_node_ids()) == made and w.inspector.node_id in made
    assert "reset" not in events


def test_split_then_collapse_round_trip(make_window, event_kinds):
    w = make_window(build_preset("resnet56"))
    g = w.document.graph
    events = event_kinds(g)
    original = g.copy()
    items = dict(w.scene.nodes)

    w.scene.select_node("stage2")
    _keys(w, Qt.Key_E, Qt.ControlModifier | Qt.ShiftModifier)  # split the stage of 9 into 9 blocks
    assert g.node("stage2").repeat == 1 and "stage2_9" in g
    assert w.document.stack.undoText() == "Split stage2 into blocks"
    blocks = [f"stage2_{i}" for i in range(2, 10)] + ["stage2"]
    assert set(w.scene.selected_node_ids()) == set(blocks)  # ready to be collapsed back
    split = g.copy()
    kept, replaced = _untouched(w, items, set())
    assert len(kept) == len(items) and not replaced  # stage2 itself only lost its repeat count

    _keys(w, Qt.Key_G)  # collapse the selected chain
    assert g.node("stage2").repeat == 9 and "stage2_2" not in g
    assert w.document.stack.undoText() == "Collapse 9 blocks into stage2"
    assert w.scene.selected_node_ids() == ["stage2"] and w.inspector.node_id == "stage2"
    collapsed = g.copy()
    kept, replaced = _untouched(w, items, set())
    assert len(kept) == len(items) and not replaced

    _undo(w)
    assert g.same_as(split) and set(w.scene.nodes) == set(g.nodes)
    assert set(w.scene.selected_node_ids()) == set(blocks)
    _redo(w)
    assert g.same_as(collapsed) and set(w.scene.nodes) == set(g.nodes)
    _undo(w)
    _undo(w)
    assert g.same_as(original)
    assert w.scene.selected_node_ids() == ["stage2"] and w.inspector.node_id == "stage2"
    kept, replaced = _untouched(w, items, set())
    assert len(kept) == len(items) and not replaced
    assert "reset" not in events


def test_refused_collapse_leaves_graph_canvas_and_stack_alone(make_window):
    w = make_window(build_preset("resnet56"))
    g = w.document.graph
    before, items = g.copy(), dict(w.scene.nodes)
    messages = []
    w.edit.message.connect(messages.append)
    w.scene.select_nodes(["stage1", "stage3"])  # not one chain
    _keys(w, Qt.Key_G)
    assert "not one chain" in messages[-1]
    assert g.same_as(before) and w.document.stack.count() == 0
    assert set(w.scene.selected_node_ids()) == {"stage1", "stage3"}  # kept, to fix and try again
    assert all(w.scene.nodes[n] is items[n] for n in items)


def test_expand_from_the_menu_action_undoes_through_the_undo_action(make_window):
    w = make_window(build_preset("resnet56"))
    g = w.document.graph
    before = g.copy()
    w.scene.select_node("stage3")
    w.edit.expand.trigger()
    assert "stage3" not in g
    assert w.edit.undo.text() == "&Undo Open stage3 in place"
    w.edit.undo.trigger()
    assert g.same_as(before) and w.scene.selected_node_ids() == ["stage3"]
