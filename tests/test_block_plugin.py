"""A block type added from outside the package (this test module) is one module's work: the palette,
shape inference, the compiled module, the plain twin and the file format see it with no edit elsewhere."""
import pytest
import torch

from explorer.blocks import CompositeBlock, register, unregister
from explorer.blocks.parts import SHORTCUT, conv_bn_act, residual_add, shortcut
from explorer.graph.params import Int, ParamSet


class ScaledResidual(CompositeBlock):
    """y = relu(conv-bn(x) + shortcut(x)): one conv on the residual branch."""

    name = "test_one_conv_residual"
    title = "One-conv residual (test)"
    help = "A residual block declared by a test module."
    params = ParamSet((Int("channels", 8, 1, 512, "output channels"), Int("stride", 1, 1, 4, "stride"), SHORTCUT))
    face = ("channels",)
    color = "#123456"
    glyph = "two_layers_skip"

    def expand(self, p, b, x):
        r = conv_bn_act(b, x, p["channels"], 3, p["stride"], tag="1", act=False)
        y = residual_add(b, r, shortcut(b, x, p["channels"], p["stride"], p["shortcut"]))
        return b.act(y, node_id="relu_out")


@pytest.fixture(scope="module")
def plugin():
    register(ScaledResidual)
    yield ScaledResidual.name
    unregister(ScaledResidual.name)


def _network(name):
    from explorer.graph.model import Graph

    g = Graph(name="plugin net")
    g.add_node("input", {"shape": [3, 8, 8]}, node_id="input")
    g.add_node(name, {"channels": 8, "stride": 2}, node_id="blk", repeat=2)
    g.add_node("global_avgpool", node_id="pool")
    g.add_node("flatten", node_id="flat")
    g.add_node("linear", {"out_features": 5}, node_id="fc")
    g.add_node("output", node_id="output")
    for a, b in [("input", "blk"), ("blk", "pool"), ("pool", "flat"), ("flat", "fc"), ("fc", "output")]:
        g.connect(a, b)
    return g


def test_inference_compiler_and_twin_see_the_new_block(plugin):
    from explorer.compile import compile_graph, layer_units
    from explorer.network.inference import analyze
    from explorer.network.twins import plain_twin

    g = _network(plugin)
    a = analyze(g)
    assert a.valid, [p.text for p in a.problems]
    assert a.nodes["blk"].out_shape == (8, 4, 4)
    module = compile_graph(g, a)
    assert sum(p.numel() for p in module.parameters()) == a.total.params
    assert module(torch.randn(2, 3, 8, 8)).shape == (2, 5)
    assert [u.key for u in layer_units(module)][:2] == ["blk[0]", "blk[1]"]
    assert any(n.startswith("nodes.blk.0.nodes.shortcut_conv") for n, _ in module.named_parameters())

    twin, _ = plain_twin(g)
    assert twin.node("blk").params["shortcut"] == "none"
    plain = compile_graph(twin)
    assert not any("shortcut" in n for n, _ in plain.named_parameters())
    assert analyze(twin).total.params < a.total.params


def test_file_round_trip_keeps_the_new_block(plugin, tmp_path):
    from explorer.graph.fileio import load_graph, save_graph

    g = _network(plugin)
    save_graph(g, tmp_path / "plugin.json")
    assert load_graph(tmp_path / "plugin.json").same_as(g)


def test_palette_lists_the_new_block_with_its_declared_colour(plugin, qtbot):
    from PySide6.QtCore import Qt

    from explorer.ui.icons import block_color
    from explorer.ui.palette import NAME, Palette

    palette = Palette()
    qtbot.addWidget(palette)
    found = palette.tree.findItems("One-conv residual (test)", Qt.MatchExactly | Qt.MatchRecursive)
    assert [item.data(0, NAME) for item in found] == [plugin]
    assert found[0].parent().text(0) == "Residual blocks"
    assert block_color(plugin).name() == "#123456"


def test_unregistered_type_is_unknown_with_a_suggestion():
    from explorer.graph.catalog import UnknownBlockError
    from explorer.graph.model import Graph

    with pytest.raises(UnknownBlockError, match="did you mean 'conv2d'"):
        Graph().add_node("conv2", {})


def test_blocks_made_by_tools_are_not_offered_in_the_palette(qtbot):
    from explorer.blocks import all_blocks
    from explorer.ui.palette import NAME, Palette

    palette = Palette()
    qtbot.addWidget(palette)
    listed = {palette.tree.topLevelItem(i).child(j).data(0, NAME) for i in range(palette.tree.topLevelItemCount())
              for j in range(palette.tree.topLevelItem(i).childCount())}
    hidden = {b.name for b in all_blocks() if not b.placeable}
    assert hidden and not hidden & listed
    assert {b.name for b in all_blocks() if b.placeable} <= listed


def test_a_zero_pad_shortcut_that_would_drop_channels_is_refused_with_the_fix():
    from explorer.network.inference import analyze
    from explorer.presets import build_preset

    g = build_preset("resnet20")
    g.set_param("stem_conv", "out_channels", 999)  # stage1's zero-pad would have to go 999 → 16
    (problem,) = analyze(g).errors
    assert problem.node_id == "stage1" and "set shortcut to projection" in problem.text
