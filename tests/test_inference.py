"""Shape inference and validation: every problem names the node and, where obvious, the fix."""
from explorer.blocks.builder import Builder
from explorer.graph import Graph
from explorer.network.inference import analyze
from explorer.presets import build_preset


def test_resnet20_shapes_along_the_graph():
    a = analyze(build_preset("resnet20"))
    assert a.valid
    assert a.nodes["stage2"].out_shape == (32, 16, 16)
    assert a.nodes["stage3"].out_shape == (64, 8, 8)
    assert a.output_shape == (10,)
    assert a.total.params == 269_722


def test_shape_conflict_at_add_names_node_and_fix():
    g = Graph()
    i = g.add_node("input", {"shape": [32, 32, 32]})
    c = g.add_node("conv2d", {"out_channels": 64, "stride": 2})
    add = g.add_node("add", node_id="add_3")
    o = g.add_node("output")
    g.connect(i, c)
    g.connect(c, add)
    g.connect(i, add)
    g.connect(add, o)
    a = analyze(g)
    assert not a.valid
    (p,) = a.errors
    assert p.node_id == "add_3"
    assert p.text == ("Add 'add_3': inputs 64×16×16 and 32×32×32 differ; use a projection shortcut with stride 2 "
                      "(1×1 conv to 64 channels) on the skip path")


def test_missing_input_output_and_unconnected():
    g = Graph()
    c = g.add_node("conv2d")
    a = analyze(g)
    texts = [p.text for p in a.errors]
    assert any("no Input" in t for t in texts)
    assert any("no Output" in t for t in texts)
    assert any(t.startswith(f"Conv2d '{c}': needs an input") for t in texts)


def test_out_of_range_parameter_is_reported_not_refused():
    b = Builder()
    x = b.input([3, 8, 8])
    y = b.conv(x, 4)
    b.output(y)
    g = b.graph
    g.set_param(y, "out_channels", 0)
    a = analyze(g)
    assert [p.node_id for p in a.errors] == [y]
    assert "below the minimum 1" in a.errors[0].text


def test_identity_shortcut_on_shape_change_suggests_projection():
    b = Builder()
    x = b.input([16, 8, 8])
    g = b.graph
    blk = g.add_node("basic", {"channels": 32, "stride": 2, "shortcut": "identity"})
    g.connect(x, blk)
    o = g.add_node("output")
    g.connect(blk, o)
    a = analyze(g)
    assert a.errors[0].node_id == blk
    assert "projection or zero_pad" in a.errors[0].fix


def test_dead_end_is_a_warning_and_linear_on_image_says_flatten():
    b = Builder()
    x = b.input([3, 8, 8])
    y = b.conv(x, 4)
    b.output(y)
    g = b.graph
    lin = g.add_node("linear")
    g.connect(y, lin)
    a = analyze(g)
    assert [p.node_id for p in a.errors] == [lin]
    assert "Flatten" in a.errors[0].fix


def test_error_downstream_is_reported_once():
    b = Builder()
    x = b.input([3, 8, 8])
    g = b.graph
    c = g.add_node("conv2d", {"groups": 5})
    d = g.add_node("conv2d")
    o = g.add_node("output")
    g.connect(x, c)
    g.connect(c, d)
    g.connect(d, o)
    assert [p.node_id for p in analyze(g).errors] == [c]


def test_repeat_threads_shapes():
    b = Builder()
    x = b.input([16, 32, 32])
    y = b.add("basic", x, channels=32, stride=2, shortcut="projection", repeat=4)
    assert b.shape(y) == (32, 16, 16)
