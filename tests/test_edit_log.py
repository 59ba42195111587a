"""A recorded compound change undoes and redoes exactly, whatever primitive edits it made; a change
that fails half-way is taken back before its error goes on."""
import pytest
from hypothesis import given
from hypothesis import strategies as st

from explorer.graph import Graph, GraphError
from explorer.graph.edit_log import EditLog, UnrecordableEdit
from explorer.network.transforms import collapse_to_stage, expand_in_place, split_stage
from explorer.presets import build_preset


def _chain() -> Graph:
    g = Graph()
    g.add_node("input", node_id="input", pos=(0, 0))
    g.add_node("conv2d", {"out_channels": 4}, node_id="c1", pos=(100, 0))
    g.add_node("batchnorm", node_id="b1", pos=(200, 0))
    g.add_node("activation", node_id="r1", pos=(300, 0))
    g.add_node("output", node_id="output", pos=(400, 0))
    for a, b in (("input", "c1"), ("c1", "b1"), ("b1", "r1"), ("r1", "output")):
        g.connect(a, b)
    return g


# one step of a random compound change: (what, which node index, a number)
steps = st.lists(st.tuples(st.sampled_from(["add", "remove", "move", "param", "disconnect", "connect"]),
                           st.integers(0, 20), st.integers(1, 64)), max_size=12)


def _do(g: Graph, what: str, i: int, v: int) -> None:
    ids = sorted(g.nodes)
    nid = ids[i % len(ids)] if ids else None
    try:
        if what == "add":
            g.add_node("conv2d", {"out_channels": v}, pos=(v, i))
        elif what == "remove" and nid:
            g.remove_node(nid)
        elif what == "move" and nid:
            g.move_node(nid, (i * 7.5, v))
        elif what == "param" and nid and g.node(nid).type == "conv2d":
            g.set_param(nid, "out_channels", v)
        elif what == "disconnect" and g.edges:
            e = g.edges[i % len(g.edges)]
            g.disconnect(e.src, e.dst)
        elif what == "connect" and len(ids) > 1:
            g.connect(nid, ids[(i + v) % len(ids)])
    except GraphError:
        pass  # refused edits make no event: nothing to record


@given(steps)
def test_any_recorded_change_undoes_and_redoes_exactly(change):
    g = _chain()
    before = g.copy()
    log = EditLog()
    with log.recording(g):
        for step in change:
            _do(g, *step)
    after = g.copy()
    log.undo(g)
    assert g.same_as(before)
    log.redo(g)
    assert g.same_as(after)


@pytest.mark.parametrize("transform", [
    lambda g: expand_in_place(g, "stage2"),
    lambda g: split_stage(g, "stage2"),
    lambda g: collapse_to_stage(g, split_stage(g, "stage3")),
])
def test_transforms_undo_and_redo_through_their_edits(transform):
    g = build_preset("resnet20")
    before = g.copy()
    log = EditLog()
    with log.recording(g):
        transform(g)
    after = g.copy()
    seen = []
    g.subscribe(lambda ev: seen.append(ev.kind))
    log.undo(g)
    assert g.same_as(before)
    log.redo(g)
    assert g.same_as(after) and "reset" not in seen


def test_a_change_that_fails_half_way_is_taken_back():
    g = _chain()
    before = g.copy()
    log = EditLog()
    with pytest.raises(GraphError):
        with log.recording(g):
            g.remove_node("b1")
            g.move_node("r1", (5, 5))
            g.connect("c1", "missing")
    assert g.same_as(before)


def test_a_whole_graph_swap_cannot_be_recorded():
    g = _chain()
    with pytest.raises(UnrecordableEdit):
        with EditLog().recording(g):
            g.replace_with(Graph())
