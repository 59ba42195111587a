"""Import from PyTorch: a hand-written torchvision-style ResNet-20 round-trips (same parameter count, same
output with its weights copied), unmappable operations become opaque nodes, weights on disk load into a preset
as a run folder, and the command line and the window reach all of it."""
import sys
import textwrap

import pytest
import torch
from hypothesis import given, strategies as st
from torch import nn
from torch.nn import functional as F

from explorer.cli import main
from explorer.compile import CompileError, compile_graph
from explorer.graph.fileio import dumps_graph, load_graph, loads_graph
from explorer.importer import ImporterError, import_module, import_spec, import_weights
from explorer.importer.weights import pair_by_structure
from explorer.network.inference import analyze
from explorer.train.checkpoint import load_model

SHAPE = (3, 16, 16)  # small: every layer of a CIFAR ResNet still has something to do


pytestmark = pytest.mark.usefixtures("one_thread")   # conftest: torch on one thread for the module


# -- a torchvision-style CIFAR ResNet, written here as people write it --------------------------------------
def conv3x3(cin, cout, stride=1):
    return nn.Conv2d(cin, cout, kernel_size=3, stride=stride, padding=1, bias=False)


class BasicBlock(nn.Module):
    def __init__(self, inplanes, planes, stride=1, option="B"):
        super().__init__()
        self.conv1 = conv3x3(inplanes, planes, stride)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = nn.BatchNorm2d(planes)
        self.option, self.stride, self.extra = option, stride, planes - inplanes
        self.downsample = None
        if option == "B" and (stride != 1 or inplanes != planes):
            self.downsample = nn.Sequential(nn.Conv2d(inplanes, planes, 1, stride, bias=False), nn.BatchNorm2d(planes))

    def shortcut(self, x):
        if self.downsample is not None:
            return self.downsample(x)
        if self.option == "A" and self.stride != 1:  # He et al.'s option A: subsample, append zero channels
            return F.pad(x[:, :, ::self.stride, ::self.stride], (0, 0, 0, 0, 0, self.extra))
        return x

    def forward(self, x):
        identity = self.shortcut(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out += identity
        return self.relu(out)


class ResNet20(nn.Module):
    def __init__(self, num_classes=10, option="B", n=3):
        super().__init__()
        self.conv1 = conv3x3(3, 16)
        self.bn1 = nn.BatchNorm2d(16)
        self.relu = nn.ReLU(inplace=True)
        self.inplanes = 16
        self.layer1 = self._make_layer(16, n, 1, option)
        self.layer2 = self._make_layer(32, n, 2, option)
        self.layer3 = self._make_layer(64, n, 2, option)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(64, num_classes)

    def _make_layer(self, planes, blocks, stride, option):
        layers = [BasicBlock(self.inplanes, planes, stride, option)]
        self.inplanes = planes
        layers += [BasicBlock(planes, planes, 1, option) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        x = torch.flatten(self.avgpool(x), 1)
        return self.fc(x)


def trained_looking(model: nn.Module) -> nn.Module:
    """Random BatchNorm statistics and affine parameters, so a weight left behind would show in the output."""
    g = torch.Generator().manual_seed(0)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.copy_(torch.randn(m.num_features, generator=g) * 0.1)
            m.running_var.copy_(torch.rand(m.num_features, generator=g) + 0.5)
            nn.init.normal_(m.weight, 1.0, 0.1)
            nn.init.normal_(m.bias, 0.0, 0.1)
    return model.eval()


def same_output(a: nn.Module, b: nn.Module, shape=SHAPE) -> float:
    x = torch.randn(4, *shape, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        return float((a.eval()(x) - b.eval()(x)).abs().max())


@pytest.mark.parametrize("option, shortcut", [("B", "auto"), ("A", "zero_pad")])  # auto: projection where needed
def test_resnet20_imports_as_three_stages_with_the_same_count_and_output(option, shortcut):
    torch.manual_seed(0)
    model = trained_looking(ResNet20(option=option))
    imported = import_module(model, SHAPE)
    g = imported.graph
    a = analyze(g)
    assert a.valid and not imported.opaque
    assert a.total.params == sum(p.numel() for p in model.parameters())
    stages = [g.node(n) for n in g.topological_order() if g.node(n).type == "basic"]
    assert [(s.id, s.repeat, s.params["channels"], s.params["stride"]) for s in stages] == [
        ("layer1", 3, 16, 1), ("layer2", 3, 32, 2), ("layer3", 3, 64, 2)]
    assert stages[1].params["shortcut"] == shortcut
    assert same_output(imported.compiled(), model) < 1e-5


class PreActBlock(nn.Module):
    """kuangliu/pytorch-cifar's PreActBlock: BN-ReLU before each conv, the projection sees the
    pre-activated input, nothing after the addition."""

    def __init__(self, inplanes, planes, stride=1, bottleneck=False):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(inplanes)
        if bottleneck:
            width = planes // 4
            self.convs = nn.ModuleList([nn.Conv2d(inplanes, width, 1, bias=False), conv3x3(width, width, stride),
                                        nn.Conv2d(width, planes, 1, bias=False)])
            self.bns = nn.ModuleList([nn.BatchNorm2d(width), nn.BatchNorm2d(width)])
        else:
            self.convs = nn.ModuleList([conv3x3(inplanes, planes, stride), conv3x3(planes, planes)])
            self.bns = nn.ModuleList([nn.BatchNorm2d(planes)])
        if stride != 1 or inplanes != planes:
            self.shortcut = nn.Conv2d(inplanes, planes, 1, stride, bias=False)

    def forward(self, x):
        out = F.relu(self.bn1(x))
        shortcut = self.shortcut(out) if hasattr(self, "shortcut") else x
        out = self.convs[0](out)
        for bn, conv in zip(self.bns, self.convs[1:]):
            out = conv(F.relu(bn(out)))
        return out + shortcut


class PreActResNet(nn.Module):
    def __init__(self, bottleneck=False, n=2, num_classes=10):
        super().__init__()
        widths = (64, 128, 256) if bottleneck else (16, 32, 64)
        self.conv1 = conv3x3(3, 16)
        blocks, cin = [], 16
        for i, w in enumerate(widths):
            for j in range(n):
                blocks.append(PreActBlock(cin, w, 2 if i and not j else 1, bottleneck))
                cin = w
        self.layers = nn.Sequential(*blocks)
        self.bn = nn.BatchNorm2d(cin)
        self.fc = nn.Linear(cin, num_classes)

    def forward(self, x):
        x = self.layers(self.conv1(x))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(F.relu(self.bn(x)), 1), 1))


@pytest.mark.parametrize("bottleneck", [False, True])
def test_pre_activation_blocks_import_as_stages_with_the_same_output(bottleneck):
    """Blocks that end at the Add, with a projection of the pre-activated input, become pre-activation
    stages (they were left as primitives)."""
    torch.manual_seed(0)
    model = trained_looking(PreActResNet(bottleneck))
    imported = import_module(model, SHAPE)
    g = imported.graph
    assert analyze(g).valid and not imported.opaque
    stages = [g.node(n) for n in g.topological_order() if g.node(n).type == "preact"]
    variant = "bottleneck" if bottleneck else "basic"
    widths = (64, 128, 256) if bottleneck else (16, 32, 64)
    assert [(s.repeat, s.params["out_channels"], s.params["stride"], s.params["variant"]) for s in stages] == [
        (2, widths[0], 1, variant), (2, widths[1], 2, variant), (2, widths[2], 2, variant)]
    assert sum(1 for n in g.nodes.values() if n.type == "conv2d") == 1  # only the stem is left a primitive
    assert same_output(imported.compiled(), model) < 1e-5


def test_primitives_only_keeps_every_layer_and_still_matches():
    model = trained_looking(ResNet20(option="A", n=1))
    imported = import_module(model, SHAPE, blocks=False)
    types = [imported.graph.node(n).type for n in imported.graph.topological_order()]
    assert "basic" not in types and types.count("add") == 3 and types.count("zeropad_shortcut") == 2
    assert same_output(imported.compiled(), model) < 1e-5


class Rolled(nn.Module):
    """A model with an operation no block expresses (torch.roll) and a submodule fx cannot follow."""

    class Gate(nn.Module):
        def __init__(self):
            super().__init__()
            self.scale = nn.Linear(8, 8)

        def forward(self, x):
            if x.sum() > 0:  # data-dependent: fx cannot trace through it
                return x
            return -x

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.gate = self.Gate()
        self.head = nn.Linear(8 * 16 * 16, 5)

    def forward(self, x):
        x = torch.roll(F.relu(self.conv(x)), 1, dims=2)
        x = self.gate(x)
        return self.head(x.view(x.size(0), -1))


def test_unmappable_operations_become_opaque_nodes_with_their_shape_and_a_clear_problem():
    imported = import_module(Rolled(), SHAPE)
    g = imported.graph
    assert imported.opaque == ["roll", "gate"]
    roll, gate = g.node("roll"), g.node("gate")
    assert (roll.type, roll.params["op_kind"], roll.params["shape"]) == ("opaque", "function", [8, 16, 16])
    assert (gate.params["op_kind"], gate.params["weights"]) == ("module", 8 * 8 + 8)
    a = analyze(g)
    assert a.output_shape == (5,)  # shapes go on past the opaque nodes
    assert a.total.params == sum(p.numel() for p in Rolled().parameters())
    problems = [p for p in a.errors if p.node_id in ("roll", "gate")]
    assert len(problems) == 2 and "cannot be compiled or trained" in problems[0].text
    assert "replace it with blocks from the palette" in problems[0].text
    assert any("opaque" in n for n in imported.notices)
    with pytest.raises(CompileError, match="roll"):
        compile_graph(g)
    again = loads_graph(dumps_graph(g))  # the file format keeps opaque nodes
    assert again.same_as(g)


def test_a_model_whose_top_level_cannot_be_traced_is_one_clear_error():
    class Branchy(nn.Module):
        def forward(self, x):
            return x if x.mean() > 0 else -x

    with pytest.raises(ImporterError, match="torch.fx cannot trace Branchy.forward"):
        import_module(Branchy(), (3, 4, 4))


# -- the command line --------------------------------------------------------------------------------------
MODEL_FILE = '''
import torch
from torch import nn


def build():
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(4 * 4 * 4, 3))
'''


def test_import_command_writes_a_valid_graph_and_says_it_runs_the_file(tmp_path, capsys):
    src = tmp_path / "net.py"
    src.write_text(MODEL_FILE)
    out = tmp_path / "net.json"
    assert main(["import", f"{src}:build", "--input-shape", "1,8,8", "-o", str(out), "--verify"]) == 0
    captured = capsys.readouterr()
    assert "runs its Python code" in captured.err
    assert "verified: largest output difference 0" in captured.out
    g = load_graph(out)
    assert [g.node(n).type for n in g.topological_order()] == [
        "input", "conv2d", "batchnorm", "activation", "maxpool", "flatten", "linear", "output"]
    assert main(["validate", str(out)]) == 0


@pytest.mark.parametrize("body, spec, words", [
    (MODEL_FILE, "{src}:missing", "has no 'missing'; it defines build"),
    ("raise RuntimeError('no GPU here')\n", "{src}:build", "running {src} raised RuntimeError: no GPU here"),
    ("def build(:\n", "{src}:build", "line 1: syntax error"),
    ("def build():\n    return 3\n", "{src}:build", "returned a int, not a torch.nn.Module"),
    (MODEL_FILE, "{src}", "must name a file or module and a callable"),
    (MODEL_FILE, "no_such_package_xyz.models:resnet18", "no module named 'no_such_package_xyz'"),
])
def test_import_command_refuses_with_one_error_line(tmp_path, capsys, body, spec, words):
    src = tmp_path / "net.py"
    src.write_text(body)
    assert main(["import", spec.format(src=src), "-o", str(tmp_path / "x.json")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("error: ") and words.format(src=src) in err[-1]
    assert "Traceback" not in "".join(err) and not (tmp_path / "x.json").exists()


def test_a_module_path_imports_without_a_file(tmp_path, monkeypatch):
    (tmp_path / "tiny_models.py").write_text(MODEL_FILE)
    monkeypatch.syspath_prepend(str(tmp_path))
    imported = import_spec("tiny_models:build", (1, 8, 8))
    assert analyze(imported.graph).valid
    sys.modules.pop("tiny_models", None)


# -- weights from elsewhere --------------------------------------------------------------------------------
def test_import_weights_writes_a_run_folder_of_the_preset_with_the_same_output(tmp_path, capsys):
    model = trained_looking(ResNet20(option="A"))  # the preset resnet20 is option A
    src = tmp_path / "resnet20.pth"
    torch.save(model.state_dict(), src)
    run = tmp_path / "run"
    assert main(["import-weights", "resnet20", str(src), "-o", str(run)]) == 0
    assert "wrote" in capsys.readouterr().out
    assert {"graph.json", "config.json", "last.pt"} <= {p.name for p in run.iterdir()}
    loaded, graph = load_model(run)
    assert graph.same_as(load_graph(run / "graph.json"))
    assert same_output(loaded, model, (3, 32, 32)) < 1e-5


def test_import_weights_names_the_first_tensor_that_does_not_fit(tmp_path):
    src = tmp_path / "five.pth"
    torch.save(ResNet20(num_classes=5, option="A").state_dict(), src)
    with pytest.raises(ImporterError, match=r"'fc.weight' is 5×64 .* add --num-classes 5"):
        import_weights("resnet20", src, tmp_path / "run")
    assert not (tmp_path / "run").exists()
    torch.save(ResNet20(option="B").state_dict(), src)  # projection shortcuts: another network
    with pytest.raises(ImporterError, match=r"tensor \d+ does not fit: the file's 'layer2.0.downsample.0.weight'"):
        import_weights("resnet20", src, tmp_path / "run")


def test_import_weights_never_runs_code_in_the_file(tmp_path, capsys):
    src = tmp_path / "evil.pth"
    torch.save({"conv1.weight": torch.zeros(1), "hook": Rolled}, src)  # a class: unpickling would import code
    assert main(["import-weights", "resnet20", str(src), "-o", str(tmp_path / "run")]) == 2
    assert "not read (that would run code)" in capsys.readouterr().err


@given(st.lists(st.lists(st.integers(1, 4), min_size=0, max_size=3), min_size=1, max_size=6), st.data())
def test_pairing_by_structure_names_exactly_the_first_mismatch(shapes, data):
    ours = {f"nodes.n{i}.weight": torch.zeros(s) for i, s in enumerate(shapes)}
    bad = data.draw(st.integers(0, len(shapes) - 1))
    theirs = {f"layer{i}.weight": torch.ones(s if i != bad else [*s, 5]) for i, s in enumerate(shapes)}
    with pytest.raises(ImporterError, match=rf"tensor {bad + 1} does not fit: the file's 'layer{bad}.weight'"):
        pair_by_structure(theirs, ours)
    theirs[f"layer{bad}.weight"] = torch.ones(shapes[bad])
    filled = pair_by_structure(theirs, ours)
    assert list(filled) == list(ours) and all(bool((t == 1).all()) for t in filled.values())


# -- the window --------------------------------------------------------------------------------------------
class FakeImportDialogs:
    def __init__(self, **answers):
        self.answers, self.asked = answers, []

    def __getattr__(self, name):
        def ask(*args):
            self.asked.append(name)
            return self.answers.get(name, "")
        return ask


def _click_file_menu_item(qtbot, window, text):
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    menu = window.menuBar().actions()[0].menu()
    action = next(a for a in menu.actions() if a.text().replace("&", "") == text)
    menu.popup(window.mapToGlobal(window.rect().center()))
    qtbot.waitUntil(menu.isVisible)
    QTest.mouseClick(menu, Qt.LeftButton, pos=menu.actionGeometry(action).center())


def test_window_imports_a_model_only_after_the_run_notice_is_accepted(make_window, qtbot, tmp_path):
    src = tmp_path / "net.py"
    src.write_text(MODEL_FILE)
    w = make_window()
    before = w.document.graph.copy()
    w.imports.dialogs = FakeImportDialogs(model_file=str(src), callable_name="build", input_shape="1,8,8",
                                          confirm_run=False)
    _click_file_menu_item(qtbot, w, "Import PyTorch Model…")
    qtbot.waitUntil(lambda: "confirm_run" in w.imports.dialogs.asked)
    assert w.document.graph.same_as(before)  # cancelled: nothing ran, nothing changed
    w.imports.dialogs = FakeImportDialogs(model_file=str(src), callable_name="build", input_shape="1,8,8",
                                          confirm_run=True)
    _click_file_menu_item(qtbot, w, "Import PyTorch Model…")
    qtbot.waitUntil(lambda: "linear" in {n.type for n in w.document.graph.nodes.values()})
    assert w.document.dirty and "imported net.py:build" in w.statusBar().currentMessage()


def test_window_imports_weights_into_a_run_folder_and_opens_it(make_window, qtbot, tmp_path):
    src = tmp_path / "r20.pth"
    torch.save(ResNet20(option="A").state_dict(), src)
    w = make_window()
    w.imports.dialogs = FakeImportDialogs(weights_file=str(src), preset="resnet20", run_folder=str(tmp_path / "run"))
    _click_file_menu_item(qtbot, w, "Import Weights…")
    qtbot.waitUntil(lambda: (tmp_path / "run" / "last.pt").exists() and w.document.path is not None)
    assert w.document.path.name == "graph.json" and "stage1" in w.document.graph


def test_window_asks_before_it_replaces_a_run_folder_with_imported_weights(make_window, qtbot, tmp_path):
    src, run = tmp_path / "r20.pth", tmp_path / "run"
    torch.save(ResNet20(option="A").state_dict(), src)
    run.mkdir()
    (run / "last.pt").write_bytes(b"a 40-epoch run")
    (run / "metrics.csv").write_text("epoch,loss\n")
    w = make_window()
    w.imports.dialogs = FakeImportDialogs(weights_file=str(src), preset="resnet20", run_folder=str(run),
                                          confirm_replace=False)
    _click_file_menu_item(qtbot, w, "Import Weights…")
    qtbot.waitUntil(lambda: "confirm_replace" in w.imports.dialogs.asked)
    assert (run / "last.pt").read_bytes() == b"a 40-epoch run" and "error" not in w.imports.dialogs.asked
    w.imports.dialogs = FakeImportDialogs(weights_file=str(src), preset="resnet20", run_folder=str(run),
                                          confirm_replace=True)
    _click_file_menu_item(qtbot, w, "Import Weights…")
    qtbot.waitUntil(lambda: w.document.path is not None and w.document.path.parent == run)
    assert (run / "last.pt").read_bytes() != b"a 40-epoch run" and not (run / "metrics.csv").exists()
