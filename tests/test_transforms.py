"""Expand in place, split a stage, collapse a chain: same network (shapes, cost) before and after."""
import pytest

from explorer.graph import Graph
from explorer.graph.fileio import dumps_graph
from explorer.network.inference import analyze
from explorer.graph.layout import layered_positions
from explorer.network.transforms import TransformError, collapse_to_stage, expand_in_place, split_stage
from explorer.presets import build_preset


def _numbers(g):
    a = analyze(g)
    assert a.valid, [p.text for p in a.problems]
    return a.total, a.output_shape


def test_expand_stage_keeps_shapes_and_cost():
    g = build_preset("resnet20")
    before = _numbers(g)
    new = expand_in_place(g, "stage2")
    assert "stage2" not in g and len(new) >= 3 * 7  # 3 blocks of conv-bn-relu-conv-bn-add-relu (+ shortcut)
    assert _numbers(g) == before
    # the repetitions are rewired in a chain: the stage's neighbours now hang off the new nodes
    assert g.inputs_of("stage3") == ["stage2_3_relu_out"]
    assert g.inputs_of("stage2_1_conv1") == ["stage1"]


def test_expand_everything_to_primitives():
    g = build_preset("preact_resnet110")
    before = _numbers(g)
    for nid in [n.id for n in g.nodes.values() if n.type == "preact"]:
        expand_in_place(g, nid)
    assert not any(n.type == "preact" for n in g.nodes.values())
    assert _numbers(g) == before


def test_expand_makes_room_downstream():
    g = build_preset("resnet20")
    x_pool = g.node("pool").pos[0]
    new = expand_in_place(g, "stage1")
    assert g.node("pool").pos[0] > x_pool
    assert max(g.node(n).pos[0] for n in new) < g.node("stage2").pos[0]


def test_expand_refuses_primitive_and_unconnected_block():
    g = build_preset("resnet20")
    text = dumps_graph(g)
    with pytest.raises(TransformError, match="primitive"):
        expand_in_place(g, "stem_conv")
    g2 = Graph()
    nid = g2.add_node("basic")
    with pytest.raises(TransformError, match="connect its input"):
        expand_in_place(g2, nid)
    assert dumps_graph(g) == text


def test_split_then_collapse_is_the_same_network():
    g = build_preset("resnet20")
    before = _numbers(g)
    ids = split_stage(g, "stage2")
    assert len(ids) == 3 and ids[0] == "stage2"
    assert g.node(ids[0]).params["stride"] == 2 and g.node(ids[1]).params["stride"] == 1
    assert _numbers(g) == before
    kept = collapse_to_stage(g, list(reversed(ids)))  # selection order does not matter
    assert kept == "stage2" and g.node("stage2").repeat == 3
    assert _numbers(g) == before
    assert g.inputs_of("stage3") == ["stage2"]


def test_collapse_refuses_with_a_reason_and_changes_nothing():
    g = build_preset("resnet20")
    ids = split_stage(g, "stage1")
    g.set_param(ids[2], "channels", 24)
    text = dumps_graph(g)
    with pytest.raises(TransformError, match="channels"):
        collapse_to_stage(g, ids)
    with pytest.raises(TransformError, match="one chain"):
        collapse_to_stage(g, [ids[0], ids[2]])
    with pytest.raises(TransformError, match="at least two"):
        collapse_to_stage(g, [ids[0]])
    with pytest.raises(TransformError, match="primitive"):
        collapse_to_stage(g, ["stem_conv", "stem_bn"])
    assert dumps_graph(g) == text


def test_split_refuses_single_block():
    g = build_preset("resnet20")
    ids = split_stage(g, "stage1")
    with pytest.raises(TransformError, match="not a stage"):
        split_stage(g, ids[1])


def test_layout_keeps_main_path_on_one_row():
    g = build_preset("resnet20")
    expand_in_place(g, "stage2")
    pos = layered_positions(g)
    main = [n for n in g.nodes if pos[n][1] == 0.0]
    assert {"input", "stem_conv", "stage1", "stage3", "output"} <= set(main)
    # no two nodes share a spot, in both directions
    for d in ("LR", "TB"):
        p = layered_positions(g, d)
        assert len(set(p.values())) == len(p)


def test_copy_paste_gets_fresh_ids_and_keeps_inner_edges():
    from explorer.network.transforms import extract, prepare_paste

    g = build_preset("resnet20")
    sub = extract(g, ["stem_conv", "stem_bn", "stage1"])
    assert set(sub.nodes) == {"stem_conv", "stem_bn", "stage1"}
    assert {(e.src, e.dst) for e in sub.edges} == {("stem_conv", "stem_bn")}
    nodes, edges = prepare_paste(g, sub, (10, 20))
    ids = [n.id for n in nodes]
    assert len(set(ids)) == 3 and not set(ids) & set(g.nodes)
    for n in nodes:
        g.restore_node(n)
    for e in edges:
        g.connect(e.src, e.dst, order=e.order)
    conv = next(n for n in nodes if n.type == "conv2d")
    assert g.node(conv.id).pos == (g.node("stem_conv").pos[0] + 10, g.node("stem_conv").pos[1] + 20)
    assert g.outputs_of(conv.id) == [next(n.id for n in nodes if n.type == "batchnorm")]


def test_wrapped_layout_fills_bands_without_overlap():
    from explorer.graph.layout import COLUMN, layered_positions, suggest_wrap

    g = build_preset("resnet20")
    expand_in_place(g, "stage1")
    wrap = suggest_wrap(g, aspect=1.4)
    assert wrap is not None and 4 <= wrap < 40
    for direction in ("LR", "TB"):
        pos = layered_positions(g, direction, wrap)
        assert len(set(pos.values())) == len(pos)  # no two nodes on one spot
    pos = layered_positions(g, "LR", wrap)
    assert max(p[0] for p in pos.values()) <= (wrap - 1) * COLUMN
    assert pos["output"][1] > pos["input"][1]  # later layers continue in a band below
    small = Graph()
    small.add_node("input", node_id="input")
    assert suggest_wrap(small) is None
