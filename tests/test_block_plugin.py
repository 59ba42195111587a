"""A block type added from outside the package (this test module) is one module's work: the palette,
shape inference, the compiled module, the plain twin, the file format, the importer and the icon see it
with no edit elsewhere. So is an activation kind: one entry in the open table reaches the inspector, the
compiler and the importer, and so is a normalisation kind."""
import operator

import pytest
import torch
from torch import nn
from torch.nn import functional as F

from explorer.blocks import BlockType, CompositeBlock, register, unregister
from explorer.blocks.glyph import HUE, Circle, Line
from explorer.blocks.parts import SHORTCUT, conv_bn_act, residual_add, shortcut
from explorer.blocks.primitives.activation import ActivationKind, register_activation, unregister_activation
from explorer.blocks.primitives.norm import NormKind, register_norm, unregister_norm
from explorer.blocks.recognise import Step, TorchRules
from explorer.graph.params import Int, ParamSet


class ScaledResidual(CompositeBlock):
    """y = relu(conv-bn(x) + shortcut(x)): one conv on the residual branch."""

    name = "test_one_conv_residual"
    title = "One-conv residual (test)"
    help = "A residual block declared by a test module."
    params = ParamSet((Int("channels", 8, 1, 512, "output channels"), Int("stride", 1, 1, 4, "stride"), SHORTCUT))
    face = ("channels",)
    color = "#123456"
    glyph = (Circle(0.3, 0.7, 0.2, HUE), Line(0.1, 0.1, 0.9, 0.1))  # a disc low left, a line on top

    def recognise(self, site):
        if len(site.convs) == 1:
            conv = site.convs[0]
            yield dict(channels=conv["out_channels"], stride=conv["stride"], shortcut=site.shortcut)

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


# -- import and glyph of the outside block -------------------------------------------------------------
class OneConvResidual(nn.Module):
    """The same block as a person writes it in PyTorch."""

    def __init__(self, c):
        super().__init__()
        self.conv1 = nn.Conv2d(c, c, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(c)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x):
        return self.relu(self.bn1(self.conv1(x)) + x)


def _head(*body):
    return nn.Sequential(nn.Conv2d(3, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU(), *body,
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 5)).eval()


def _same_output(model, imported) -> float:
    x = torch.randn(2, 3, 8, 8, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        return float((model(x) - imported.compiled().eval()(x)).abs().max())


def test_import_recognises_the_new_block_as_a_stage(plugin):
    from explorer.importer import import_module

    torch.manual_seed(0)
    model = _head(OneConvResidual(8), OneConvResidual(8))
    imported = import_module(model, (3, 8, 8))
    stages = [imported.graph.node(n) for n in imported.graph.topological_order()
              if imported.graph.node(n).type == plugin]
    assert [(s.repeat, s.params["channels"], s.params["stride"]) for s in stages] == [(2, 8, 1)]
    assert _same_output(model, imported) < 1e-5


def test_the_new_block_is_drawn_with_its_own_glyph(plugin, qtbot):
    from PySide6.QtCore import QRectF, Qt
    from PySide6.QtGui import QColor, QImage, QPainter

    from explorer.ui.icons import draw_glyph

    def painted(type_name):
        image = QImage(50, 50, QImage.Format_ARGB32_Premultiplied)
        image.fill(Qt.transparent)
        p = QPainter(image)
        draw_glyph(p, QRectF(0, 0, 50, 50), type_name, QColor())
        p.end()
        return image

    mine, default = painted(plugin), painted("no such type")
    disc, empty = (15, 35), (38, 38)   # the declared disc; a spot the default box would fill
    assert mine.pixelColor(*disc).alpha() > 0 and mine.pixelColor(*disc).blue() > mine.pixelColor(*disc).red()
    assert mine.pixelColor(*empty).alpha() == 0 < default.pixelColor(*empty).alpha()


# -- an activation kind from outside -------------------------------------------------------------------
HARDSWISH = "test_hardswish"


@pytest.fixture
def hardswish():
    register_activation(ActivationKind(HARDSWISH, "Hardswish", functions=("torch.nn.functional.hardswish",)))
    yield HARDSWISH
    unregister_activation(HARDSWISH)


def test_a_second_activation_under_a_taken_name_is_refused(hardswish):
    from explorer.blocks.table import DuplicateEntryError

    with pytest.raises(DuplicateEntryError, match="already defined"):
        register_activation(ActivationKind(HARDSWISH, "ReLU"))


def choose_kind_in_inspector(qtbot, node_type: str, kind: str) -> str:
    """Select a ``node_type`` node in the inspector, type ``kind`` into its kind list; the node's kind after."""
    from PySide6.QtGui import QUndoStack
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QComboBox

    from explorer.graph.model import Graph
    from explorer.ui.inspector import Inspector
    from explorer.ui.live_analysis import LiveAnalysis

    g = Graph()
    g.add_node("input", {"shape": [4, 8, 8]}, node_id="input")
    g.add_node(node_type, node_id="node")
    g.connect("input", "node")
    stack, analysis = QUndoStack(), LiveAnalysis(g)
    inspector = Inspector(g, stack, analysis)
    qtbot.addWidget(inspector)
    inspector.show_node("node")
    combo = inspector.findChild(QComboBox, "param_kind")
    assert kind in [combo.itemText(i) for i in range(combo.count())]
    combo.setFocus()
    QTest.keyClicks(combo, kind)
    assert stack.count() == 1  # one undoable edit
    inspector.detach()
    analysis.detach()
    return g.node("node").params["kind"]


def test_the_new_activation_is_offered_in_the_inspector_and_chosen_by_keys(hardswish, qtbot):
    assert choose_kind_in_inspector(qtbot, "activation", hardswish) == hardswish


class CallsHardswish(nn.Module):
    def forward(self, x):
        return F.hardswish(x)


def test_the_new_activation_compiles_imports_and_exports(hardswish):
    import types

    from explorer.export.python_code import python_module
    from explorer.importer import import_module

    torch.manual_seed(0)
    for body in (nn.Hardswish(), CallsHardswish()):
        model = _head(nn.Conv2d(8, 8, 1), body)
        imported = import_module(model, (3, 8, 8))
        kinds = [imported.graph.node(n).params["kind"] for n in imported.graph.topological_order()
                 if imported.graph.node(n).type == "activation"]
        assert kinds == ["relu", hardswish] and not imported.opaque
        compiled = imported.compiled()
        assert any(isinstance(m, nn.Hardswish) for m in compiled.modules())
        assert _same_output(model, imported) < 1e-6
    exported = types.ModuleType("net")  # the standalone module writes it as its torch layer
    exec(compile(python_module(imported.graph).source, "net.py", "exec"), exported.__dict__)
    net = exported.load_compiled(exported.build(), compiled.state_dict()).eval()
    x = torch.randn(2, 3, 8, 8)
    with torch.no_grad():
        assert any(isinstance(m, nn.Hardswish) for m in net.modules()) and torch.allclose(net(x), model(x), atol=1e-6)


# -- a primitive from outside: its own import rule ---------------------------------------------------------
class Negate(BlockType):
    """y = -x, read from ``-x`` and ``x.neg()`` in imported code."""

    name = "test_negate"
    title = "Negate (test)"
    keeps_features = True

    def infer(self, p, in_shapes):
        return tuple(in_shapes[0])

    def build(self, p, in_shapes):
        return _Neg()

    def torch_rules(self):
        def rule(n, ctx):
            return [Step(self.name, {})] if len(n.args) == 1 and not n.kwargs else None
        return TorchRules(functions={operator.neg: rule}, methods={"neg": rule})


class _Neg(nn.Module):
    def forward(self, x):
        return -x


class Negates(nn.Module):
    def forward(self, x):
        return (-x).neg()


def test_import_reads_a_new_primitive_by_its_own_rule():
    from explorer.importer import import_module

    register(Negate)
    try:
        torch.manual_seed(0)
        model = _head(Negates())
        imported = import_module(model, (3, 8, 8))
        types = [imported.graph.node(n).type for n in imported.graph.topological_order()]
        assert types.count(Negate.name) == 2 and not imported.opaque
        assert _same_output(model, imported) < 1e-6
    finally:
        unregister(Negate.name)
    assert import_module(model, (3, 8, 8)).opaque == ["neg", "neg_1"]  # without the type: opaque, as before


# -- a normalisation kind from outside -------------------------------------------------------------------
GROUP2 = "test_group2"


@pytest.fixture
def group_norm():
    register_norm(NormKind(GROUP2, "GroupNorm", channels="num_channels", settings={"num_groups": 2},
                           divides="num_groups", tracks=False))
    yield GROUP2
    unregister_norm(GROUP2)


def test_the_new_norm_is_offered_in_the_inspector(group_norm, qtbot):
    assert choose_kind_in_inspector(qtbot, "batchnorm", group_norm) == group_norm


def test_the_new_norm_compiles_imports_and_refuses_channels_it_cannot_split(group_norm):
    from explorer.importer import import_module
    from explorer.network.inference import analyze

    torch.manual_seed(0)
    model = _head(nn.Conv2d(8, 8, 1), nn.GroupNorm(2, 8))
    imported = import_module(model, (3, 8, 8))
    kinds = [imported.graph.node(n).params["kind"] for n in imported.graph.topological_order()
             if imported.graph.node(n).type == "batchnorm"]
    assert kinds == ["batch", group_norm] and not imported.opaque
    assert any(isinstance(m, nn.GroupNorm) for m in imported.compiled().modules())
    assert _same_output(model, imported) < 1e-5
    assert len(import_module(_head(nn.GroupNorm(4, 8)), (3, 8, 8)).opaque) == 1  # 4 groups: not this kind

    g = imported.graph
    conv = next(n for n in g.topological_order() if g.node(n).type == "conv2d" and g.node(n).params["kernel_size"] == 1)
    g.set_param(conv, "out_channels", 7)
    assert any("does not divide 7" in p.text for p in analyze(g).errors)
