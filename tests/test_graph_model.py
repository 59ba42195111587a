"""The graph model's own rules and its change notifications."""
import pytest

from explorer.graph import CycleError, DuplicateLinkError, Graph, GraphError, NodeIdError, ParamError, PortError


def chain():
    g = Graph()
    i = g.add_node("input", {"shape": [3, 8, 8]})
    c = g.add_node("conv2d", {"out_channels": 4})
    o = g.add_node("output")
    g.connect(i, c)
    g.connect(c, o)
    return g, i, c, o


def test_add_fills_defaults_and_coerces():
    g = Graph()
    n = g.add_node("conv2d", {"out_channels": 8.0})
    assert g.node(n).params["out_channels"] == 8 and isinstance(g.node(n).params["out_channels"], int)
    assert g.node(n).params["kernel_size"] == 3
    with pytest.raises(ParamError, match="whole number"):
        g.add_node("conv2d", {"out_channels": "many"})
    with pytest.raises(ParamError, match="no parameter 'colour'"):
        g.add_node("conv2d", {"colour": 1})


def test_ids_are_unique_and_safe():
    g = Graph()
    assert g.add_node("add") == "add_1"
    assert g.add_node("add") == "add_2"
    with pytest.raises(NodeIdError):
        g.add_node("add", node_id="add_1")
    with pytest.raises(NodeIdError):
        g.add_node("add", node_id="has.dot")


def test_connect_refuses_cycles_duplicates_and_taken_ports():
    g, i, c, o = chain()
    c2 = g.add_node("conv2d")
    g.connect(c, c2)
    with pytest.raises(CycleError):
        g.connect(c2, c)
    with pytest.raises(DuplicateLinkError):
        g.connect(c, c2)
    with pytest.raises(PortError, match="one input"):
        g.connect(i, c2)
    with pytest.raises(PortError, match="no output"):
        g.connect(o, c2)
    with pytest.raises(PortError, match="takes no input"):
        g.connect(c, i)
    assert g.inputs_of(c2) == [c]


def test_multi_input_edges_keep_order():
    g = Graph()
    a, b, cat = g.add_node("conv2d"), g.add_node("conv2d"), g.add_node("concat")
    g.connect(b, cat)
    g.connect(a, cat)
    assert g.inputs_of(cat) == [b, a]


def test_events_and_remove_restore_roundtrip():
    g, i, c, o = chain()
    seen = []
    g.subscribe(seen.append)
    before = g.copy()
    node, edges = g.remove_node(c)
    assert [e.kind for e in seen] == ["edge_removed", "edge_removed", "node_removed"]
    assert c not in g and len(g.edges) == 0
    g.restore_node(node)
    for e in edges:
        g.connect(e.src, e.dst, e.order)
    assert g.same_as(before)


def test_set_param_skips_no_op_and_validates_type():
    g, i, c, o = chain()
    seen = []
    g.subscribe(seen.append)
    g.set_param(c, "out_channels", 4)
    assert seen == []
    g.set_param(c, "out_channels", 6)
    assert seen[-1].kind == "param_changed" and seen[-1].old == 4 and seen[-1].new == 6
    with pytest.raises(ParamError):
        g.set_param(c, "bias", "yes")


def test_repeat_only_for_composite_blocks():
    g = Graph()
    b = g.add_node("basic", repeat=3)
    assert g.node(b).repeat == 3
    c = g.add_node("conv2d")
    with pytest.raises(GraphError, match="cannot repeat"):
        g.set_repeat(c, 2)
    with pytest.raises(GraphError):
        g.set_repeat(b, 0)


def test_topological_order_follows_edges():
    g, i, c, o = chain()
    order = g.topological_order()
    assert order.index(i) < order.index(c) < order.index(o)
